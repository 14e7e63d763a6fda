// The findings generator against hand-made tables whose right sentences are known, including the
// tables about which nothing should be said (a steady fall has no plateau, a threshold never reached is
// not claimed, a missing baseline silences the comparison).
#include <QTest>

#include <cmath>
#include <string>
#include <vector>

#include "study/findings.hpp"

using namespace ks::study;

namespace {

struct PrecisionRow {
    std::string method;
    int position;
    double error;
    double nonfinite = 0;
    std::string status = "ok";
};

Table precisionTable(const std::vector<PrecisionRow>& rows, const std::string& family = "e5") {
    Table t({"position", "bits", "rel_error_median", "rel_error_p10", "rel_error_p90", "max_abs_error_median",
             "mean_abs_error_median", "nonfinite", "trials"},
            {"operation", "method", "family", "format", "status"});
    for (const auto& r : rows)
        t.addRow({r.position, 6 + r.position, r.error, r.error, r.error, r.error, r.error, r.nonfinite, 3, "conv", r.method,
                  family, family + "m" + std::to_string(r.position), r.status});
    return t;
}

/// Error 2^-p times a factor for positions 1…10.
void addCurve(std::vector<PrecisionRow>& rows, const std::string& method, double factor) {
    for (int p = 1; p <= 10; ++p) rows.push_back({method, p, factor * std::ldexp(1.0, -p)});
}

std::vector<std::string> texts(const Findings& findings) {
    std::vector<std::string> out;
    for (const auto& f : findings) out.push_back(f.text);
    return out;
}

QString joined(const Findings& findings) {
    QString out;
    for (const auto& f : findings) out += QString::fromStdString(f.text) + QLatin1Char('\n');
    return out;
}

}  // namespace

class tst_Findings : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void bitsLostAndGainedAtNamedFormats() {
        std::vector<PrecisionRow> rows;
        addCurve(rows, "direct", 1.0);
        addCurve(rows, "im2col", 1.03);
        addCurve(rows, "winograd-4x4", 4.0);
        addCurve(rows, "fft", 0.8);
        const Findings f = precisionFindings(precisionTable(rows), "direct");
        // fp16 and e5m2 are the e5 family's named formats; a steady fall has no plateau; nothing overflowed.
        QCOMPARE(texts(f), (std::vector<std::string>{
                               "At fp16 (e5m10), against direct's relative error of 0.000977: winograd-4x4 loses 2.0 bits "
                               "(0.00391) and fft gains 0.3 bit (0.000781); im2col matches it within 0.1 bit.",
                               "At e5m2, against direct's relative error of 0.25: winograd-4x4 loses 2.0 bits (1) and fft "
                               "gains 0.3 bit (0.2); im2col matches it within 0.1 bit.",
                               "direct's error falls by 1.00 bits per added bit (a factor 2, least squares over 1–10 mantissa "
                               "bits; rounding error halves per bit in theory).",
                           }));
        QCOMPARE(findingSource(f[0], "precision.csv"), std::string("rows 10, 20, 30, 40 of precision.csv"));
    }

    void plateauIsNamedWhereTheFallStops() {
        std::vector<PrecisionRow> rows;
        addCurve(rows, "direct", 1.0);
        for (int p = 1; p <= 10; ++p) rows.push_back({"fft", p, std::max(std::ldexp(1.0, -p), std::ldexp(1.0, -6))});
        const auto f = texts(precisionFindings(precisionTable(rows), "direct"));
        QVERIFY(std::find(f.begin(), f.end(),
                          "fft's error stops falling at 6 mantissa bits: 0.0156 there, 0.0156 at 10 (it fell 32× from 1).") !=
                f.end());
        // The reference never stops: no sentence about it stopping.
        for (const auto& s : f) QVERIFY2(s.find("direct's error stops") == std::string::npos, s.c_str());
    }

    void flatCurvesSayNothingAboutFalling() {
        std::vector<PrecisionRow> rows;
        for (int p = 1; p <= 10; ++p) rows.push_back({"direct", p, 0.1});
        // Only the named formats' comparisons (none: a single method) could be said; nothing is.
        QCOMPARE(precisionFindings(precisionTable(rows), "direct").size(), std::size_t{0});
        QCOMPARE(precisionFindings(Table(), "direct").size(), std::size_t{0});
    }

    void missingBaselineSilencesTheComparison() {
        std::vector<PrecisionRow> rows;
        addCurve(rows, "fft", 1.0);
        rows.push_back({"direct", 10, std::nan(""), 0, "cannot run"});
        const auto f = texts(precisionFindings(precisionTable(rows), "direct"));
        for (const auto& s : f) QVERIFY2(s.rfind("At ", 0) != 0, s.c_str());
        QVERIFY(std::find(f.begin(), f.end(), "direct cannot run at e5m10: cannot run.") != f.end());
    }

    void overflowIsCounted() {
        std::vector<PrecisionRow> rows;
        addCurve(rows, "direct", 1.0);
        for (int p = 1; p <= 10; ++p) rows.push_back({"winograd-6x6", p, std::ldexp(3.0, -p), p <= 2 ? 6.0 : 0.0});
        const Findings f = precisionFindings(precisionTable(rows), "direct");
        const auto it = std::find_if(f.begin(), f.end(), [](const Finding& x) { return x.text.find("gave infinite") != std::string::npos; });
        QVERIFY2(it != f.end(), qPrintable(joined(f)));
        QCOMPARE(it->text, std::string("winograd-6x6 gave infinite or NaN outputs at e5m1 and e5m2 (12 in all, over every "
                                       "trial); its errors there are of the finite outputs only."));
        QCOMPARE(findingSource(*it, "p.csv"), std::string("rows 11, 12 of p.csv"));
        // At e5m2, a named format, its error (of the finite outputs) is not compared: it overflows.
        QVERIFY2(std::find_if(f.begin(), f.end(), [](const Finding& x) {
                     return x.text == "At e5m2, against direct's relative error of 0.25: winograd-6x6 overflows (6 infinite or NaN "
                                      "outputs).";
                 }) != f.end(),
                 qPrintable(joined(f)));
    }

    void overflowEverywhereIsARange() {
        std::vector<PrecisionRow> rows;
        addCurve(rows, "direct", 1.0);
        for (int p = 1; p <= 10; ++p) rows.push_back({"fft", p, std::ldexp(1.0, -p), 1.0});
        for (int p = 1; p <= 10; ++p) rows.push_back({"winograd-6x6", p, std::nan(""), 0, "too large"});
        const auto f = texts(precisionFindings(precisionTable(rows), "direct"));
        QVERIFY(std::find(f.begin(), f.end(),
                          "fft gave infinite or NaN outputs at every width from e5m1 to e5m10 (10 in all, over every trial); "
                          "its errors there are of the finite outputs only.") != f.end());
        QVERIFY(std::find(f.begin(), f.end(), "winograd-6x6 cannot run at every width from e5m1 to e5m10: too large.") != f.end());
    }

    void energyThresholdsAndWhereASpectrumEnds() {
        Table t({"rank", "frobenius_error", "relative_error", "energy_kept"}, {"input"});
        const double photo[] = {0.95, 0.995, 1.0};
        for (int r = 1; r <= 3; ++r) t.addRow({r, 0.0, 0.0, photo[r - 1], "photo"});
        for (int r = 1; r <= 10; ++r) t.addRow({r, 0.0, 0.0, r / 10.0, "gaussian"});
        const std::vector<MatrixShape> shapes = {{"photo", 135300, 3}, {"gaussian", 10, 10}};
        const Findings f = rankFindings(t, shapes);
        QCOMPARE(texts(f), (std::vector<std::string>{
                               "photo keeps 90 % of its energy (Σσ²) at rank 1 and 99 % at rank 2 of 3.",
                               "photo's spectrum ends at 3 singular values because its matrix is 135300 × 3: a matrix's rank "
                               "is at most its narrow side.",
                               "gaussian keeps 90 % of its energy (Σσ²) at rank 9 and 99 % at rank 10 of 10.",
                               "For 90 % of the energy photo needs the smallest share of its rank (33.3 %) and gaussian the "
                               "largest (90.0 %).",
                           }));
        QCOMPARE(findingSource(f[0], "r.csv"), std::string("rows 1, 2 of r.csv"));
    }

    void thresholdsNeverReachedAreNotClaimed() {
        Table t({"rank", "frobenius_error", "relative_error", "energy_kept"}, {"input"});
        // Some ranks only, never reaching 90 %: no "of N", no spectrum explanation, no comparison.
        t.addRow({1, 0.0, 0.0, 0.5, "weights"});
        t.addRow({2, 0.0, 0.0, 0.6, "weights"});
        t.addRow({4, 0.0, 0.0, 0.8, "weights"});
        QCOMPARE(texts(rankFindings(t, {{"weights", 4000, 4}})),
                 (std::vector<std::string>{"weights keeps less than 90 % of its energy up to rank 4 (80.0 %)."}));
    }

    void speedupBreakEvenAndShareOfTheModel() {
        Table t({"rank", "flop_model_speedup", "measured_speedup"});
        const double ranks[] = {8, 16, 32, 64, 128};
        const double measured[] = {6.4, 4.8, 1.6, 0.8, 0.4};
        for (int i = 0; i < 5; ++i) t.addRow({ranks[i], 102.4 / ranks[i], measured[i]});
        QCOMPARE(texts(speedupFindings(t, 102.4)),
                 (std::vector<std::string>{
                     "The FLOP model breaks even at rank 102.4 (k·n / (k + n)); measured, the factored product stops paying "
                     "at rank 56 (1.6× at 32, 0.8× at 64).",
                     "Below the FLOP break-even the factored product reaches 50 %–75 % of the model's speed-up (median "
                     "50 %, at rank 32); at rank 8 it is 6.4× faster where the model predicts 12.8×.",
                 }));
    }

    void rowsCitedInTheChartsTable() {
        Table wide({"rank", "flop_model_speedup", "measured_speedup"});
        wide.addRow({8, 12.8, 6.4});
        wide.addRow({16, 6.4, 4.8});
        Table longForm({"rank", "speedup"}, {"estimate"});
        for (const char* estimate : {"FLOP model", "measured"})
            for (double r : {8.0, 16.0}) longForm.addRow({r, 1.0, estimate});
        const Findings f = citingRowsOf({{"at 16", {1}}, {"both", {0, 1}}}, wide, longForm, "rank");
        QCOMPARE(findingSource(f[0], "s.csv"), std::string("rows 2, 4 of s.csv"));
        QCOMPARE(findingSource(f[1], "s.csv"), std::string("rows 1, 2, 3, 4 of s.csv"));
        QCOMPARE(f[1].text, std::string("both"));
    }

    void speedupThatNeverCrossesSaysSo() {
        Table faster({"rank", "flop_model_speedup", "measured_speedup"});
        faster.addRow({8, 12.8, 3.0});
        faster.addRow({128, 0.8, 1.2});
        QCOMPARE(speedupFindings(faster, 102.4).front().text,
                 std::string("The FLOP model breaks even at rank 102.4 (k·n / (k + n)); measured, the factored product is "
                             "faster at every rank up to 128 (1.2×)."));
        Table slower({"rank", "flop_model_speedup", "measured_speedup"});
        slower.addRow({128, 0.8, 0.5});
        const Findings f = speedupFindings(slower, 102.4);
        QCOMPARE(f.size(), std::size_t{1});  // the model promises no gain at 128: no share to quote
        QCOMPARE(f.front().text, std::string("The FLOP model breaks even at rank 102.4 (k·n / (k + n)); measured, the factored "
                                             "product is slower at every rank, even at rank 128 (0.5×)."));
    }

    void smallestNetworkWithinToleranceAndTheFront() {
        Table t({"compression_ratio", "accuracy", "median_ms", "pareto"}, {"setting"});
        t.addRow({0.03, 0.80, 1.0, 1, "rank 4"});
        t.addRow({0.1, 0.975, 1.5, 1, "rank 16"});
        t.addRow({0.4, 0.977, 3.0, 0, "rank 64"});
        t.addRow({1.0, 0.978, 2.5, 1, "dense"});
        const Findings f = compressionFindings(t);
        QCOMPARE(texts(f), (std::vector<std::string>{
                               "The smallest network within 0.5 point of dense (97.80 %) is rank 16: 10.0 % of the "
                               "parameters, 97.50 % accurate, measured 1.67× faster than dense (1.5 vs 2.5 ms).",
                               "On the runtime-vs-accuracy Pareto front, fastest first: rank 4 (1 ms, 80.00 %), rank 16 "
                               "(1.5 ms, 97.50 %) and dense (2.5 ms, 97.80 %); each other setting is matched or beaten in "
                               "both time and accuracy by one of these.",
                           }));
        QCOMPARE(findingSource(f[0], "c.csv"), std::string("rows 2, 4 of c.csv"));
    }

    void noSettingWithinToleranceIsSaid() {
        Table t({"compression_ratio", "accuracy", "median_ms", "pareto"}, {"setting"});
        t.addRow({0.1, 0.96, std::nan(""), 0, "rank 16"});
        t.addRow({0.03, 0.80, std::nan(""), 0, "rank 4"});
        t.addRow({1.0, 0.978, std::nan(""), 0, "dense"});
        t.addRow({1.0, 0.978, std::nan(""), 0, "rank 512"});  // every layer at full rank: no compression
        // Untimed: no Pareto sentence.
        QCOMPARE(texts(compressionFindings(t)),
                 (std::vector<std::string>{"No compressed setting stays within 0.5 point of dense (97.80 %); the most "
                                           "accurate, rank 16, reaches 96.00 %."}));
        // Without a dense row there is nothing to compare with.
        QCOMPARE(compressionFindings(t.filtered("setting", "rank 4")).size(), std::size_t{0});
    }

    void lowRankEfficiencyAgainstTheFlopModel() {
        Table t({"flop_ratio", "median_ms"}, {"setting"});
        t.addRow({0.05, 1.0, "rank 8"});    // 20× promised, 4× measured: 20 %
        t.addRow({0.1, 1.0, "rank 16"});    // 10× promised, 4× measured: 40 %
        t.addRow({0.25, 2.0, "rank 64"});   // 4× promised, 2× measured: 50 %
        t.addRow({1.0, 5.0, "rank 512"});   // no fewer FLOPs: no share to quote
        t.addRow({1.0, 4.0, "dense"});
        const Findings f = lowRankEfficiencyFindings(t);
        QCOMPARE(texts(f), (std::vector<std::string>{"The factored network reaches 20 %–50 % (median 40 %) of the speed-up its "
                                                     "FLOP count promises; rank 16 does 10.0 % of dense's FLOPs in 25.0 % of "
                                                     "its time (1 vs 4 ms)."}));
        QCOMPARE(findingSource(f[0], "c.csv"), std::string("rows 1, 2, 3, 5 of c.csv"));
        QCOMPARE(lowRankEfficiencyFindings(t.filtered("setting", "dense")).size(), std::size_t{0});
    }

    void runtimeAgainstTheDefaultAndSpreads() {
        Table t({"median_ms", "min_ms", "max_ms"}, {"algorithm", "status"});
        t.addRow({1.0, 0.9, 1.1, "winograd-4x4", "ok"});
        t.addRow({2.0, 1.9, 2.1, "direct", "ok"});
        t.addRow({4.0, 2.0, 6.0, "fft", "ok"});  // spread 4 ms around 4: uncertain
        t.addRow({std::nan(""), std::nan(""), std::nan(""), "winograd-6x6", "cannot run the shape"});
        const Findings f = runtimeFindings(t, "direct");
        QCOMPARE(texts(f), (std::vector<std::string>{
                               "Against direct (2 ms): winograd-4x4 2× faster and fft 2× slower.",
                               "The repeats of fft (2–6 ms around 4) spread by more than half their median: the order of "
                               "these is uncertain; measure again with more repeats (kernelscope-cli bench).",
                           }));
        QCOMPARE(findingSource(f[0], "r.csv"), std::string("rows 1, 2, 3 of r.csv"));
        // Without the baseline among the results, no comparison.
        QCOMPARE(runtimeFindings(t.filtered("algorithm", "winograd-4x4"), "direct").size(), std::size_t{0});
    }

    void binnedAgainstSequentialAndLinear() {
        Table t({"fraction_bits", "rel_error_exact", "rel_error_quantised"}, {"method"});
        const double floor[] = {0.1, 0.01, 0.001};
        for (int b = 0; b < 3; ++b) {
            t.addRow({b, floor[b], 0.0, "quantised"});
            t.addRow({b, floor[b], 3e-16, "lns-binned-exact"});          // exact up to the reference's rounding
            t.addRow({b, floor[b], 0.002, "lns-binned-b8"});             // above the floor from 2 bits on
            t.addRow({b, 10 * floor[b], 0.5 * b + 0.2, "lns-sequential-exact"});  // above it everywhere
            t.addRow({b, floor[b], 1e-7, "log"});                        // below it everywhere
        }
        const Findings f = lnsFindings(t);
        QCOMPARE(texts(f), (std::vector<std::string>{
                               "The error of binned accumulation with exact constants is the quantisation floor at every "
                               "width (0–2 fraction bits): its accumulation error is at most 3e-16, rounding in the reference sums.",
                               "The accumulation error of binned accumulation with 8-bit constants (0.002) exceeds the "
                               "quantisation floor from 2 fraction bits on (0.002 against 0.001): from there it, not the "
                               "format, limits the accuracy.",
                               "The accumulation error of sequential LNS addition (0.2–1.2) exceeds the quantisation floor at "
                               "every width (0–2 fraction bits; at 0 bits 0.2 against 0.1).",
                               "The accumulation error of linear float32 accumulation (1e-07) stays below the quantisation floor "
                               "at every width (0–2 fraction bits).",
                               "Against the exact sums, sequential LNS addition's error is 10× that of binned accumulation "
                               "with exact constants.",
                           }));
        QCOMPARE(findingSource(f[1], "l.csv"), std::string("rows 1, 3, 6, 8, 11, 13 of l.csv"));
        // Without the floor there is nothing to measure against.
        QCOMPARE(lnsFindings(t.filtered("method", "log")).size(), std::size_t{0});
    }

    // Accumulation over bits: the fewest bits from which the error stays within 0.1 % (a dip that rises again does not
    // count), and a model that never gets there.
    void accumulatorBitsForAThousandth() {
        Table t({"x", "rel_error_median", "rel_error_p10", "rel_error_p90", "dots"}, {"model", "spec"});
        const double sequential[] = {1e-2, 2e-3, 1e-3, 5e-4};
        const double dipping[] = {5e-4, 2e-3, 8e-4, 4e-4};  // within at 10 bits, out at 11, within again from 12
        for (int i = 0; i < 4; ++i) {
            t.addRow({10 + i, sequential[i], 0, 0, 8, "sequential", "s"});
            t.addRow({10 + i, dipping[i], 0, 0, 8, "pairwise", "p"});
            t.addRow({10 + i, 0.05, 0, 0, 8, "tensor core", "t"});
        }
        const Findings f = accumulationFindings(t, "accumulator bits");
        QCOMPARE(texts(f), (std::vector<std::string>{"For a median error of 0.1 % the accumulator needs: sequential 12 bits and "
                                                     "pairwise 12. The tensor core model does not reach it even at 13 bits."}));
        QCOMPARE(findingSource(f[0], "a.csv"), std::string("rows 7, 8, 12 of a.csv"));
        // Over another parameter: first and last value of each model.
        const Findings other = accumulationFindings(t, "length");
        QCOMPARE(texts(other), (std::vector<std::string>{"From length 10 to 13, the median error goes: sequential from 0.01 to "
                                                         "0.0005, pairwise from 0.0005 to 0.0004 and tensor core from 0.05 to 0.05."}));
        QCOMPARE(accumulationFindings(Table({"x", "rel_error_median"}, {"model"}), "length").size(), std::size_t{0});
    }

    // Block-scaled against element-wise of the same width: partners by the bits rounded down; a format without a
    // partner or without a finite error is left out, as is another method's row.
    void blockScaledAgainstElementwise() {
        std::vector<PrecisionRow> rows = {{"direct", 0, 0.08}, {"direct", 1, 0.04}, {"direct", 2, 0.2},
                                          {"direct", 3, std::nan("")}, {"fft", 0, 9.0}};
        Table t = precisionTable(rows, "specs");
        // bits and formats as a spec list has them (precisionTable's are a family's).
        Table u({"position", "bits", "rel_error_median", "rel_error_p10", "rel_error_p90", "max_abs_error_median",
                 "mean_abs_error_median", "nonfinite", "trials"},
                {"operation", "method", "family", "format", "status"});
        const double bits[] = {8.25, 8, 4.25, 4.5};
        const char* names[] = {"mxfp8-e4m3/fp32", "e4m3/fp32", "mxfp4/fp32", "nvfp4/fp32"};
        for (std::size_t r = 0; r < t.rowCount(); ++r) {
            const int p = int(t.numbers("position")[r]);
            const double e = t.numbers("rel_error_median")[r];
            u.addRow({p, bits[p], e, e, e, e, e, 0, 1, "conv", t.labels("method")[r], "specs", names[p], "ok"});
        }
        QCOMPARE(texts(scaledFormatFindings(u, "direct")),
                 (std::vector<std::string>{"For direct, each block-scaled format's error as a multiple of the element-wise "
                                           "format of its width: mxfp8-e4m3/fp32 2× e4m3/fp32 (0.08 against 0.04)."}));
        QCOMPARE(scaledFormatFindings(u, "winograd-4x4").size(), std::size_t{0});
    }

    void scalePlacementOnlyWhereItChanges() {
        Table t({"position", "bits", "rel_error_median", "rel_error_p10", "rel_error_p90", "max_abs_error_median",
                 "mean_abs_error_median", "nonfinite", "trials"},
                {"operation", "method", "family", "format", "status"});
        const auto row = [&](int position, const char* method, const char* format, double error) {
            t.addRow({position, 4.25, error, error, error, error, error, 0, 1, "conv", method, "specs", format, "ok"});
        };
        row(0, "direct", "mxfp4/fp32", 0.2);
        row(1, "direct", "mxfp4/fp32:scales=tiles", 0.2);  // no transforms: the same, not mentioned
        row(0, "winograd-4x4", "mxfp4/fp32", 0.25);
        row(1, "winograd-4x4", "mxfp4/fp32:scales=tiles", 2.0);
        row(0, "fft", "mxfp4/fp32", 0.3);
        row(1, "fft", "mxfp4/fp32:scales=tiles", 0.15);
        row(2, "winograd-4x4", "nvfp4/fp32:scales=tiles", 1.0);  // no operands' partner: nothing said
        const Findings f = scalePlacementFindings(t);
        QCOMPARE(texts(f), (std::vector<std::string>{"With mxfp4/fp32 blocks on the transformed tiles instead of the operands, "
                                                     "the error is, as a multiple of the operands' blocks: winograd-4x4 8× "
                                                     "(2 against 0.25) and fft 0.5× (0.15 against 0.3)."}));
        QCOMPARE(f.front().rows, (std::vector<std::size_t>{3, 2, 5, 4}));
    }

    void binnedWidthThatSuffices() {
        Table t({"accumulator_bits", "rel_error_exact"}, {"method"});
        const double errors[] = {0.5, 0.05, 0.0105, 0.0102, 0.01};  // within 10 % of 0.01 from 12 bits on
        const int widths[] = {4, 8, 12, 16, 32};
        for (int i = 0; i < 5; ++i) {
            t.addRow({widths[i], errors[i], "lns-binned-exact"});
            t.addRow({widths[i], 0.02, "lns-binned-b8"});  // flat: every width suffices from the narrowest
        }
        QCOMPARE(texts(binnedWidthFindings(t)),
                 (std::vector<std::string>{"lns-binned-exact: 12-bit accumulators are as good as 32-bit ones, within 10 % "
                                           "(0.0105 against 0.01); narrower ones drop the small products' low bits.",
                                           "lns-binned-b8: 4-bit accumulators are as good as 32-bit ones, within 10 % (0.02 "
                                           "against 0.02); narrower ones drop the small products' low bits."}));
    }

    void swampingOnlyWhereItGrows() {
        Table t({"k", "rel_error"}, {"model"});
        for (int k : {1, 16, 32, 1024, 4096}) {
            t.addRow({k, k <= 32 ? 1e-5 : 1e-5 * k / 32, "sequential"});  // 128× by 4096
            t.addRow({k, 2e-6, "pairwise"});                             // flat: nothing to say
        }
        QCOMPARE(texts(swampingFindings(t)),
                 (std::vector<std::string>{"The sequential running sum's error grows 128× from the first 32 products (at "
                                           "most 1e-05) to all 4096 (0.00128): as the sum grows, each product's low bits "
                                           "fall below its last place."}));
    }

    void networkLossesAgainstFloat32() {
        Table t({"position", "bits", "accuracy", "median_ms", "test_digits"}, {"spec"});
        t.addRow({0, 4.25, 0.950, 0, 500, "mxfp4/fp32"});
        t.addRow({1, 32, 0.966, 0, 500, "fp32"});
        t.addRow({2, 8, 0.964, 0, 500, "hopper-fp8"});
        QCOMPARE(texts(specAccuracyFindings(t)),
                 (std::vector<std::string>{"Against fp32's 96.6 %, accuracy falls by mxfp4/fp32 1.6 points."}));
        Table close = t.filtered("spec", "fp32");
        close.addRow({2, 8, 0.964, 0, 500, "hopper-fp8"});
        QCOMPARE(texts(specAccuracyFindings(close)),
                 (std::vector<std::string>{"Every specification stays within 0.2 point of fp32's 96.6 % on these digits."}));
    }
};

QTEST_APPLESS_MAIN(tst_Findings)
#include "tst_findings.moc"
