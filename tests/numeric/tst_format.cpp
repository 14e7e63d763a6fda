// Format names (parse, canonical name round trip, errors), descriptions, properties against closed
// forms, slider families, compute specifications.
#include <QTest>

#include <cmath>

#include "numeric/compute_spec.hpp"
#include "numeric/format_family.hpp"
#include "numeric/round.hpp"
#include "test_support.hpp"

using namespace ks::numeric;

class tst_Format : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void names_data() {
        QTest::addColumn<QString>("input");
        QTest::addColumn<QString>("canonical");
        QTest::addColumn<int>("bits");
        QTest::addColumn<double>("maxValue");
        QTest::addColumn<double>("smallest");
        QTest::addColumn<double>("eps");
        struct Row {
            const char *input, *canonical;
            int bits;
            double maxValue, smallest, eps;
        };
        const double fp32Max = std::ldexp(2.0 - 0x1p-23, 127);
        const Row rows[] = {
            {"fp64", "fp64", 64, std::numeric_limits<double>::max(), 0x1p-1074, 0x1p-52},
            {"fp32", "fp32", 32, fp32Max, 0x1p-149, 0x1p-23},
            {"FP32", "fp32", 32, fp32Max, 0x1p-149, 0x1p-23},
            {"float", "fp32", 32, fp32Max, 0x1p-149, 0x1p-23},
            {"tf32", "tf32", 19, std::ldexp(2.0 - 0x1p-10, 127), 0x1p-136, 0x1p-10},
            {"fp16", "fp16", 16, 65504, 0x1p-24, 0x1p-10},
            {"half", "fp16", 16, 65504, 0x1p-24, 0x1p-10},
            {"e5m10", "fp16", 16, 65504, 0x1p-24, 0x1p-10},
            {"bf16", "bf16", 16, std::ldexp(2.0 - 0x1p-7, 127), 0x1p-133, 0x1p-7},
            {"e4m3", "e4m3", 8, 448, 0x1p-9, 0x1p-3},
            {"fp8", "e4m3", 8, 448, 0x1p-9, 0x1p-3},
            {"e4m3-fn", "e4m3", 8, 448, 0x1p-9, 0x1p-3},
            {"e4m3-ieee", "e4m3-ieee", 8, 240, 0x1p-9, 0x1p-3},
            {"e5m2", "e5m2", 8, 57344, 0x1p-16, 0x1p-2},
            {"fp16-nosub", "fp16-nosub", 16, 65504, 0x1p-14, 0x1p-10},
            {"fp16-sat", "fp16-sat", 16, 65504, 0x1p-24, 0x1p-10},
            {"e5m10-nosub-sat", "fp16-nosub-sat", 16, 65504, 0x1p-14, 0x1p-10},
            {"e4m3-inf", "e4m3-inf", 8, 448, 0x1p-9, 0x1p-3},
            {"e3m4-fn", "e3m4-fn", 8, std::ldexp(2.0 - 0x1p-3, 4), 0x1p-6, 0x1p-4},
            {"e8m0", "e8m0", 9, 0x1p127, 0x1p-126, 1},
            {"e11m30", "e11m30", 42, std::ldexp(2.0 - 0x1p-30, 1023), 0x1p-1052, 0x1p-30},
            {"fixed16.8", "fixed16.8", 16, 32767.0 / 256, 1.0 / 256, 1.0 / 256},
            {"fixed8.0", "fixed8.0", 8, 127, 1, 1},
            {"int8", "int8", 8, 127, 1, 1.0 / 127},
            {"int4@0.25", "int4@0.25", 4, 7 * 0.25, 0.25, 1.0 / 7},
            {"lns8.3", "lns8.3", 8, std::exp2(63.0 / 8), std::exp2(-63.0 / 8), std::exp2(1.0 / 8) - 1},
            {"lns16.10", "lns16.10", 16, std::exp2(16383.0 / 1024), std::exp2(-16383.0 / 1024),
             std::exp2(1.0 / 1024) - 1},
        };
        for (const auto& r : rows)
            QTest::newRow(r.input) << r.input << r.canonical << r.bits << r.maxValue << r.smallest << r.eps;
    }
    void names() {
        QFETCH(QString, input);
        QFETCH(QString, canonical);
        QFETCH(int, bits);
        QFETCH(double, maxValue);
        QFETCH(double, smallest);
        QFETCH(double, eps);
        const Format f = parseFormat(input.toStdString());
        QCOMPARE(QString::fromStdString(formatName(f)), canonical);
        QVERIFY(parseFormat(formatName(f)) == f);
        QCOMPARE(bitWidth(f), bits);
        // Exact by construction (powers of two and their sums; lns: exp2 of the same arguments).
        KS_COMPARE_EXACT(maxFinite(f), maxValue);
        KS_COMPARE_EXACT(minPositive(f), smallest);
        KS_COMPARE_EXACT(epsilon(f), eps);
        const std::string d = describe(f);
        QVERIFY2(d.rfind(canonical.toStdString() + ":", 0) == 0, d.c_str());
        QVERIFY(d.find('\n') == std::string::npos);
    }

    void descriptions() {
        QVERIFY(describe(Format::fp16()).find("max 65504") != std::string::npos);
        QVERIFY(describe(Format::fp16()).find("min subnormal 5.96046e-08") != std::string::npos);
        QVERIFY(describe(Format::fp16()).find("epsilon 0.000976562") != std::string::npos);
        QVERIFY(describe(Format::e4m3()).find("max 448") != std::string::npos);
        QVERIFY(describe(Format::e4m3()).find("saturates") != std::string::npos);
        QVERIFY(describe(parseFormat("fp16-nosub")).find("no subnormals") != std::string::npos);
        QVERIFY(describe(parseFormat("lns8.3")).find("explicit zero") != std::string::npos);
    }

    void everyFloatRoundTrips() {
        // Every exponent/mantissa width and every suffix combination names itself canonically.
        for (int e = 2; e <= 11; ++e)
            for (int m = 0; m <= 52; ++m)
                for (int variant = 0; variant < 8; ++variant) {
                    Format f = Format::floating(e, m);
                    if (variant & 1) f.specials = Specials::FiniteOnlyOcp;
                    if (variant & 2) f.subnormals = false;
                    if (variant & 4) f.overflow = Overflow::Saturate;
                    if (f.specials == Specials::FiniteOnlyOcp && (e > 10 || m < 1)) {
                        QVERIFY_THROWS_EXCEPTION(FormatError, validate(f));
                        continue;
                    }
                    const std::string name = formatName(f);
                    QVERIFY2(parseFormat(name) == f, name.c_str());
                }
        for (int w = 2; w <= 53; ++w)
            for (int fr = 0; fr <= 64; fr += 7)
                QVERIFY(parseFormat(formatName(Format::fixed(w, fr))) == Format::fixed(w, fr));
        for (int i = 1; i <= 10; ++i)
            for (int fr = 0; fr <= 20; ++fr)
                QVERIFY(parseFormat(formatName(Format::logarithmic(i, fr))) == Format::logarithmic(i, fr));
        const Format scaled = Format::scaledInt(8, 0.1234567890123);
        QVERIFY(parseFormat(formatName(scaled)) == scaled);
    }

    void badNames_data() {
        QTest::addColumn<QString>("input");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("unknown") << "fp17" << "'fp17'";
        QTest::newRow("empty") << "" << "empty";
        QTest::newRow("exponent too wide") << "e12m3" << "exponent width 12";
        QTest::newRow("exponent too narrow") << "e1m3" << "exponent width 1";
        QTest::newRow("mantissa too wide") << "e8m53" << "mantissa width 53";
        QTest::newRow("bad suffix") << "fp16-fast" << "-fast";
        QTest::newRow("fn without mantissa") << "e5m0-fn" << "mantissa";
        QTest::newRow("fixed syntax") << "fixed16" << "fixedW.F";
        QTest::newRow("fixed too wide") << "fixed60.3" << "word length 60";
        QTest::newRow("int too narrow") << "int1" << "integer width 1";
        QTest::newRow("int bad scale") << "int8@-1" << "scale";
        QTest::newRow("lns no integer bits") << "lns4.3" << "no integer bits";
        QTest::newRow("lns syntax") << "lns8" << "lnsW.F";
        QTest::newRow("garbage") << "e4m3x" << "'e4m3x'";
    }
    void badNames() {
        QFETCH(QString, input);
        QFETCH(QString, mentions);
        try {
            parseFormat(input.toStdString());
            QFAIL("no error");
        } catch (const FormatError& e) {
            QVERIFY2(QString(e.what()).contains(mentions), e.what());
            if (!input.isEmpty()) QVERIFY2(QString(e.what()).contains(input), e.what());
        }
    }

    void families() {
        QVERIFY(!standardFamilies().empty());
        for (const auto& family : standardFamilies()) {
            for (int p = family.first(); p <= family.last(); ++p) {
                const Format f = family.at(p);
                QCOMPARE(family.positionOf(f), std::optional<int>(p));
                QVERIFY(parseFormat(formatName(f)) == f);
            }
            QVERIFY_THROWS_EXCEPTION(std::out_of_range, family.at(family.last() + 1));
            for (const auto& preset : family.presets())
                QVERIFY(family.at(preset.position) == parseFormat(preset.name));
        }
        const auto& e8 = standardFamily("e8");
        QCOMPARE(e8.first(), 1);
        QCOMPARE(e8.last(), 23);
        QVERIFY(e8.at(7) == Format::bf16());
        QVERIFY(e8.at(23) == Format::fp32());
        QCOMPARE(e8.positionOf(Format::tf32()), std::optional<int>(10));
        QVERIFY(!e8.positionOf(Format::fp16()));
        QCOMPARE(int(e8.presets().size()), 3);
        QVERIFY(standardFamily("e5").at(10) == Format::fp16());
        QVERIFY(standardFamily("e4").at(3) == Format::e4m3());
        QVERIFY(standardFamily("fixed").at(16) == Format::fixed(16, 12));
        QVERIFY(standardFamily("lns").at(2) == parseFormat("lns8.2"));
        QVERIFY(standardFamily("int").at(8) == parseFormat("int8"));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, standardFamily("e9"));
    }

    void computeSpecs_data() {
        QTest::addColumn<QString>("input");
        QTest::addColumn<QString>("storage");
        QTest::addColumn<QString>("product");
        QTest::addColumn<QString>("accumulate");
        QTest::addColumn<int>("rounding");
        QTest::addColumn<qulonglong>("seed");
        QTest::addColumn<bool>("native");
        QTest::addColumn<QString>("canonical");
        QTest::newRow("native") << "native" << "fp32" << "fp32" << "fp32" << 0 << 0ull << true << "native";
        QTest::newRow("fp32-native") << "fp32-native" << "fp32" << "fp32" << "fp32" << 0 << 0ull << true << "native";
        QTest::newRow("uniform") << "bf16" << "bf16" << "bf16" << "bf16" << 0 << 0ull << false << "bf16";
        QTest::newRow("emulated fp32") << "fp32" << "fp32" << "fp32" << "fp32" << 0 << 0ull << false << "fp32";
        QTest::newRow("tensor core") << "fp16/fp32" << "fp16" << "fp16" << "fp32" << 0 << 0ull << false << "fp16/fp32";
        QTest::newRow("three stages") << "e4m3/fp16/fp32" << "e4m3" << "fp16" << "fp32" << 0 << 0ull << false
                                      << "e4m3/fp16/fp32";
        QTest::newRow("stochastic") << "bf16:sr:seed=7" << "bf16" << "bf16" << "bf16" << int(Rounding::Stochastic)
                                    << 7ull
                                    << false << "bf16:stochastic:seed=7";
        QTest::newRow("toward zero") << "fp16/fp32:toward-zero" << "fp16" << "fp16" << "fp32"
                                     << int(Rounding::TowardZero)
                                     << 0ull << false << "fp16/fp32:toward-zero";
        QTest::newRow("int8 exact products") << "int8/fp32" << "int8" << "fp64" << "fp32" << 0 << 0ull << false
                                             << "int8/fp32";
    }
    void computeSpecs() {
        QFETCH(QString, input);
        QFETCH(QString, storage);
        QFETCH(QString, product);
        QFETCH(QString, accumulate);
        QFETCH(int, rounding);
        QFETCH(qulonglong, seed);
        QFETCH(bool, native);
        QFETCH(QString, canonical);
        const ComputeSpec s = parseComputeSpec(input.toStdString());
        QCOMPARE(QString::fromStdString(formatName(s.storage)), storage);
        QCOMPARE(QString::fromStdString(formatName(s.product)), product);
        QCOMPARE(QString::fromStdString(formatName(s.accumulate)), accumulate);
        QCOMPARE(int(s.rounding), rounding);
        QCOMPARE(qulonglong(s.seed), seed);
        QCOMPARE(s.native, native);
        QCOMPARE(QString::fromStdString(computeSpecName(s)), canonical);
        QVERIFY(parseComputeSpec(computeSpecName(s)) == s);
    }

    void badComputeSpecs_data() {
        QTest::addColumn<QString>("input");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("bad format") << "fp16/xx" << "'xx'";
        QTest::newRow("bad mode") << "fp16:fast" << "'fast'";
        QTest::newRow("bad seed") << "fp16:seed=x" << "seed";
        QTest::newRow("too many stages") << "fp16/fp16/fp16/fp16" << "S/P/A";
        QTest::newRow("per-tensor accumulator") << "int8" << "storage";
        QTest::newRow("empty") << "" << "native";
    }
    void badComputeSpecs() {
        QFETCH(QString, input);
        QFETCH(QString, mentions);
        try {
            parseComputeSpec(input.toStdString());
            QFAIL("no error");
        } catch (const std::invalid_argument& e) {
            QVERIFY2(QString(e.what()).contains(mentions), e.what());
        }
    }

    void roundingNames() {
        for (Rounding r :
             {Rounding::NearestEven, Rounding::TowardZero, Rounding::Up, Rounding::Down, Rounding::Stochastic})
            QCOMPARE(parseRounding(roundingName(r)), r);
        QCOMPARE(parseRounding("rz"), Rounding::TowardZero);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, parseRounding("nearest-odd"));
    }
};

QTEST_APPLESS_MAIN(tst_Format)
#include "tst_format.moc"
