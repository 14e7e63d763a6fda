// Error maps: on the fixed logarithmic scale one colour is one error size in every picture (scaled to each picture's
// own largest |error|, a map at 1 bit and one at 9 bits looked alike), and the colour bar says which scale is drawn.
#include <QTest>

#include <cmath>

#include "widgets/tensor_image.hpp"

using namespace ks;
using ui::DivergingScale;

namespace {
TensorD matrix(std::initializer_list<double> values, std::int64_t rows, std::int64_t cols) {
    TensorD t({rows, cols});
    std::size_t i = 0;
    for (double v : values) t[i++] = v;
    return t;
}
const DivergingScale kLog{DivergingScale::Kind::FixedLog, 1e-8, 1};
}  // namespace

class tst_TensorImage : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // Colours computed by hand: on the log scale 1e-8 … 1, |v| = 1e-4 is halfway (fade 128 of 255), 1e-2 three
    // quarters (fade 64), anything at or below 1e-8 white, at or above 1 full; linear: |v| / max.
    void coloursByHand_data() {
        QTest::addColumn<double>("value");
        QTest::addColumn<bool>("log");
        QTest::addColumn<QColor>("colour");
        QTest::newRow("log 1e-4") << 1e-4 << true << QColor(255, 128, 128);
        QTest::newRow("log -1e-2") << -1e-2 << true << QColor(64, 64, 255);
        QTest::newRow("log 1e-9 white") << 1e-9 << true << QColor(255, 255, 255);
        QTest::newRow("log 3 full") << 3.0 << true << QColor(255, 0, 0);
        QTest::newRow("linear half") << 0.25 << false << QColor(255, 128, 128);  // magnitude 0.5
        QTest::newRow("linear -max") << -0.5 << false << QColor(0, 0, 255);
        QTest::newRow("nan magenta") << std::nan("") << true << QColor(255, 0, 255);
    }
    void coloursByHand() {
        QFETCH(double, value);
        QFETCH(bool, log);
        QFETCH(QColor, colour);
        QCOMPARE(ui::divergingColour(value, 0.5, log ? kLog : DivergingScale{}), colour);
    }

    void bitWidthsLookAlikeOnlyOnTheirOwnScale() {
        // The same pattern of errors, 256× (8 bits) apart.
        const TensorD wide = matrix({0.5, -0.25, 0.125, 0.0}, 2, 2);
        TensorD narrow = wide;
        for (double& v : narrow.storage()) v /= 256;
        QCOMPARE(ui::tensorToImage(wide, ui::ImageStyle::Diverging), ui::tensorToImage(narrow, ui::ImageStyle::Diverging));
        const QImage a = ui::tensorToImage(wide, ui::ImageStyle::Diverging, kLog);
        const QImage b = ui::tensorToImage(narrow, ui::ImageStyle::Diverging, kLog);
        QVERIFY(a != b);
        // The larger error is the more saturated (less green in a red cell).
        QVERIFY(QColor(a.pixel(0, 0)).green() < QColor(b.pixel(0, 0)).green());
    }

    void colourBarNamesTheScale() {
        ui::TensorImage image(QStringLiteral("Error"));
        image.setTensor(matrix({0.5, -0.25}, 1, 2), ui::ImageStyle::Diverging);
        QCOMPARE(image.colourBarLabels(), (QStringList{QStringLiteral("+0.5"), QStringLiteral("0"), QStringLiteral("\u22120.5")}));
        image.setScale(kLog);
        QCOMPARE(image.colourBarLabels(), (QStringList{QStringLiteral("+1"), QStringLiteral("+0.0001"), QStringLiteral("±1e-08"),
                                                       QStringLiteral("\u22120.0001"), QStringLiteral("\u22121")}));
        QCOMPARE(image.image(), ui::tensorToImage(matrix({0.5, -0.25}, 1, 2), ui::ImageStyle::Diverging, kLog));
        image.setTensor(matrix({0.5, 0.25}, 1, 2), ui::ImageStyle::Grey);
        QVERIFY(image.colourBarLabels().isEmpty());  // grey pictures have no error scale
    }
};

QTEST_MAIN(tst_TensorImage)
#include "tst_tensorimage.moc"
