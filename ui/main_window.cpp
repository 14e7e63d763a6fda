#include "main_window.hpp"
#include "theme.hpp"

#include <QAction>
#include <QBuffer>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QMessageBox>
#include <QMimeData>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QHBoxLayout>
#include <QKeySequence>
#include <QListWidget>
#include <QMenuBar>
#include <QPixmap>
#include <QActionGroup>
#include <QSettings>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>

#include <stdexcept>

#include "about_dialog.hpp"
#include "io/file_util.hpp"
#include "charts/chart_panel.hpp"
#include "pages/accumulation_page.hpp"
#include "pages/investigation_page.hpp"
#include "pages/layers_page.hpp"
#include "qt_text.hpp"
#include "pages/low_rank_page.hpp"
#include "pages/network_page.hpp"
#include "pages/precision_page.hpp"
#include "pages/runtime_page.hpp"
#include "task_progress.hpp"

namespace ks::ui {

namespace {

/// A warning whose text quotes file names and names read from files: shown as plain text, never as HTML.
void warnPlainText(QWidget* parent, const QString& title, const QString& text) {
    QMessageBox box(QMessageBox::Warning, title, text, QMessageBox::Ok, parent);
    box.setTextFormat(Qt::PlainText);
    box.exec();
}

}  // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent), navigation_(new QListWidget), stack_(new QStackedWidget), progress_(new TaskProgress) {
    setWindowTitle(QStringLiteral("KernelScope"));
    setObjectName(QStringLiteral("MainWindow"));
    // The theme chosen last time, before any widget is drawn (System leaves the desktop's own alone).
    if (const Theme saved = themeFromName(QSettings().value(QStringLiteral("view/theme")).toString()); saved != currentTheme())
        applyTheme(saved);
    setAcceptDrops(true);

    auto* splitter = new QSplitter(this);
    splitter->setObjectName(QStringLiteral("mainSplitter"));
    navigation_->setObjectName(QStringLiteral("navigation"));
    navigation_->setToolTip(tr("The investigations (Ctrl+1 … Ctrl+5)"));
    splitter->addWidget(navigation_);
    splitter->addWidget(stack_);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({150, 1050});
    setCentralWidget(splitter);

    addPage(new PrecisionPage);
    addPage(new LowRankPage);
    addPage(new NetworkPage);
    addPage(new RuntimePage);
    addPage(new AccumulationPage);
    addPage(new LayersPage);
    connect(navigation_, &QListWidget::currentRowChanged, stack_, &QStackedWidget::setCurrentIndex);

    statusBar()->addPermanentWidget(progress_);
    buildMenus();
    restoreSettings();
}

void MainWindow::addPage(InvestigationPage* page) {
    page->setObjectName(QStringLiteral("page") + page->title().remove(QLatin1Char(' ')));
    pages_.append(page);
    page->setTaskProgress(progress_);
    connect(page, &InvestigationPage::statusMessage, this, [this](const QString& m) { statusBar()->showMessage(m, 8000); });
    stack_->addWidget(page);
    auto* item = new QListWidgetItem(page->title(), navigation_);
    item->setToolTip(page->summary());
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open = file->addAction(tr("&Open…"), this, &MainWindow::openFileDialog);
    open->setShortcut(QKeySequence::Open);
    open->setToolTip(tr("Open weights (.pt, .pth, .safetensors, .npz), digits (MNIST IDX) or an image/matrix (.png, .jpg, .npy)"));
    QAction* exportAll = file->addAction(tr("&Export all charts…"), this, &MainWindow::exportAllChartsDialog);
    exportAll->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E));
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    for (int i = 0; i < pages_.size(); ++i) {
        QAction* show = view->addAction(pages_[i]->title(), this, [this, i] { showPage(i); });
        show->setShortcut(QKeySequence(Qt::CTRL | static_cast<Qt::Key>(Qt::Key_1 + i)));
    }

    view->addSeparator();
    QMenu* themes = view->addMenu(tr("&Theme"));
    auto* themeGroup = new QActionGroup(this);
    for (const auto& [theme, text] : {std::pair{Theme::System, tr("&System")}, std::pair{Theme::Light, tr("&Light")},
                                      std::pair{Theme::Dark, tr("&Dark")}}) {
        QAction* action = themes->addAction(text);
        action->setCheckable(true);
        action->setChecked(theme == currentTheme());
        action->setData(themeName(theme));
        themeGroup->addAction(action);
        connect(action, &QAction::triggered, this, [theme] {
            applyTheme(theme);
            QSettings().setValue(QStringLiteral("view/theme"), themeName(theme));
        });
    }
    themeActions_ = themeGroup->actions();

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About KernelScope"), this, &MainWindow::showAbout);
    help->addAction(tr("About &Qt"), qApp, &QApplication::aboutQt);
}

InvestigationPage* MainWindow::pageForFile(const QString& path) const {
    const QString name = QFileInfo(path).fileName().toLower();
    // Longest matching suffix wins ("idx3-ubyte.gz" before "gz").
    InvestigationPage* best = nullptr;
    qsizetype bestLength = 0;
    for (InvestigationPage* page : pages_)
        for (const QString& suffix : page->openableSuffixes())
            if (name.endsWith(QLatin1Char('.') + suffix) || name.endsWith(suffix)) {
                if (suffix.size() > bestLength) best = page, bestLength = suffix.size();
            }
    return best;
}

bool MainWindow::openFile(const QString& path, QString* error) {
    InvestigationPage* page = pageForFile(path);
    if (!page) {
        QStringList known;
        for (InvestigationPage* p : pages_) known << p->openableSuffixes();
        if (error)
            *error = known.isEmpty() ? tr("%1: no page opens files yet").arg(QFileInfo(path).fileName())
                                     : tr("%1: unknown file type (KernelScope opens %2)").arg(QFileInfo(path).fileName(), known.join(QStringLiteral(", ")));
        return false;
    }
    showPage(int(pages_.indexOf(page)));
    return page->openFile(path, error);
}

void MainWindow::openFileDialog() {
    QStringList patterns;
    for (InvestigationPage* p : pages_)
        for (const QString& s : p->openableSuffixes()) patterns << QStringLiteral("*") + (s.contains(QLatin1Char('.')) || s.contains(QLatin1Char('-')) ? s : QStringLiteral(".") + s);
    QSettings settings;
    const QString path = QFileDialog::getOpenFileName(this, tr("Open"), settings.value(QStringLiteral("paths/open")).toString(),
                                                      tr("Files KernelScope opens (%1);;All files (*)").arg(patterns.join(QLatin1Char(' '))));
    if (path.isEmpty()) return;
    settings.setValue(QStringLiteral("paths/open"), QFileInfo(path).absolutePath());
    QString error;
    if (!openFile(path, &error)) warnPlainText(this, tr("Cannot open file"), error);
}

QStringList MainWindow::exportAllCharts(const QString& directory, const ExportImageOptions& options) {
    if (!QDir().mkpath(directory)) throw std::runtime_error("cannot create folder " + directory.toStdString());
    QStringList written;
    for (InvestigationPage* page : pages_) {
        page->waitForIdle();
        for (ChartPanel* chart : page->charts()) {
            QString stem = q(chart->spec().id);
            if (stem.isEmpty()) stem = page->title().toLower().remove(QLatin1Char(' '));
            const QString base = QDir(directory).filePath(stem);
            chart->exportPng(base + QStringLiteral(".png"), options);
            chart->exportCsv(base + QStringLiteral(".csv"));
            written << base + QStringLiteral(".png") << base + QStringLiteral(".csv");
        }
    }
    return written;
}

void MainWindow::exportAllChartsDialog() {
    QSettings settings;
    const QString last = settings.value(QStringLiteral("paths/export"), QDir::homePath()).toString();
    ExportOptionsDialog dialog(ExportImageOptions::load(), &last, this);
    if (dialog.exec() != QDialog::Accepted || dialog.folder().isEmpty()) return;
    const QString dir = dialog.folder();
    settings.setValue(QStringLiteral("paths/export"), dir);
    dialog.options().save();
    try {
        const QStringList files = exportAllCharts(dir, dialog.options());
        statusBar()->showMessage(tr("Exported %1 files into %2").arg(files.size()).arg(dir), 8000);
    } catch (const std::exception& e) {
        warnPlainText(this, tr("Export failed"), q(e.what()));
    }
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    const QList<QUrl> urls = event->mimeData()->urls();
    if (urls.size() == 1 && urls.front().isLocalFile() && pageForFile(urls.front().toLocalFile())) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
    const QString path = event->mimeData()->urls().front().toLocalFile();
    QString error;
    if (!openFile(path, &error)) warnPlainText(this, tr("Cannot open file"), error);
    event->acceptProposedAction();
}

void MainWindow::showPage(int index) { navigation_->setCurrentRow(index); }
int MainWindow::currentPage() const { return stack_->currentIndex(); }

void MainWindow::showAbout() {
    AboutDialog dialog(this);
    dialog.exec();
}

void MainWindow::restoreSettings() {
    QSettings settings;
    if (!restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray())) resize(1200, 800);
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
    showPage(settings.value(QStringLiteral("window/page"), 0).toInt());
}

void MainWindow::closeEvent(QCloseEvent* event) {
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    settings.setValue(QStringLiteral("window/page"), currentPage());
    event->accept();
}

QStringList MainWindow::saveScreenshots(const QString& directory) {
    if (!QDir().mkpath(directory)) throw std::runtime_error("cannot create folder " + directory.toStdString());
    QStringList written;
    const int previous = currentPage();
    for (int i = 0; i < pages_.size(); ++i) {
        showPage(i);
        pages_[i]->waitForIdle();
        QApplication::processEvents();
        const QPixmap image = grab();
        const QString path = QDir(directory).filePath(QStringLiteral("page-%1.png").arg(pages_[i]->title().toLower().remove(QLatin1Char(' '))));
        QByteArray png;
        QBuffer buffer(&png);
        buffer.open(QIODevice::WriteOnly);
        if (!image.save(&buffer, "PNG")) throw std::runtime_error("cannot encode " + path.toStdString() + " as PNG");
        io::writeFileAtomically(QFile::encodeName(path).toStdString(),
                                std::string_view(png.constData(), std::size_t(png.size())));
        written << path;
    }
    showPage(previous);
    return written;
}

}  // namespace ks::ui
