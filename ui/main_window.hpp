#pragma once
#include <QMainWindow>
#include <QStringList>

#include "charts/export_options.hpp"

class QAction;
class QListWidget;
class QStackedWidget;

namespace ks::ui {

class InvestigationPage;
class TaskProgress;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);

    QList<InvestigationPage*> pages() const { return pages_; }
    TaskProgress* taskProgress() const { return progress_; }
    /// View ▸ Theme's choices (System, Light, Dark), checkable; their data() is the theme's name.
    QList<QAction*> themeActions() const { return themeActions_; }
    void showPage(int index);
    int currentPage() const;

    /// One PNG per page into `directory` (page-<name>.png), rendered without showing the window.
    /// Returns the files written; throws std::runtime_error naming the file that could not be written.
    QStringList saveScreenshots(const QString& directory);

    /// Every chart of every page as PNG (and its data as CSV) into `directory`, each at `options`
    /// whatever the window's size and whether or not its page was opened; returns the files.
    /// Throws std::runtime_error naming the file that could not be written.
    QStringList exportAllCharts(const QString& directory, const ExportImageOptions& options = ExportImageOptions::load());
    /// Open a file on the page that accepts its suffix (switching to it). False with *error otherwise.
    bool openFile(const QString& path, QString* error);

public Q_SLOTS:
    void showAbout();

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void buildMenus();
    void addPage(InvestigationPage* page);
    void restoreSettings();
    void openFileDialog();
    void exportAllChartsDialog();
    InvestigationPage* pageForFile(const QString& path) const;

    QListWidget* navigation_;
    QStackedWidget* stack_;
    TaskProgress* progress_;
    QList<InvestigationPage*> pages_;
    QList<QAction*> themeActions_;
};

}  // namespace ks::ui
