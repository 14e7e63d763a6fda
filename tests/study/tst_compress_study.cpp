// The network-compression study on the embedded pretrained MLP and its 2,000 test digits:
// accuracy rises with rank, full rank is the dense network, the compression ratio is the closed
// form r·(in + out) + out per factored layer, and the Pareto front is exactly the non-dominated set.
#include <QTest>

#include <cmath>
#include <random>

#include "nn/model.hpp"
#include "reference_forward.hpp"
#include "test_support.hpp"
#include "study/compress_study.hpp"
#include "study/network_precision.hpp"
#include "numeric/compute_spec.hpp"

using namespace ks;
using study::CompressionStudy;
using study::CompressSweep;

namespace {

double valueAt(const study::Table& t, const std::string& setting, const std::string& column) {
    const auto& names = t.labels("setting");
    for (std::size_t r = 0; r < t.rowCount(); ++r)
        if (names[r] == setting) return t.numbers(column)[r];
    return std::nan("");
}

/// Brute-force definition: dominated when another point is both at least as good in each and better in one.
bool dominated(std::size_t i, const std::vector<double>& t, const std::vector<double>& a) {
    for (std::size_t j = 0; j < t.size(); ++j)
        if (j != i && t[j] <= t[i] && a[j] >= a[i] && (t[j] < t[i] || a[j] > a[i])) return true;
    return false;
}

/// Parameters of the seed's MLP with each layer at rank r (dense when r ≥ min(in, out)), closed form.
double mlpParameters(std::int64_t r) {
    auto layer = [&](double in, double out) {
        return double(r) >= std::min(in, out) ? in * out + out : double(r) * (in + out) + out;
    };
    return layer(784, 512) + layer(512, 128) + layer(128, 10);
}

}  // namespace

class tst_CompressStudy : public QObject {
    Q_OBJECT
    std::shared_ptr<const CompressionStudy> study_;
    study::Table sweep_;

private Q_SLOTS:
    void initTestCase() {
        study_ = CompressionStudy::embedded();
        QCOMPARE(study_->layerNames(), (std::vector<std::string>{"fc1", "fc2", "fc3"}));
        QCOMPARE(study_->testDigits().count(), std::size_t(2000));
        CompressSweep s;
        s.sharedRanks = {4, 8, 16, 32, 64, 512};
        s.timing = {1, 3, 20, 0.0};
        sweep_ = study_->run(s);
        QCOMPARE(sweep_.rowCount(), std::size_t(7));  // six ranks and "dense"
    }

    void accuracyRisesWithRank() {
        const double a4 = valueAt(sweep_, "rank 4", "accuracy");
        const double a8 = valueAt(sweep_, "rank 8", "accuracy");
        const double a32 = valueAt(sweep_, "rank 32", "accuracy");
        const double full = valueAt(sweep_, "rank 512", "accuracy");
        qInfo("accuracy: rank 4 %.4f, rank 8 %.4f, rank 32 %.4f, full %.4f", a4, a8, a32, full);
        QVERIFY(a4 < a8);
        QVERIFY(a8 < a32);
        // Beyond rank 32 accuracy may wobble by a few digits, but not fall far below the dense network.
        QVERIFY(a32 <= full + 0.005);
        QVERIFY(a32 > full - 0.03);
        QVERIFY(a4 < full - 0.1);  // rank 4 really loses information
    }

    void fullRankIsTheDenseNetwork() {
        // Reference: the test's own double forward of the dense weights (reference_forward.hpp), not core/nn's.
        // core/nn's float32 forward is within float32's rounding of it (a 784-512-128-10 network: 1e-3 is
        // ~16× its worst-case bound γ_784·Σ|w||x| here), so the two classify alike but for close calls.
        const nn::MatrixF out = study_->dense().forward(study_->testInputs());
        const ks::test::MatrixD reference =
            ks::test::referenceForward(study_->dense(), study_->testInputs().cast<double>());
        const ks::test::PredictionCheck check =
            ks::test::comparePredictions(out.cast<double>(), reference, study_->testDigits().labels);
        QVERIFY2(check.maxError < 1e-3, qPrintable(QString::number(check.maxError)));
        QCOMPARE(check.disagreements, std::size_t(0));
        const double referenceAccuracy = double(check.referenceCorrect) / 2000.0;
        QVERIFY(referenceAccuracy > 0.9);  // the pretrained weights are trained
        const double dense = valueAt(sweep_, "dense", "accuracy");
        QVERIFY2(std::fabs(dense - referenceAccuracy) * 2000 <= double(check.closeCalls),
                 qPrintable(QString("study %1, reference %2, %3 close calls").arg(dense).arg(referenceAccuracy).arg(check.closeCalls)));
        // Full rank is the dense network itself (r ≥ min(in, out) keeps a layer dense): the same figure.
        KS_COMPARE_EXACT(valueAt(sweep_, "rank 512", "accuracy"), dense);
        KS_COMPARE_EXACT(valueAt(sweep_, "dense", "compression_ratio"), 1.0);
        KS_COMPARE_EXACT(valueAt(sweep_, "dense", "flop_ratio"), 1.0);
        KS_COMPARE_EXACT(valueAt(sweep_, "dense", "energy_kept"), 1.0);
    }

    void compressionRatioClosedForm_data() {
        QTest::addColumn<int>("rank");
        for (int r : {1, 4, 9, 10, 16, 64, 101, 102, 127, 128, 256, 310, 311, 512})
            QTest::newRow(qPrintable(QString::number(r))) << r;
    }
    void compressionRatioClosedForm() {
        QFETCH(int, rank);
        const nn::Model m = study_->compressed(study_->sharedRanks(rank));
        KS_COMPARE_EXACT(double(m.parameterCount()), mlpParameters(rank));
        KS_COMPARE_EXACT(m.compressionRatio(), mlpParameters(rank) / 468874.0);
        // The model-free formula the GUI's marker uses agrees with the built model.
        KS_COMPARE_EXACT(study::compressionRatioOf(study_->dense(), study_->sharedRanks(rank)), m.compressionRatio());
        KS_COMPARE_EXACT(study::flopRatioOf(study_->dense(), study_->sharedRanks(rank)),
                 m.flopsPerSample() / study_->dense().flopsPerSample());
        // fc3 (10×128) is never factored beyond its full rank 10: min(r, 10).
        QCOMPARE(study_->sharedRanks(rank).at("fc3"), std::int64_t(std::min(rank, 10)));
    }

    // A CNN: the convolutions' FLOPs scale with their output size (the digit CNN, 28×28 input), its
    // parameters do not; only the Linear layers are factored. Past every layer's full rank a sweep
    // evaluates the network once.
    void cnnRatiosClosedForm() {
        const nn::Model cnn = nn::Model::digitCnn(1);
        const study::LayerRanks ranks = {{"fc1", 8}, {"fc2", 8}};
        const double conv = 2.0 * 8 * 9 * 28 * 28 + 2.0 * 16 * 72 * 14 * 14;
        const double flops = (conv + 2.0 * 8 * (784 + 64) + 2.0 * 8 * (64 + 10)) / (conv + 2.0 * 784 * 64 + 2.0 * 64 * 10);
        KS_COMPARE_EXACT(study::flopRatioOf(cnn, ranks), flops);
        const double convParams = 8 * 9 + 8 + 16 * 72 + 16;
        const double params = (convParams + 8.0 * (784 + 64) + 64 + 8.0 * (64 + 10) + 10) / 52138.0;
        KS_COMPARE_EXACT(study::compressionRatioOf(cnn, ranks), params);

        study::CompressionStudy small(cnn, study_->testDigits(), {}, "cnn");
        study::CompressSweep s;
        s.sharedRanks = {8, 64, 128, 512};
        QCOMPARE(small.settings(s).size(), std::size_t{3});  // rank 8, rank 64 (= full), dense
    }

    void tableColumnsMatchTheClosedForm() {
        for (std::int64_t r : {4, 8, 16, 32, 64}) {
            const std::string s = "rank " + std::to_string(r);
            KS_COMPARE_EXACT(valueAt(sweep_, s, "params"), mlpParameters(r));
            KS_COMPARE_EXACT(valueAt(sweep_, s, "compression_ratio"), mlpParameters(r) / 468874.0);
            KS_COMPARE_EXACT(valueAt(sweep_, s, "rank_fc1"), double(r));
            KS_COMPARE_EXACT(valueAt(sweep_, s, "rank_fc3"), double(std::min<std::int64_t>(r, 10)));
            // FLOPs are 2 per weight: the same closed form without biases.
            const double weights = mlpParameters(r) - (512 + 128 + 10);
            KS_COMPARE_EXACT(valueAt(sweep_, s, "flop_ratio"), weights / (468874.0 - 650));
            KS_COMPARE_EXACT(valueAt(sweep_, s, "ms_per_image"), valueAt(sweep_, s, "median_ms") / 2000.0);
        }
    }

    void paretoFrontOfTheSweep() {
        const auto& t = sweep_.numbers("median_ms");
        const auto& a = sweep_.numbers("accuracy");
        const auto& p = sweep_.numbers("pareto");
        std::size_t fastest = 0, best = 0;
        for (std::size_t i = 0; i < t.size(); ++i) {
            QVERIFY(t[i] > 0);
            QCOMPARE(p[i] != 0, !dominated(i, t, a));
            if (t[i] < t[fastest] || (t[i] == t[fastest] && a[i] > a[fastest])) fastest = i;
            if (a[i] > a[best] || (a[i] == a[best] && t[i] < t[best])) best = i;
        }
        KS_COMPARE_EXACT(p[fastest], 1.0);
        KS_COMPARE_EXACT(p[best], 1.0);
    }

    void paretoFrontRandom_data() {
        QTest::addColumn<int>("seed");
        QTest::addColumn<int>("points");
        for (int seed = 1; seed <= 6; ++seed) QTest::newRow(qPrintable(QString("seed %1").arg(seed))) << seed << 5 * seed;
    }
    void paretoFrontRandom() {
        QFETCH(int, seed);
        QFETCH(int, points);
        std::mt19937 rng(static_cast<unsigned>(seed));
        std::uniform_int_distribution<int> coarse(0, 6);  // coarse values: plenty of ties
        std::vector<double> t, a;
        for (int i = 0; i < points; ++i) t.push_back(coarse(rng)), a.push_back(coarse(rng) / 6.0);
        const std::vector<bool> front = study::paretoFront(t, a);
        for (std::size_t i = 0; i < t.size(); ++i) QCOMPARE(bool(front[i]), !dominated(i, t, a));
    }

    void paretoFrontIgnoresNaN() {
        const std::vector<bool> f = study::paretoFront({1, std::nan(""), 2}, {0.5, 0.9, 0.8});
        QCOMPARE(f, (std::vector<bool>{true, false, true}));
    }

    void runtimeAccuracyChartSeries() {
        const auto chart = study::runtimeAccuracyChart(sweep_, study::CurrentPoint{3.0, 0.5});
        QCOMPARE(chart.spec.seriesColumn, std::string("series"));
        const auto& series = chart.table.labels("series");
        std::size_t settings = 0, front = 0, current = 0;
        for (const auto& s : series) settings += s == "settings", front += s == "pareto front", current += s == "current";
        QCOMPARE(settings, sweep_.rowCount());
        double onFront = 0;
        for (double v : sweep_.numbers("pareto")) onFront += v;
        KS_COMPARE_EXACT(double(front), onFront);
        QCOMPARE(current, std::size_t(1));
        KS_COMPARE_EXACT(chart.spec.currentX.value(), 3.0);
        // The front is drawn by increasing runtime.
        const auto filtered = chart.table.filtered("series", "pareto front");
        const auto& ms = filtered.numbers("median_ms");
        QVERIFY(std::is_sorted(ms.begin(), ms.end()));
    }

    void energyThreshold() {
        for (const auto& name : study_->layerNames()) {
            QCOMPARE(study_->energyRanks(1.0).at(name), study_->fullRank(name));
            std::int64_t previous = 0;
            for (double e : {0.3, 0.6, 0.9, 0.99}) {
                const std::int64_t r = study_->energyRanks(e).at(name);
                QVERIFY(r >= previous);
                QVERIFY(study_->energyKept(name, r) >= e);
                if (r > 1) QVERIFY(study_->energyKept(name, r - 1) < e);  // the smallest such rank
                previous = r;
            }
        }
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, study_->energyRanks(0.0));
    }

    void perLayerSettings() {
        CompressSweep s;
        s.mode = study::CompressionMode::PerLayerRanks;
        s.layerRanks = {{{"fc1", 44}, {"fc2", 20}}};
        s.includeDense = false;
        const auto list = study_->settings(s);
        QCOMPARE(list.size(), std::size_t(1));
        QCOMPARE(list[0].first, std::string("fc1=44,fc2=20"));
        QCOMPARE(list[0].second.at("fc3"), std::int64_t(10));  // unnamed layers stay dense
        s.layerRanks = {{{"fc9", 4}}};
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, study_->settings(s));
    }

    void fineTuningRecoversAccuracy() {
        // One epoch over the 8,000 training digits lifts a rank-4 network far above its truncation.
        CompressSweep s;
        s.measureTime = false;
        const auto truncated = study_->evaluate("rank 4", study_->sharedRanks(4), s);
        s.fineTuneEpochs = 1;
        const auto tuned = study_->evaluate("rank 4", study_->sharedRanks(4), s);
        qInfo("rank 4: %.4f truncated, %.4f after one epoch of fine-tuning", truncated.accuracy, tuned.accuracy);
        QCOMPARE(tuned.fineTuneEpochs, 1);
        QVERIFY(tuned.accuracy > truncated.accuracy + 0.05);
        QCOMPARE(tuned.params, truncated.params);  // the factors' shapes are kept
    }

    // Which settings classify all test digits live: those the float32 lanes run, the conv layers' algorithm
    // included; the others classify the subset.
    void liveTestDigitsWhereLanesRun_data() {
        QTest::addColumn<bool>("cnn");
        QTest::addColumn<QString>("spec");
        QTest::addColumn<QString>("algorithm");
        QTest::addColumn<bool>("all");
        QTest::newRow("mlp native") << false << "native" << "direct" << true;
        QTest::newRow("mlp fp16") << false << "fp16" << "direct" << true;
        QTest::newRow("mlp e4m3:ru") << false << "e4m3:ru" << "direct" << true;
        QTest::newRow("mlp fp16:sr") << false << "fp16:sr" << "direct" << true;
        QTest::newRow("mlp bf16:sr") << false << "bf16:sr" << "direct" << true;
        QTest::newRow("mlp fp16/fp32:sr") << false << "fp16/fp32:sr" << "direct" << true;
        QTest::newRow("mlp fp32/fp16:sr") << false << "fp32/fp16:sr" << "direct" << false;  // float32 operands: the reference
        QTest::newRow("mlp fp32/e8m13") << false << "fp32/e8m13" << "direct" << false;
        QTest::newRow("mlp tf32") << false << "tf32" << "direct" << true;  // float32 lanes where the operands allow
        QTest::newRow("cnn tf32 direct") << true << "tf32" << "direct" << true;  // float32 lanes where the operands allow
        QTest::newRow("cnn tf32 winograd-4x4") << true << "tf32" << "winograd-4x4" << false;  // double lanes
        QTest::newRow("cnn fp16 direct") << true << "fp16" << "direct" << true;
        QTest::newRow("cnn bf16:rd winograd-4x4") << true << "bf16:rd" << "winograd-4x4" << true;
        QTest::newRow("cnn e4m3/fp16 fft") << true << "e4m3/fp16" << "fft" << true;
        QTest::newRow("cnn e8m13 direct") << true << "e8m13" << "direct" << false;
        QTest::newRow("cnn e4m3:sr im2col") << true << "e4m3:sr" << "im2col" << true;
        QTest::newRow("cnn fp16:sr winograd-4x4") << true << "fp16:sr" << "winograd-4x4" << true;
        QTest::newRow("cnn fp16:sr fft") << true << "fp16:sr" << "fft" << false;  // its transforms are not keyed yet
    }
    void liveTestDigitsWhereLanesRun() {
        QFETCH(bool, cnn);
        QFETCH(QString, spec);
        QFETCH(QString, algorithm);
        QFETCH(bool, all);
        const nn::Model model = cnn ? nn::Model::digitCnn(3) : nn::Model::mlp({784, 32, 10}, 3);
        const std::size_t got = study::liveTestDigits(model, numeric::parseComputeSpec(spec.toStdString()),
                                                      algorithm.toStdString(), 200);
        QCOMPARE(got, all ? std::size_t(0) : std::size_t(200));
    }

    void cancelStopsTheSweep() {
        std::atomic<bool> cancel{true};
        CompressSweep s;
        QVERIFY_THROWS_EXCEPTION(Cancelled, study_->run(s, Progress({}, &cancel)));
    }
};

QTEST_GUILESS_MAIN(tst_CompressStudy)
#include "tst_compress_study.moc"
