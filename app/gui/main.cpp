// kernelscope: the desktop app.
#include <QApplication>
#include <QCommandLineParser>
#include <QTextStream>

#include <exception>

#include "base/version.hpp"
#include "main_window.hpp"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("KernelScope"));
    QApplication::setApplicationName(QStringLiteral("kernelscope"));
    QApplication::setApplicationVersion(QString::fromStdString(ks::versionString()));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("KernelScope: accuracy and speed of DNN primitives at any precision"));
    parser.addHelpOption();
    parser.addVersionOption();
    QCommandLineOption screenshot(QStringLiteral("screenshot"),
                                  QStringLiteral("Write one PNG per page into <dir> and exit (works offscreen)."),
                                  QStringLiteral("dir"));
    parser.addOption(screenshot);
    parser.process(app);

    ks::ui::MainWindow window;
    if (parser.isSet(screenshot)) {
        try {
            window.resize(1280, 800);
            for (const QString& file : window.saveScreenshots(parser.value(screenshot)))
                QTextStream(stdout) << file << '\n';
            return 0;
        } catch (const std::exception& e) {
            QTextStream(stderr) << "kernelscope: " << e.what() << '\n';
            return 1;
        }
    }
    window.show();
    return app.exec();
}
