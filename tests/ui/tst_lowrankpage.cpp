// The low-rank page draws what core/study computes; the rank slider moves the marker and the
// picture; a file that cannot be used changes nothing and says why.
#include <QComboBox>
#include <QLabel>
#include <QSettings>
#include <QSlider>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include "test_support.hpp"

#include "charts/chart_panel.hpp"
#include "io/npy.hpp"
#include "io/ppm.hpp"
#include "pages/low_rank_page.hpp"
#include "study/findings.hpp"
#include "widgets/findings_view.hpp"
#include "widgets/tensor_image.hpp"

using namespace ks;

namespace {

QStringList sentencesOf(const ks::study::Findings& findings) {
    QStringList out;
    for (const auto& f : findings) out << QString::fromStdString(f.text);
    return out;
}

void selectInput(ui::LowRankPage& page, const QString& name) {
    const int index = page.inputBox()->findData(name);
    QVERIFY(index >= 0);
    page.inputBox()->setCurrentIndex(index);
    page.waitForIdle();
    QVERIFY(page.analysis());
    QCOMPARE(QString::fromStdString(page.analysis()->input().name), name);
}

}  // namespace

class tst_LowRankPage : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("KernelScopeTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_lowrankpage"));
        QSettings().clear();
    }

    void chartMatchesStudy() {
        ui::LowRankPage page;
        selectInput(page, QStringLiteral("weights"));
        const study::RankAnalysis expected(study::makeRankInput(study::RankInputKind::Weights));
        const auto points = page.errorChart()->seriesPoints(QStringLiteral("weights"));
        QCOMPARE(points.size(), qsizetype(128));
        for (std::int64_t r : {1, 10, 64, 128})
            KS_COMPARE_EXACT(points[qsizetype(r - 1)].y(), expected.relativeError(r));
        QCOMPARE(page.rankSlider()->maximum(), 128);
        QCOMPARE(page.spectrumChart()->seriesPoints(QStringLiteral("weights")).first().y(), expected.singularValues().front());
        // The speed-up chart has both estimates.
        const QStringList estimates = page.speedupChart()->seriesNames();
        QVERIFY(estimates.contains(QStringLiteral("FLOP model")) && estimates.contains(QStringLiteral("measured")));
    }

    // Issue 17: findings in words under the error chart (the energy thresholds and, for the photo as pixels × RGB,
    // why its spectrum ends at 3) and under the speed-up chart, citing the rows of the chart's own CSV.
    void findingsUnderTheCharts() {
        QSettings().clear();
        ui::LowRankPage page;
        selectInput(page, QStringLiteral("photo"));
        page.imageViewBox()->setCurrentIndex(page.imageViewBox()->findData(QStringLiteral("pixels")));
        page.waitForIdle();
        QCoreApplication::processEvents();
        const QStringList shown = page.errorChart()->findings()->sentences();
        const study::RankAnalysis& a = *page.analysis();
        QCOMPARE(shown, sentencesOf(study::rankFindings(page.errorChart()->table(), {{a.input().name, a.rows(), a.cols()}})));
        QVERIFY2(shown.join(QLatin1Char('\n')).contains(QStringLiteral("spectrum ends at 3 singular values")), qPrintable(shown.join(QLatin1Char('\n'))));
        // The speed-up findings cite the chart's long table: each rank's FLOP-model and measured rows.
        QTRY_VERIFY_WITH_TIMEOUT(!page.speedupChart()->findings()->sentences().isEmpty(), 60000);
        const QString speed = page.speedupChart()->findings()->text();
        QVERIFY2(speed.contains(QStringLiteral("The FLOP model breaks even at rank")), qPrintable(speed));
        QVERIFY2(speed.contains(QStringLiteral("of rank-speedup.csv")), qPrintable(speed));
        // Another input: the findings follow.
        selectInput(page, QStringLiteral("gaussian"));
        page.waitForIdle();
        QCoreApplication::processEvents();
        QVERIFY(page.errorChart()->findings()->sentences().front().startsWith(QStringLiteral("gaussian keeps 90 %")));
    }

    // Issue 17: "the speed-up chart always shows 512×512·512×128 whatever the input". The input is B of a product
    // with a batch of 512 rows; its shape is timed, and another input's shape is timed again.
    void speedupFollowsTheInputsShape() {
        QSettings().clear();
        ui::LowRankPage page;
        selectInput(page, QStringLiteral("weights"));  // fc2: 128 × 512
        QTRY_VERIFY_WITH_TIMEOUT(page.speedupChart()->staleNote().isEmpty() && page.speedupChart()->table().rowCount() > 0, 60000);
        QCOMPARE(QString::fromStdString(page.speedupChart()->spec().title), QStringLiteral("Speed-up vs rank: (512×128)·(128×512), B factored"));
        const auto ranks = page.speedupChart()->table().numbers("rank");
        QCOMPARE(*std::max_element(ranks.begin(), ranks.end()), 128.0);
        selectInput(page, QStringLiteral("mnist"));  // 512 × 784
        QTRY_VERIFY_WITH_TIMEOUT(page.speedupChart()->staleNote().isEmpty() &&
                                     page.speedupChart()->spec().title == "Speed-up vs rank: (512×512)·(512×784), B factored",
                                 60000);
    }

    // Issue 17: an opened image was held twice (as read, and as its pixels × channels matrix). Now once.
    void openedImageIsHeldOnce() {
        QTemporaryDir dir;
        QImage picture(40, 30, QImage::Format_RGB32);
        for (int y = 0; y < 30; ++y)
            for (int x = 0; x < 40; ++x) picture.setPixel(x, y, qRgb(x * 6, y * 8, (x + y) * 3));
        const QString path = dir.filePath(QStringLiteral("p.png"));
        QVERIFY(picture.save(path));
        ui::LowRankPage page;
        page.waitForIdle();
        QString error;
        QVERIFY2(page.openFile(path, &error), qPrintable(error));
        page.waitForIdle();
        QCOMPARE(page.heldUserNumbers(), std::size_t(30 * 40 * 3));
        QCOMPARE(page.analysis()->rows(), 30 * 40);  // analysed as pixels × RGB, from the one copy
        page.imageViewBox()->setCurrentIndex(page.imageViewBox()->findData(QStringLiteral("grey")));
        page.waitForIdle();
        QCOMPARE(page.analysis()->rows(), 30);
        QCOMPARE(page.heldUserNumbers(), std::size_t(30 * 40 * 3));
        page.imageViewBox()->setCurrentIndex(page.imageViewBox()->findData(QStringLiteral("pixels")));
        page.waitForIdle();
    }

    void sliderMovesMarkerAndReconstruction() {
        ui::LowRankPage page;
        selectInput(page, QStringLiteral("photo"));
        QSlider* slider = page.rankSlider();
        QCOMPARE(slider->maximum(), 3);
        slider->setValue(1);
        page.waitForIdle();
        KS_COMPARE_EXACT(page.errorChart()->spec().currentX.value(), 1.0);
        const QImage rank1 = page.reconstructionImage()->image();
        QCOMPARE(rank1.size(), QSize(451, 300));
        slider->setFocus();
        QTest::keyClick(slider, Qt::Key_Right);  // keyboard-operable
        QCOMPARE(slider->value(), 2);
        KS_COMPARE_EXACT(page.errorChart()->spec().currentX.value(), 2.0);
        page.waitForIdle();
        const QImage rank2 = page.reconstructionImage()->image();
        QVERIFY(rank2 != rank1);
        QVERIFY(page.rankLabel()->text().contains(QStringLiteral("rank 2")));
        // Rank 3 is the photo itself.
        slider->setValue(3);
        page.waitForIdle();
        QCOMPARE(page.reconstructionImage()->image().convertToFormat(QImage::Format_RGB32),
                 page.originalImage()->image().convertToFormat(QImage::Format_RGB32));
    }

    // Issue 17: the photo (and an opened image) was analysed only as pixels × RGB, so the slider ended at
    // 3. As the grey H × W picture its ranks go to min(H, W), and the pictures are that grey image.
    void imageAsItsPicture() {
        QSettings().clear();
        ui::LowRankPage page;
        selectInput(page, QStringLiteral("photo"));
        QVERIFY(page.imageViewBox()->isEnabled());
        QCOMPARE(page.rankSlider()->maximum(), 3);
        page.imageViewBox()->setCurrentIndex(page.imageViewBox()->findData(QStringLiteral("grey")));
        QVERIFY(page.errorChart()->staleNote() == QStringLiteral("updating…") || page.analysis()->rows() == 300);
        page.waitForIdle();
        const TensorD photo = io::embeddedPhoto();
        const study::RankAnalysis expected(study::imageRankInput("photo", photo, study::ImageMatrix::Grey));
        QCOMPARE(page.analysis()->rows(), photo.dim(0));
        QCOMPARE(page.analysis()->cols(), photo.dim(1));
        QCOMPARE(page.rankSlider()->maximum(), int(std::min(photo.dim(0), photo.dim(1))));
        QVERIFY(page.errorChart()->staleNote().isEmpty());
        KS_COMPARE_EXACT(page.spectrumChart()->seriesPoints(QStringLiteral("photo (grey)")).first().y(),
                         expected.singularValues().front());
        QCOMPARE(page.originalImage()->image().size(), QSize(int(photo.dim(1)), int(photo.dim(0))));
        const QImage grey = page.originalImage()->image();
        QCOMPARE(grey.pixelColor(10, 10).red(), grey.pixelColor(10, 10).blue());  // a grey picture
        // A non-image input has no view to choose.
        selectInput(page, QStringLiteral("gaussian"));
        QVERIFY(!page.imageViewBox()->isEnabled());
        page.imageViewBox()->setCurrentIndex(page.imageViewBox()->findData(QStringLiteral("pixels")));
    }

    void unusableFileChangesNothing_data() {
        QTest::addColumn<QString>("fileName");
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("expected");
        QTest::newRow("corrupt npy") << QStringLiteral("bad.npy") << QByteArray("\x93NUMPY\x01\x00garbage", 15) << QStringLiteral("bad.npy");
        QTest::newRow("corrupt png") << QStringLiteral("bad.png") << QByteArray("\x89PNG\r\n\x1a\nnot really") << QStringLiteral("bad.png");
        QTest::newRow("4-d npy") << QStringLiteral("cube.npy") << QByteArray() << QStringLiteral("cannot be studied");
    }
    void unusableFileChangesNothing() {
        QFETCH(QString, fileName);
        QFETCH(QByteArray, content);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        const QString path = dir.filePath(fileName);
        if (content.isEmpty()) {
            io::writeNpy(path.toStdString(), TensorF({2, 2, 2, 2}, 1.0f));
        } else {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(content);
        }
        ui::LowRankPage page;
        selectInput(page, QStringLiteral("weights"));
        page.rankSlider()->setValue(17);
        page.waitForIdle();
        const int inputs = page.inputBox()->count(), current = page.inputBox()->currentIndex();
        const auto analysis = page.analysis();
        const QString csv = QString::fromStdString(page.errorChart()->table().toCsv());

        QString error;
        QVERIFY(!page.openFile(path, &error));
        QVERIFY2(error.contains(expected), qPrintable(error));
        QCOMPARE(page.messageLabel()->text(), error);
        page.waitForIdle();
        QCOMPARE(page.inputBox()->count(), inputs);
        QCOMPARE(page.inputBox()->currentIndex(), current);
        QCOMPARE(page.analysis(), analysis);
        QCOMPARE(page.rankSlider()->value(), 17);
        QCOMPARE(QString::fromStdString(page.errorChart()->table().toCsv()), csv);
    }

    void validNpyIsStudied() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("mine.npy"));
        TensorD m({30, 12});
        for (std::size_t i = 0; i < m.size(); ++i) m[i] = std::sin(double(i) * 0.37) + double(i % 5);
        io::writeNpy(path.toStdString(), m);
        ui::LowRankPage page;
        page.waitForIdle();
        QString error;
        QVERIFY2(page.openFile(path, &error), qPrintable(error));
        page.waitForIdle();
        QVERIFY(page.analysis());
        QCOMPARE(page.analysis()->rows(), std::int64_t{30});
        QCOMPARE(page.rankSlider()->maximum(), 12);
        const study::Table mine = page.errorChart()->table().filtered("input", "mine.npy");
        QCOMPARE(mine.rowCount(), std::size_t{12});  // a rank each
        // Errors spanning many decades go on a log axis, where the exact 0 of full rank has no place.
        const auto& errors = mine.numbers("relative_error");
        const auto positive = std::count_if(errors.begin(), errors.end(), [](double e) { return e > 0; });
        QCOMPARE(page.errorChart()->seriesPoints(QStringLiteral("mine.npy")).size(), qsizetype(positive));
    }
};

QTEST_MAIN(tst_LowRankPage)
#include "tst_lowrankpage.moc"
