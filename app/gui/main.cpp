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
    parser.addPositionalArgument(QStringLiteral("files"),
                                 QStringLiteral("Files to open, as File > Open would: ONNX models, weight files, MNIST digits, "
                                                "images, .npy arrays."),
                                 QStringLiteral("[files...]"));
    parser.process(app);

    ks::ui::MainWindow window;
    // Files named on the command line ("Open with KernelScope"): each to the page that opens it; one that cannot be
    // opened is reported (and shown on its page) and the others still open.
    bool allOpened = true;
    for (const QString& path : parser.positionalArguments()) {
        QString error;
        if (!window.openFile(path, &error)) {
            QTextStream(stderr) << "kernelscope: " << error << '\n';
            allOpened = false;
        }
    }
    if (parser.isSet(screenshot)) {
        try {
            window.resize(1280, 800);
            for (const QString& file : window.saveScreenshots(parser.value(screenshot)))
                QTextStream(stdout) << file << '\n';
            return allOpened ? 0 : 1;
        } catch (const std::exception& e) {
            QTextStream(stderr) << "kernelscope: " << e.what() << '\n';
            return 1;
        }
    }
    window.show();
    return app.exec();
}
