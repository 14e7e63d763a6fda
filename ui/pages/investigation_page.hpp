#pragma once
// One page of the main window per investigation of the assignment.
#include <QList>
#include <QWidget>

namespace ks::ui {

class ChartPanel;
class TaskProgress;

class InvestigationPage : public QWidget {
    Q_OBJECT
public:
    InvestigationPage(QString title, QString summary, QWidget* parent = nullptr);
    QString title() const { return title_; }
    QString summary() const { return summary_; }

    /// The page's charts, for File ▸ Export all charts.
    virtual QList<ChartPanel*> charts() const { return {}; }
    /// Where the page's long work shows its progress and can be cancelled.
    virtual void setTaskProgress(TaskProgress*) {}
    /// Blocks until the page's background work is done (screenshots, tests).
    virtual void waitForIdle() {}

    /// File suffixes (lower case, no dot) this page opens; File ▸ Open and drag-and-drop dispatch by them.
    virtual QStringList openableSuffixes() const { return {}; }
    /// Open a file. On failure: false, *error names the problem, and the page keeps its previous state.
    virtual bool openFile(const QString& path, QString* error);

Q_SIGNALS:
    /// A message for the status bar (errors are also shown on the page itself).
    void statusMessage(const QString& message);

private:
    QString title_;
    QString summary_;
};

/// A page whose investigation is described but not interactive yet.
class DescriptionPage : public InvestigationPage {
    Q_OBJECT
public:
    DescriptionPage(QString title, QString summary, QWidget* parent = nullptr);
};

}  // namespace ks::ui
