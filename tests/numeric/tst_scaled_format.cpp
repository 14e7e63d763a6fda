// Scaled storage formats: names, the three scale schemes on hand-worked groups (the numbers below were worked out
// by hand from the definitions in scaled_format.hpp, not by the code), MX through quantizeScaled against
// mxQuantize (itself tested against the element codes' bit fields in tst_mx), strided lines against the
// transposed matrix, special values, and the compute specifications that carry them.
#include <QTest>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "test_support.hpp"

#include "numeric/arithmetic.hpp"
#include "numeric/compute_spec.hpp"
#include "numeric/scaled_format.hpp"

using namespace ks::numeric;

Q_DECLARE_METATYPE(ks::numeric::ScaledFormat)

class TestScaledFormat : public QObject {
    Q_OBJECT

private slots:
    void names_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<ScaledFormat>("expected");
        QTest::addColumn<QString>("canonical");
        QTest::newRow("mxfp4") << "mxfp4" << ScaledFormat::mxFormat(MxElement::E2M1, 32) << "mxfp4";
        QTest::newRow("mxfp8 is e4m3") << "mxfp8" << ScaledFormat::mxFormat(MxElement::E4M3) << "mxfp8-e4m3";
        QTest::newRow("mxfp6-e3m2") << "MXFP6-E3M2" << ScaledFormat::mxFormat(MxElement::E3M2) << "mxfp6-e3m2";
        QTest::newRow("mxint8 block 32 spelled") << "mxint8@block32" << ScaledFormat::mxFormat(MxElement::Int8) << "mxint8";
        QTest::newRow("mxfp4 block 16") << "mxfp4@block16" << ScaledFormat::mxFormat(MxElement::E2M1, 16) << "mxfp4@block16";
        QTest::newRow("nvfp4") << "nvfp4" << ScaledFormat::nvfp4() << "nvfp4";
        QTest::newRow("nvfp4 block 32") << "nvfp4@block32" << ScaledFormat::nvfp4(32) << "nvfp4@block32";
        QTest::newRow("e4m3 per channel")
            << "e4m3@channel" << ScaledFormat::withFloat32Scale(Format::e4m3(), ScaleReach::Channel) << "e4m3@channel";
        QTest::newRow("int4 per block of 64")
            << "int4@block64" << ScaledFormat::withFloat32Scale(Format::scaledInt(4), ScaleReach::Block, 64)
            << "int4@block64";
        QTest::newRow("fp16 per tensor")
            << "fp16@tensor" << ScaledFormat::withFloat32Scale(Format::fp16(), ScaleReach::Tensor) << "fp16@tensor";
    }
    void names() {
        QFETCH(QString, name);
        QFETCH(ScaledFormat, expected);
        QFETCH(QString, canonical);
        const auto parsed = parseScaledFormat(name.toStdString());
        QVERIFY(parsed);
        QVERIFY(*parsed == expected);
        QCOMPARE(QString::fromStdString(scaledFormatName(*parsed)), canonical);
        QVERIFY(*parseScaledFormat(scaledFormatName(*parsed)) == expected);
    }

    void notScaledOrWrong() {
        // Element-wise names are not scaled formats (the caller then parses them as formats).
        for (const char* name : {"fp16", "e4m3", "int8", "int8@0.01", "lns8.3"})
            QVERIFY2(!parseScaledFormat(name), name);
        // A scaled name that is wrong says what is wrong.
        const std::pair<const char*, const char*> bad[] = {
            {"int4@block0", "block size"},      {"mxfp4@block", "block size"},   {"int4@block2000000", "block size"},
            {"mxfp4@row", "tensor, channel"},   {"fixed8.4@channel", "element"}, {"lns8.3@block32", "element"},
            {"e9m99@channel", "e9m99"},
        };
        for (const auto& [name, says] : bad) {
            try {
                parseScaledFormat(name);
                QFAIL(name);
            } catch (const FormatError& e) {
                QVERIFY2(std::string(e.what()).find(says) != std::string::npos, e.what());
            }
        }
    }

    void bitsPerElementCountsTheScales() {
        KS_COMPARE_EXACT(bitsPerElement(*parseScaledFormat("mxfp4")), 4.25);
        KS_COMPARE_EXACT(bitsPerElement(*parseScaledFormat("mxfp6-e2m3")), 6.25);
        KS_COMPARE_EXACT(bitsPerElement(*parseScaledFormat("nvfp4")), 4.5);
        KS_COMPARE_EXACT(bitsPerElement(*parseScaledFormat("int4@block64")), 4.5);
        KS_COMPARE_EXACT(bitsPerElement(*parseScaledFormat("e4m3@channel")), 8.0);
    }

    // int4: integers −7…7, scale = fp32(amax / 7).
    void integerBlocksByHand() {
        std::vector<double> v = {1, -2, 3.5, 7, /* next block */ 0.1, 0.2, 0.3, 0.7};
        quantizeScaled(std::span<double>(v), {1, 8, 1}, *parseScaledFormat("int4@block4"));
        // Block 1: scale 1; 3.5 is a tie, to the even 4.
        const double s = double(float(0.7 / 7));  // block 2's scale, float32
        const std::vector<double> expected = {1, -2, 4, 7, 1 * s, 2 * s, 3 * s, 7 * s};
        for (std::size_t i = 0; i < v.size(); ++i) KS_COMPARE_EXACT(v[i], expected[i]);
    }

    void reachOfTheScale() {
        // Two rows of 4 along the reduction axis: per channel each row has its own scale, per tensor one.
        const std::vector<double> rows = {7, 1, 2, 3, /* row 2 */ 70, 10, 20, 35};
        std::vector<double> channel = rows, tensor = rows;
        quantizeScaled(std::span<double>(channel), {2, 4, 1}, *parseScaledFormat("int4@channel"));
        quantizeScaled(std::span<double>(tensor), {2, 4, 1}, *parseScaledFormat("int4@tensor"));
        // Per channel: scales 1 and 10, every value on its grid (35 = 3.5 · 10: the tie to 4).
        const std::vector<double> perChannel = {7, 1, 2, 3, 70, 10, 20, 40};
        // Per tensor: one scale 10; 1, 2, 3 round to 0, 0, 0 (0.1, 0.2, 0.3 of a step) and 7 to 10.
        const std::vector<double> perTensor = {10, 0, 0, 0, 70, 10, 20, 40};
        for (std::size_t i = 0; i < rows.size(); ++i) {
            KS_COMPARE_EXACT(channel[i], perChannel[i]);
            KS_COMPARE_EXACT(tensor[i], perTensor[i]);
        }
    }

    // e4m3 per block: scale fp32(amax / 448); 1.1 / (900 / 448) = 0.5476 lies between the E4M3 neighbours 0.5
    // and 0.5625 and rounds to 0.5625.
    void floatElementByHand() {
        std::vector<double> v = {900, 1.1};
        quantizeScaled(std::span<double>(v), {1, 2, 1}, *parseScaledFormat("e4m3@block2"));
        const double s = double(float(900.0 / 448));
        KS_COMPARE_EXACT(v[0], 448 * s);
        KS_COMPARE_EXACT(v[1], 0.5625 * s);
    }

    // NVFP4: tensor scale amax / (448·6), block scale E4M3(amax_block / 6 / tensor scale), elements E2M1.
    void nvfp4ByHand() {
        std::vector<double> v(48, 0.0);
        // Block 1 holds the tensor's largest value, 2688 = 448·6: tensor scale 1, block scale 448.
        v[0] = 2688, v[1] = 100, v[2] = 300;  // 100/448 = 0.22 → 0; 300/448 = 0.67 → 0.5
        // Block 2: amax 3, block scale 0.5: 3 → 6; 1 → 2; 0.7 → 1.4 → 1.5; 0.2 → 0.4 → 0.5.
        v[16] = 3, v[17] = -1, v[18] = 0.7, v[19] = 0.2;
        // Block 3: amax 5, 5/6 = 0.833 rounds to the E4M3 0.8125 below it; 5/0.8125 = 6.15 saturates at 6.
        v[32] = 5, v[33] = 1;  // 1/0.8125 = 1.23 → 1
        quantizeScaled(std::span<double>(v), {1, 48, 1}, ScaledFormat::nvfp4());
        const std::vector<std::pair<int, double>> expected = {{0, 2688},     {1, 0},        {2, 224},       {3, 0},
                                                              {16, 3},       {17, -1},      {18, 0.75},     {19, 0.25},
                                                              {32, 6 * 0.8125}, {33, 0.8125}, {34, 0}};
        for (const auto& [i, x] : expected) KS_COMPARE_EXACT(v[std::size_t(i)], x);
    }

    // MX through quantizeScaled is mxQuantize; a strided line ({1, K, N}: a K×N matrix's columns) is the transposed
    // matrix's rows.
    void mxAlongRowsAndColumns() {
        std::mt19937 rng(18);
        std::normal_distribution<double> normal;
        const std::int64_t K = 70, N = 3;  // 70: two blocks of 32 and a short one
        std::vector<double> b(std::size_t(K * N)), bt(b.size());
        for (auto& x : b) x = std::ldexp(normal(rng), int(rng() % 9) - 4);
        for (std::int64_t k = 0; k < K; ++k)
            for (std::int64_t n = 0; n < N; ++n) bt[std::size_t(n * K + k)] = b[std::size_t(k * N + n)];
        for (MxElement e : {MxElement::E4M3, MxElement::E2M1, MxElement::Int8}) {
            std::vector<double> columns = b, rows = bt, expected(bt.size());
            quantizeScaled(std::span<double>(columns), {1, K, N}, ScaledFormat::mxFormat(e));
            quantizeScaled(std::span<double>(rows), {N, K, 1}, ScaledFormat::mxFormat(e));
            mxQuantize(std::span<const double>(bt), std::span<double>(expected), K, e);
            for (std::int64_t k = 0; k < K; ++k)
                for (std::int64_t n = 0; n < N; ++n) {
                    KS_COMPARE_EXACT(rows[std::size_t(n * K + k)], expected[std::size_t(n * K + k)]);
                    KS_COMPARE_EXACT(columns[std::size_t(k * N + n)], expected[std::size_t(n * K + k)]);
                }
        }
    }

    void specialValues() {
        const double nan = std::numeric_limits<double>::quiet_NaN();
        for (const char* name : {"mxfp4", "nvfp4@block4", "int8@block4", "e4m3@block4"}) {
            std::vector<double> v = {1, nan, 2, 3, /* zero block */ 0, -0.0, 0, 0, /* an infinity */ 1, INFINITY, 0, 0};
            quantizeScaled(std::span<double>(v), {3, 4, 1}, *parseScaledFormat(name));  // rows of 4: one group each
            for (int i = 0; i < 4; ++i) QVERIFY2(std::isnan(v[std::size_t(i)]), name);
            for (int i = 4; i < 8; ++i) QVERIFY2(v[std::size_t(i)] == 0, name);
            QVERIFY2(std::signbit(v[5]), name);
            for (int i = 8; i < 12; ++i) QVERIFY2(std::isnan(v[std::size_t(i)]), name);
        }
    }

    // Extremes give the documented values, never NaN from a zero or infinite scale.
    void extremes() {
        // A float32 scale beyond float32's range (double inputs): its largest finite value, the elements saturating.
        std::vector<double> huge = {1e300, -1e300, 1.0, 0.0};
        quantizeScaled(std::span<double>(huge), {1, 4, 1}, *parseScaledFormat("int4@block4"));
        const double top = 7.0 * double(std::numeric_limits<float>::max());
        KS_COMPARE_EXACT(huge[0], top);
        KS_COMPARE_EXACT(huge[1], -top);
        KS_COMPARE_EXACT(huge[2], 0.0);
        // Below float32's range: the smallest subnormal as the scale, the values kept to its multiples.
        std::vector<double> tiny = {1e-300, 0.0};
        quantizeScaled(std::span<double>(tiny), {1, 2, 1}, *parseScaledFormat("int4@block2"));
        KS_COMPARE_EXACT(tiny[0], 0.0);
        // NVFP4: a block far below the tensor's largest value has a zero E4M3 scale and becomes zero (documented).
        std::vector<double> v(32, 0.0);
        v[0] = 1e6, v[16] = 1e-6, v[17] = -1e-6;
        quantizeScaled(std::span<double>(v), {1, 32, 1}, ScaledFormat::nvfp4());
        QVERIFY(std::isfinite(v[0]) && v[0] > 0);
        KS_COMPARE_EXACT(v[16], 0.0);
        QVERIFY(std::signbit(v[17]));
        // A block longer than the line is the whole line: the same as one scale per channel.
        std::vector<double> line(70), a, b;
        for (std::size_t i = 0; i < line.size(); ++i) line[i] = std::sin(double(i)) * double(i + 1);
        a = b = line;
        quantizeScaled(std::span<double>(a), {1, 70, 1}, *parseScaledFormat("e4m3@block1024"));
        quantizeScaled(std::span<double>(b), {1, 70, 1}, *parseScaledFormat("e4m3@channel"));
        for (std::size_t i = 0; i < line.size(); ++i) KS_COMPARE_EXACT(a[i], b[i]);
    }

    void linesMustMatch() {
        std::vector<double> v(10);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 quantizeScaled(std::span<double>(v), {3, 3, 1}, ScaledFormat::mxFormat(MxElement::E2M1)));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 quantizeScaled(std::span<double>(v), {1, 0, 10}, ScaledFormat::mxFormat(MxElement::E2M1)));
    }

    void computeSpecs() {
        const ComputeSpec mx = parseComputeSpec("mxfp4/fp32");
        QVERIFY(mx.scaledStorage && *mx.scaledStorage == ScaledFormat::mxFormat(MxElement::E2M1));
        QVERIFY(mx.storage == Format::fp32() && mx.product == Format::fp32() && mx.accumulate == Format::fp32());
        QVERIFY(!mx.native);
        QCOMPARE(QString::fromStdString(computeSpecName(mx)), QStringLiteral("mxfp4/fp32"));
        const ComputeSpec three = parseComputeSpec("mxfp8/bf16/fp32:rz");
        QVERIFY(three.product == Format::bf16());
        QCOMPARE(QString::fromStdString(computeSpecName(three)), QStringLiteral("mxfp8-e4m3/bf16/fp32:toward-zero"));
        QVERIFY(parseComputeSpec(computeSpecName(three)) == three);
        QVERIFY(!mx.elementwise().scaledStorage);
        // Blocks on the transformed tiles: named, read back, dropped with the scales by elementwise().
        const ComputeSpec tiles = parseComputeSpec("nvfp4/fp32:scales=tiles");
        QVERIFY(tiles.scalePlacement == ScalePlacement::TransformedTiles);
        QCOMPARE(QString::fromStdString(computeSpecName(tiles)), QStringLiteral("nvfp4/fp32:scales=tiles"));
        QVERIFY(parseComputeSpec(computeSpecName(tiles)) == tiles);
        QVERIFY(parseComputeSpec("nvfp4/fp32:scales=operands") == parseComputeSpec("nvfp4/fp32"));
        QVERIFY(tiles.elementwise() == parseComputeSpec("nvfp4/fp32").elementwise());
        for (const auto& [text, says] : std::vector<std::pair<const char*, const char*>>{
                 {"mxfp4", "give the accumulation format"}, {"fp32/mxfp4", "only be the first"},
                 {"fp16/nvfp4/fp32", "only be the first"}, {"fp16/fp32:scales=tiles", "the storage format is element-wise"},
                 {"mxfp4/fp32:scales=spectra", "expected scales=operands or scales=tiles"}}) {
            try {
                parseComputeSpec(text);
                QFAIL(text);
            } catch (const std::invalid_argument& e) {
                QVERIFY2(std::string(e.what()).find(says) != std::string::npos, e.what());
            }
        }
        // A kernel handed the spec itself (not elementwise()) refuses it rather than ignoring the scales.
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, EmulatedArithmetic{mx});
    }
};

QTEST_APPLESS_MAIN(TestScaledFormat)
#include "tst_scaled_format.moc"
