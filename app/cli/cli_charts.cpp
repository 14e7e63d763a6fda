#include "cli_charts.hpp"

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <stdexcept>

#include <unistd.h>

#include "cli_io.hpp"
#include "io/file_util.hpp"

#ifdef KS_HAVE_CHARTS
#include <QApplication>
#include <QBuffer>
#include <QImage>
#include <QPageSize>
#include <QPdfWriter>
#include <QTextDocument>
#include <QUrl>

#include "charts/chart_panel.hpp"
#endif

namespace ks::cli {

bool chartsAvailable() {
#ifdef KS_HAVE_CHARTS
    return true;
#else
    return false;
#endif
}

#ifdef KS_HAVE_CHARTS
namespace {

/// Headless: charts and typesetting need a GUI application object, never a display. The one made here lives
/// for the caller's call only, so nothing of Qt outlives main().
std::unique_ptr<QApplication> guiApplication() {
    if (QApplication::instance()) return nullptr;
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    if (qEnvironmentVariableIsEmpty("XDG_RUNTIME_DIR")) {
        const std::filesystem::path runtime = std::filesystem::temp_directory_path() / ("runtime-" + std::to_string(getuid()));
        std::error_code ec;
        std::filesystem::create_directories(runtime, ec);
        std::filesystem::permissions(runtime, std::filesystem::perms::owner_all, ec);
        qputenv("XDG_RUNTIME_DIR", QByteArray::fromStdString(runtime.string()));
    }
    // The offscreen platform's notes about window hints are noise on a terminal; keep the rest.
    static const QtMessageHandler previous =
        qInstallMessageHandler([](QtMsgType type, const QMessageLogContext& context, const QString& message) {
            if (message.contains(QLatin1String("propagateSizeHints")) || message.startsWith(QLatin1String("QStandardPaths:")))
                return;
            if (previous) previous(type, context, message);
        });
    static int argc = 1;
    static char name[] = "kernelscope-cli";
    static char* argv[] = {name, nullptr};
    return std::make_unique<QApplication>(argc, argv);
}

}  // namespace
#endif

void writeChartPng(const study::Table& table, const study::ChartSpec& spec, const std::string& path) {
#ifdef KS_HAVE_CHARTS
    const auto app = guiApplication();
    ui::ChartPanel::renderToPng(table, spec, QString::fromStdString(path));
#else
    (void)table, (void)spec;
    throw std::runtime_error("cannot draw " + path + ": this kernelscope-cli was built without the GUI library (KS_BUILD_GUI=OFF)");
#endif
}

void writeFigure(const std::string& dir, const study::Table& csvTable, const study::Table& chartTable,
                 const study::ChartSpec& spec) {
    const std::string stem = dir + "/" + spec.id;
    writeText(stem + ".csv", csvTable.toCsv({spec.title, spec.caption}));
    std::cout << stem << ".csv\n";
    if (chartsAvailable()) {
        writeChartPng(chartTable, spec, stem + ".png");
        std::cout << stem << ".png\n";
    } else {
        std::cerr << "kernelscope-cli: built without the GUI library, no PNG written\n";
    }
}

void writePdf(const std::string& html, const std::string& dir, const std::vector<std::string>& images, const std::string& path) {
#ifdef KS_HAVE_CHARTS
    const auto app = guiApplication();
    QTextDocument document;
    for (const std::string& name : images) {
        const QString file = QString::fromStdString(dir + "/" + name);
        QImage image(file);
        if (image.isNull()) throw std::runtime_error("cannot typeset " + path + ": cannot read the figure " + file.toStdString());
        document.addResource(QTextDocument::ImageResource, QUrl(QString::fromStdString(name)), image);
    }
    document.setHtml(QString::fromStdString(html));
    QBuffer buffer;
    buffer.open(QIODevice::WriteOnly);
    {
        QPdfWriter writer(&buffer);
        writer.setPageSize(QPageSize(QPageSize::A4));
        writer.setPageMargins(QMarginsF(18, 18, 18, 18), QPageLayout::Millimeter);
        writer.setTitle(QStringLiteral("KernelScope report"));
        writer.setCreator(QStringLiteral("kernelscope-cli report"));
        document.print(&writer);
    }
    io::writeFileAtomically(path, std::string_view(buffer.data().constData(), std::size_t(buffer.data().size())));
#else
    (void)html, (void)dir, (void)images;
    throw std::runtime_error("cannot typeset " + path + ": this kernelscope-cli was built without the GUI library (KS_BUILD_GUI=OFF)");
#endif
}

void ensureDirectory(const std::string& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec || !std::filesystem::is_directory(dir)) throw std::runtime_error("cannot create folder '" + dir + "': " + ec.message());
}

TerminalProgress::TerminalProgress(std::string label) : label_(std::move(label)), enabled_(isatty(fileno(stderr))) {}

TerminalProgress::~TerminalProgress() {
    if (enabled_ && last_ >= 0) std::cerr << '\n';
}

void TerminalProgress::operator()(double fraction) {
    if (!enabled_) return;
    const int percent = static_cast<int>(fraction * 100);
    if (percent == last_) return;
    last_ = percent;
    const int width = 30, filled = percent * width / 100;
    std::cerr << '\r' << label_ << " [" << std::string(filled, '#') << std::string(width - filled, ' ') << "] " << percent << "%"
              << std::flush;
}

}  // namespace ks::cli
