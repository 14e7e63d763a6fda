// The network: inference against a hand-computed network, low-rank truncation (Eckart–Young and
// the parameter count), emulated arithmetic against a double reference, building from weight sets.
#include <QTest>

#include "reference_forward.hpp"
#include "test_support.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

#include "base/cpu_caches.hpp"
#include "io/weights.hpp"
#include "nn/layer_kernels.hpp"
#include "nn/low_rank.hpp"
#include "matmul/matmul_registry.hpp"
#include "nn/model.hpp"
#include "numeric/compute_spec.hpp"

using namespace ks;

namespace {

io::NamedTensor named(const std::string& name, Shape shape, std::vector<float> values) {
    return {name, TensorF(std::move(shape), std::move(values)), "float32"};
}

/// 3 → 2 → 2 with small integer weights: every value below is worked out by hand.
io::WeightSet handNetwork() {
    io::WeightSet set;
    set.tensors = {named("fc1.weight", {2, 3}, {1, -1, 2, 0.5f, 0, -1}), named("fc1.bias", {2}, {0.5f, -1}),
                   named("fc2.weight", {2, 2}, {2, 0, -1, 1}), named("fc2.bias", {2}, {0, 1})};
    return set;
}

/// Log-softmax of two logits in double.
std::pair<double, double> logSoftmax2(double a, double b) {
    const double m = std::max(a, b), lse = m + std::log(std::exp(a - m) + std::exp(b - m));
    return {a - lse, b - lse};
}

nn::MatrixF randomMatrix(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
    std::srand(seed);
    return nn::MatrixF::Random(rows, cols);
}

using ks::test::errorOf;

/// Any stack of Linear, low-rank, ReLU and log-softmax layers, in double: the independent reference
/// of the float32 forward pass.
Eigen::MatrixXd forwardInDouble(const nn::Model& model, const nn::MatrixF& input) {
    Eigen::MatrixXd x = input.cast<double>();
    for (const nn::Layer& l : model.layers()) {
        switch (l.kind) {
            case nn::LayerKind::Linear: x = x * l.weight.cast<double>().transpose(); break;
            case nn::LayerKind::LowRankLinear:
                x = (x * l.down.cast<double>().transpose()) * l.up.cast<double>().transpose();
                break;
            case nn::LayerKind::ReLU: x = x.cwiseMax(0.0); break;
            case nn::LayerKind::LogSoftmax:
                for (Eigen::Index r = 0; r < x.rows(); ++r) {
                    const double m = x.row(r).maxCoeff();
                    x.row(r).array() -= m + std::log((x.row(r).array() - m).exp().sum());
                }
                break;
            default: qFatal("forwardInDouble: only fully connected networks");
        }
        if ((l.kind == nn::LayerKind::Linear || l.kind == nn::LayerKind::LowRankLinear) && l.bias.size())
            x.rowwise() += l.bias.cast<double>().transpose();
    }
    return x;
}

}  // namespace

class tst_Model : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // Row-wise log-softmax against double: narrow rows go through a grouped path, wide ones row
    // by row; logits far from zero (the shift by the row's maximum), and a NaN stays in its row.
    void logSoftmaxAgainstDouble_data() {
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("cols");
        for (int rows : {1, 17, 300})
            for (int cols : {1, 3, 10, 31, 32, 100, 1500}) QTest::addRow("%dx%d", rows, cols) << rows << cols;
    }
    void logSoftmaxAgainstDouble() {
        QFETCH(int, rows);
        QFETCH(int, cols);
        nn::MatrixF z = randomMatrix(rows, cols, 7) * 20.0f;
        z.row(0).array() += 1000.0f;  // exp() without the shift would overflow
        if (rows > 2) z(2, cols / 2) = std::numeric_limits<float>::quiet_NaN();
        const nn::MatrixF input = z;
        nn::detail::logSoftmaxRows(z);
        for (int r = 0; r < rows; ++r) {
            const Eigen::RowVectorXd x = input.row(r).cast<double>();
            const bool hasNaN = x.hasNaN();
            const double m = hasNaN ? 0.0 : x.maxCoeff();
            const double lse = m + std::log((x.array() - m).exp().sum());
            for (int c = 0; c < cols; ++c) {
                if (hasNaN) {
                    QVERIFY2(std::isnan(z(r, c)), qPrintable(QStringLiteral("row %1 has a NaN: every output NaN").arg(r)));
                    continue;
                }
                // float's rounding of the logit and of z - lse (logits near 1000: ulp 6e-5)
                const double expected = x(c) - lse;
                const double tolerance = 4 * std::numeric_limits<float>::epsilon() * (std::abs(x(c)) + std::abs(lse)) + 1e-6;
                QVERIFY2(std::abs(z(r, c) - expected) <= tolerance,
                         qPrintable(QStringLiteral("(%1, %2): %3, expected %4").arg(r).arg(c).arg(z(r, c)).arg(expected)));
            }
        }
    }

    void handComputedNetwork() {
        const nn::Model model = nn::Model::fromWeights(handNetwork());
        QCOMPARE(model.layers().size(), std::size_t{4});  // Linear, ReLU, Linear, LogSoftmax
        QCOMPARE(model.parameterCount(), 6 + 2 + 4 + 2);
        nn::MatrixF x(2, 3);
        x << 1, 2, 3,   //
            -1, 0, 1;
        // Sample 1: fc1 = (1-2+6+0.5, 0.5-3-1) = (5.5, -3.5) → ReLU (5.5, 0) → fc2 = (11, -5.5+1) = (11, -4.5)
        // Sample 2: fc1 = (-1+2+0.5, -0.5-1-1) = (1.5, -2.5) → (1.5, 0) → fc2 = (3, -1.5+1) = (3, -0.5)
        const nn::MatrixF y = model.forward(x);
        const auto [a1, b1] = logSoftmax2(11, -4.5);
        const auto [a2, b2] = logSoftmax2(3, -0.5);
        QVERIFY(std::abs(y(0, 0) - a1) < 1e-6 && std::abs(y(0, 1) - b1) < 1e-6);
        QVERIFY(std::abs(y(1, 0) - a2) < 1e-6 && std::abs(y(1, 1) - b2) < 1e-6);
        const std::vector<std::uint8_t> labels{0, 1};
        KS_COMPARE_EXACT(nn::accuracy(y, labels), 0.5);
        QVERIFY(std::abs(nn::meanNll(y, labels) - (-a1 - b2) / 2) < 1e-6);
    }

    void inPlaceLayersLeaveTheInputAlone_data() {
        QTest::addColumn<int>("threads");
        QTest::newRow("1 thread") << 1;
        QTest::newRow("2 threads") << 2;
    }

    void inPlaceLayersLeaveTheInputAlone() {
        // ReLU works in place on the activations; as the first layer it must work on a copy of the
        // caller's input (which forward() reads in place), not on the input itself.
        QFETCH(int, threads);
        nn::Layer identity;
        identity.kind = nn::LayerKind::Linear;
        identity.name = "fc";
        identity.weight = nn::MatrixF::Identity(3, 3);
        const nn::Model model({nn::Layer::relu("r"), identity, nn::Layer::logSoftmax()}, {3});
        nn::MatrixF x(2, 3);
        x << -1, 0, 2,  //
            1, -3, 1;
        const nn::MatrixF before = x;
        const nn::MatrixF y = model.forward(x, nn::InferenceOptions{threads});
        QVERIFY(x == before);
        // relu: (0, 0, 2) and (1, 0, 1), then log-softmax, in double.
        const double lse0 = std::log(2 + std::exp(2.0)), lse1 = std::log(2 * std::exp(1.0) + 1);
        const double expected[2][3] = {{-lse0, -lse0, 2 - lse0}, {1 - lse1, -lse1, 1 - lse1}};
        for (int i = 0; i < 2; ++i)
            for (int j = 0; j < 3; ++j) QVERIFY2(std::abs(y(i, j) - expected[i][j]) < 1e-6, qPrintable(QString::number(y(i, j))));
    }

    void fullyConnectedAgainstDoubleReference_data() {
        // Small weights are run in tiles of rows (108 here: the 600-wide layer), large ones (fc1 of
        // 300×400) in one block per thread: row counts around the tile and the micro-tiles (6, 4).
        QTest::addColumn<QString>("network");
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("threads");
        for (const char* network : {"tiled", "tiled low-rank", "whole blocks"})
            for (int rows : {1, 5, 107, 108, 109, 217, 450})
                for (int threads : {1, 2})
                    QTest::addRow("%s, %d rows, %d threads", network, rows, threads) << QString(network) << rows << threads;
    }

    void fullyConnectedAgainstDoubleReference() {
        QFETCH(QString, network);
        QFETCH(int, rows);
        QFETCH(int, threads);
        const nn::Model model = network == "whole blocks"  ? nn::Model::mlp({300, 400, 10}, 5)
                                : network == "tiled"        ? nn::Model::mlp({20, 600, 40, 10}, 5)
                                                            : nn::ModelFactorisation(nn::Model::mlp({50, 600, 40, 10}, 5)).withSharedRank(8);
        const nn::MatrixF x = randomMatrix(rows, model.inputFeatures(), unsigned(rows));
        const nn::MatrixF y = model.forward(x, nn::InferenceOptions{threads});
        const double error = (y.cast<double>() - forwardInDouble(model, x)).cwiseAbs().maxCoeff();
        QVERIFY2(error < 2e-5, qPrintable(QString::number(error)));
    }

    void threadsGiveTheSameResult() {
        const nn::Model model = nn::Model::mlp({50, 40, 30, 10}, 7);
        const nn::MatrixF x = randomMatrix(103, 50, 1);
        const nn::MatrixF one = model.forward(x, nn::InferenceOptions{1});
        const nn::MatrixF two = model.forward(x, nn::InferenceOptions{2});
        const nn::MatrixF seven = model.forward(x, nn::InferenceOptions{7});
        QVERIFY((one - two).cwiseAbs().maxCoeff() < 1e-6f);
        QVERIFY((one - seven).cwiseAbs().maxCoeff() < 1e-6f);
    }

    // The forward pass tiles rows (and a CNN's images) by the L2 size it reads at run time: with a small fake
    // L2 (32 KiB on Zen 3) the MLP goes through tiles of 72 rows and the CNN one image at a time, with a large one in one tile;
    // the results are the same bits (each row and image computed by the same kernels in the same order).
    // L1 stays the machine's: it sets sgemm's depth blocks, and with them the order of float32 sums.
    void cacheSizesChangeTilesNotResults() {
        const nn::Model mlp = nn::Model::mlp({50, 40, 30, 10}, 7), cnn = nn::Model::digitCnn(3);
        const nn::MatrixF rows = randomMatrix(203, 50, 2), images = randomMatrix(23, 28 * 28, 3);
        const nn::MatrixF mlpDetected = mlp.forward(rows, nn::InferenceOptions{2});
        const nn::MatrixF cnnDetected = cnn.forward(images, nn::InferenceOptions{2});
        const CacheSizes machine = activeCacheSizes();
        for (const std::int64_t l2 : {machine.l1d, std::int64_t(64) << 20}) {
            setCacheSizes(CacheSizes{machine.l1d, l2, machine.l3 == 0 ? 0 : std::max(machine.l3, l2), {}});
            const nn::MatrixF mlpFake = mlp.forward(rows, nn::InferenceOptions{2});
            const nn::MatrixF cnnFake = cnn.forward(images, nn::InferenceOptions{2});
            setCacheSizes(std::nullopt);
            QVERIFY(std::memcmp(mlpFake.data(), mlpDetected.data(), sizeof(float) * mlpFake.size()) == 0);
            QVERIFY(std::memcmp(cnnFake.data(), cnnDetected.data(), sizeof(float) * cnnFake.size()) == 0);
        }
    }

    void emulatedArithmetic_data() {
        QTest::addColumn<QString>("spec");
        QTest::addColumn<double>("tolerance");
        QTest::newRow("fp64") << "fp64" << 1e-6;   // float32 reference vs double: float rounding only
        QTest::newRow("fp32") << "fp32" << 2e-5;
        // Against the test's own bf16 emulation (reference_forward.hpp): equal but for the final conversion of
        // the log-probabilities to float, 2^-24 relative.
        QTest::newRow("bf16") << "bf16" << 0x1p-24;
    }
    void emulatedArithmetic() {
        QFETCH(QString, spec);
        QFETCH(double, tolerance);
        const nn::Model model = nn::Model::mlp({20, 16, 5}, 3);
        const nn::MatrixF x = randomMatrix(9, 20, 2);
        // Independent reference: the same network in plain double.
        const auto& l1 = model.layers()[0];
        const auto& l2 = model.layers()[2];
        Eigen::MatrixXd h = (x.cast<double>() * l1.weight.cast<double>().transpose()).rowwise() +
                            l1.bias.cast<double>().transpose();
        h = h.cwiseMax(0.0);
        Eigen::MatrixXd z = (h * l2.weight.cast<double>().transpose()).rowwise() + l2.bias.cast<double>().transpose();
        for (Eigen::Index r = 0; r < z.rows(); ++r) {
            const double m = z.row(r).maxCoeff();
            z.row(r).array() -= m + std::log((z.row(r).array() - m).exp().sum());
        }
        const nn::MatrixF y = model.forward(x, numeric::parseComputeSpec(spec.toStdString()), nn::InferenceOptions{2});
        const double error = (y.cast<double>() - z).cwiseAbs().maxCoeff();
        if (spec == "bf16") {
            const ks::test::MatrixD emulated = ks::test::referenceForward(model, x.cast<double>(), ks::test::Bf16Ops{});
            const double relative = ks::test::maxRelativeDifference(y.cast<double>(), emulated);
            QVERIFY2(relative <= tolerance, qPrintable(QString("%1 relative to the emulated reference").arg(relative)));
            QVERIFY2(error > 1e-4, "bf16 should differ from double");
        } else {
            QVERIFY2(error < tolerance, qPrintable(QString::number(error)));
        }
        // Deterministic, whatever the thread count.
        const nn::MatrixF again = model.forward(x, numeric::parseComputeSpec(spec.toStdString()), nn::InferenceOptions{1});
        QVERIFY(again == y);
    }

    // The fully connected layers on the fast engine give the reference engine's bits: dense and low-rank
    // layers, with and without bias, specs it covers (and one it does not, which runs the reference).
    void fastEmulationIsTheReference_data() {
        QTest::addColumn<QString>("spec");
        QTest::addColumn<bool>("tinyInput");
        for (const char* spec : {"fp16", "bf16", "e4m3", "e5m2/fp16/fp32", "bf16/fp32", "fp16-nosub/fp32", "tf32", "fp16:rz", "e4m3:ru", "bf16/fp32:rd",
                                 "fp16:sr", "e4m3/fp16:sr:seed=3", "bf16:sr", "bf16/fp32:sr", "tf32:rz", "tf32:sr", "tf32/fp32"}) {
            QTest::newRow(spec) << QString::fromLatin1(spec) << false;
            // tf32's float32 lanes depend on the operands' range: an input near float32's smallest normal gives
            // products below float32's precision, and the layers whose input it reaches leave their lanes.
            if (std::string_view(spec).starts_with("tf32"))
                QTest::newRow((std::string(spec) + ", tiny input").c_str()) << QString::fromLatin1(spec) << true;
        }
    }
    void fastEmulationIsTheReference() {
        QFETCH(QString, spec);
        QFETCH(bool, tinyInput);
        const numeric::ComputeSpec compute = numeric::parseComputeSpec(spec.toStdString());
        const nn::Model model = nn::ModelFactorisation(nn::Model::mlp({30, 24, 16, 6}, 5)).withRanks({{"fc2", 4}});
        nn::MatrixF x = randomMatrix(21, 30, 8);
        x(0, 0) = 70000.0f;  // beyond fp16: infinities downstream
        x(1, 1) = 1e-6f;     // a subnormal in fp16
        if (tinyInput) x(2, 2) = 1.5e-38f;
        nn::InferenceOptions fast, reference;
        fast.threads = 2;
        reference.emulation = matmul::Emulation::Reference;
        const nn::MatrixF a = model.forward(x, compute, fast), b = model.forward(x, compute, reference);
        for (Eigen::Index i = 0; i < a.size(); ++i)
            if (!(std::isnan(a.data()[i]) && std::isnan(b.data()[i])))
                KS_COMPARE_EXACT(a.data()[i], b.data()[i]);
    }

    // tf32's products leave float32's precision below 2^-126: the layer whose input reaches there runs elsewhere.
    // 145·2^-75 × 113·2^-76 = 2^-137 + 2^-151, which float32 rounds to 2^-137, a tie that tf32's nearest-even
    // then rounds to 0, where the exact product rounds up to 2^-136 (the reference's bits).
    void aLayerWhoseProductsLeaveFloat32sPrecision_data() {
        QTest::addColumn<QString>("spec");
        QTest::newRow("tf32") << QStringLiteral("tf32");  // falls back to double lanes
        QTest::newRow("tf32:sr") << QStringLiteral("tf32:sr");  // to the reference
    }
    void aLayerWhoseProductsLeaveFloat32sPrecision() {
        QFETCH(QString, spec);
        nn::Layer fc;
        fc.kind = nn::LayerKind::Linear;
        fc.name = "fc";
        fc.weight = nn::MatrixF::Constant(1, 1, std::ldexp(113.0f, -76));
        const nn::Model model({fc}, nn::FeatureShape{1});
        nn::MatrixF x = nn::MatrixF::Constant(3, 1, std::ldexp(145.0f, -75));
        x(1, 0) = 1.0f;
        nn::InferenceOptions fast, reference;
        reference.emulation = matmul::Emulation::Reference;
        const numeric::ComputeSpec compute = numeric::parseComputeSpec(spec.toStdString());
        const nn::MatrixF a = model.forward(x, compute, fast), b = model.forward(x, compute, reference);
        if (spec == "tf32") QCOMPARE(std::bit_cast<std::uint32_t>(b(0, 0)), std::bit_cast<std::uint32_t>(std::ldexp(1.0f, -136)));
        for (Eigen::Index i = 0; i < a.size(); ++i) KS_COMPARE_EXACT(a.data()[i], b.data()[i]);
    }

    // The network's fully connected layers block their weights (out × in) and each sample's input along in, each
    // sample a tensor of its own: one layer without bias gives the bits of naive's product of each sample alone
    // with the same spec, which blocks A's row and B = Wᵀ's columns (another path to the same lines). Both
    // engines; more than one chunk of samples.
    void scaledStorageInALinearLayer_data() {
        QTest::addColumn<QString>("spec");
        QTest::addColumn<bool>("reference");
        for (const char* spec : {"mxfp4/fp32", "nvfp4/fp32", "int4@block16/fp32", "e4m3@channel/fp32", "fp16@tensor/fp32"})
            for (bool reference : {false, true})
                QTest::addRow("%s %s", spec, reference ? "reference" : "fast") << QString::fromLatin1(spec) << reference;
    }
    void scaledStorageInALinearLayer() {
        QFETCH(QString, spec);
        QFETCH(bool, reference);
        const numeric::ComputeSpec compute = numeric::parseComputeSpec(spec.toStdString());
        nn::Layer fc = nn::Model::mlp({70, 9}, 4).layers()[0];  // in = 70: blocks of 32, 32 and 6
        QCOMPARE(int(fc.kind), int(nn::LayerKind::Linear));
        fc.bias.setZero();
        const nn::Model model(std::vector<nn::Layer>{fc});  // the layer alone: no log-softmax after it
        const nn::MatrixF x = randomMatrix(70, 70, 6);  // 70 samples: two chunks
        nn::InferenceOptions options;
        options.threads = 2;
        options.emulation = reference ? matmul::Emulation::Reference : matmul::Emulation::Fast;
        const nn::MatrixF y = model.forward(x, compute, options);
        TensorF wt({70, 9});
        for (int o = 0; o < 9; ++o)
            for (int i = 0; i < 70; ++i) wt[std::size_t(i * 9 + o)] = fc.weight(o, i);
        matmul::MatmulOptions m;
        m.compute = compute;
        m.emulation = options.emulation;
        for (Eigen::Index r = 0; r < x.rows(); ++r) {
            TensorF a({1, 70});
            std::copy(x.data() + r * 70, x.data() + (r + 1) * 70, a.storage().begin());
            const TensorF want = matmul::matmul(a, wt, "naive", m);
            for (Eigen::Index j = 0; j < 9; ++j) KS_COMPARE_EXACT(y(r, j), want.storage()[std::size_t(j)]);
        }
    }

    // The network's fully connected layers under an accumulator model: 1024 inputs of one, weights of one, bias 8 (the
    // sum's first term). bf16 stalls at 256 in the kernels' order (from 8); pairwise, worked by hand: the tree's left half
    // 8 + 511 ones has 8 + 255 ones = 263, a tie, to 264, then 520; the right half 513 ones has 257 (a tie, to 256) + 256
    // = 512; 520 + 512 = 1032. Both engines.
    void accumulatorModelInALinearLayer() {
        nn::Layer fc = nn::Model::mlp({1024, 2}, 1).layers()[0];
        fc.weight.setOnes();
        fc.bias.setConstant(8.0f);
        const nn::Model model(std::vector<nn::Layer>{fc});
        const nn::MatrixF x = nn::MatrixF::Ones(3, 1024);
        for (bool reference : {false, true}) {
            nn::InferenceOptions options;
            options.emulation = reference ? matmul::Emulation::Reference : matmul::Emulation::Fast;
            const nn::MatrixF plain = model.forward(x, numeric::parseComputeSpec("bf16"), options);
            const nn::MatrixF pairwise = model.forward(x, numeric::parseComputeSpec("bf16:acc=pairwise"), options);
            for (Eigen::Index i = 0; i < plain.size(); ++i) {
                KS_COMPARE_EXACT(plain.data()[i], 256.0f);
                KS_COMPARE_EXACT(pairwise.data()[i], 1032.0f);
            }
        }
    }

    // Under the presets' tensor-core sums the fast engine (eight outputs side by side) gives the reference's bits, in
    // dense and low-rank layers.
    void accumulatorModelsOnBothEngines() {
        const nn::Model dense = nn::Model::mlp({40, 19, 10}, 4);
        const nn::Model lowRank = nn::ModelFactorisation(dense).withRanks({{"fc1", 5}});
        nn::MatrixF x(3, 40);
        for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = float(std::sin(double(i) * 0.7)) * 3.0f;
        for (const nn::Model* model : {&dense, &lowRank})
            for (const char* spec : {"volta-fp16-tc", "hopper-fp8", "hopper-fp8-promoted"}) {
                nn::InferenceOptions fast, reference;
                reference.emulation = matmul::Emulation::Reference;
                const nn::MatrixF f = model->forward(x, numeric::parseComputeSpec(spec), fast);
                const nn::MatrixF r = model->forward(x, numeric::parseComputeSpec(spec), reference);
                for (Eigen::Index i = 0; i < f.size(); ++i) QVERIFY2(ks::test::sameBits(f.data()[i], r.data()[i]), spec);
            }
    }

    void integerActivationScale_data() {
        QTest::addColumn<int>("mode");
        QTest::addColumn<double>("expectedLogit");
        // Samples (100, 0) and (0.3, 0) through logits (x0, 0). One int8 scale for the batch is
        // 100/127: 0.3 rounds to 0. One scale per sample keeps 0.3 (to int8's 1/127 relative step).
        QTest::newRow("per tensor") << int(nn::ActivationScale::PerTensor) << 0.0;
        QTest::newRow("per sample") << int(nn::ActivationScale::PerSample) << 0.3;
    }
    void integerActivationScale() {
        QFETCH(int, mode);
        QFETCH(double, expectedLogit);
        io::WeightSet set;
        set.tensors = {named("fc1.weight", {2, 2}, {1, 0, 0, 0})};
        const nn::Model model = nn::Model::fromWeights(set);
        nn::MatrixF x(2, 2);
        x << 100, 0,  //
            0.3f, 0;
        nn::InferenceOptions o;
        o.activationScale = static_cast<nn::ActivationScale>(mode);
        const nn::MatrixF y = model.forward(x, numeric::parseComputeSpec("int8/fp32"), o);
        const auto [a, b] = logSoftmax2(expectedLogit, 0);
        QVERIFY2(std::abs(y(1, 0) - a) < 1e-3 && std::abs(y(1, 1) - b) < 1e-3, qPrintable(QString::number(y(1, 0))));
        const auto [a0, b0] = logSoftmax2(100, 0);
        QVERIFY(std::abs(y(0, 0) - a0) < 1e-6 && std::abs(y(0, 1) - b0) < 1e-3);
    }

    void matmulAlgorithms_data() {
        QTest::addColumn<QString>("method");
        QTest::addColumn<double>("tolerance");
        QTest::newRow("naive") << "naive" << 1e-5;
        QTest::newRow("dense") << "dense" << 1e-5;
        QTest::newRow("log") << "log" << 1e-4;  // exact log/exp round trip in float32
    }
    void matmulAlgorithms() {
        QFETCH(QString, method);
        QFETCH(double, tolerance);
        // A low-rank layer too: two products through the method.
        const nn::Model model = nn::ModelFactorisation(nn::Model::mlp({30, 20, 6}, 8)).withRanks({{"fc1", 5}});
        const nn::MatrixF x = randomMatrix(11, 30, 6);
        const nn::MatrixF y = model.forward(x, matmul::matmulAlgorithm(method.toStdString()), matmul::MatmulOptions{});
        const double error = (y - model.forward(x)).cwiseAbs().maxCoeff();
        QVERIFY2(error < tolerance, qPrintable(QString::number(error)));
    }

    void lowRankTruncation() {
        const nn::Model dense = nn::Model::mlp({60, 40, 10}, 11);
        const nn::ModelFactorisation factors(dense);
        const auto& w = dense.layers()[0].weight;
        const std::vector<double>& sigma = factors.singularValues("fc1");
        QCOMPARE(sigma.size(), std::size_t{40});
        for (const std::int64_t r : {1, 5, 20, 39}) {
            const nn::Model low = factors.withRanks({{"fc1", r}});
            const nn::Layer& l = low.layers()[0];
            QVERIFY(l.kind == nn::LayerKind::LowRankLinear);
            QCOMPARE(l.rank(), r);
            // Eckart–Young: ‖W − W_r‖_F² = Σ_{i ≥ r} σ_i².
            double tail = 0;
            for (std::size_t i = std::size_t(r); i < sigma.size(); ++i) tail += sigma[i] * sigma[i];
            const double error = (w.cast<double>() - l.up.cast<double>() * l.down.cast<double>()).squaredNorm();
            QVERIFY2(std::abs(error - tail) < 1e-4 * (1 + tail), qPrintable(QString("%1 vs %2").arg(error).arg(tail)));
            // Kept parameters: r·(in + out) + bias, against in·out + bias.
            QCOMPARE(low.parameterCount(), r * (60 + 40) + 40 + 40 * 10 + 10);
            QCOMPARE(low.denseParameterCount(), dense.parameterCount());
            KS_COMPARE_EXACT(low.compressionRatio(), double(low.parameterCount()) / double(dense.parameterCount()));
        }
        // A rank ≥ min(in, out) keeps the layer dense, exactly.
        const nn::Model full = factors.withSharedRank(1000);
        QVERIFY(full.layers()[0].kind == nn::LayerKind::Linear);
        QVERIFY(full.layers()[0].weight == w);
        // A full-rank factorisation reproduces the outputs.
        const nn::MatrixF x = randomMatrix(7, 60, 4);
        const nn::Model exact = factors.withRanks({{"fc1", 39}});
        QVERIFY((exact.forward(x) - dense.forward(x)).cwiseAbs().maxCoeff() < 0.05f);
        QVERIFY(errorOf([&] { factors.withRanks({{"fc9", 3}}); }).contains("no Linear layer named 'fc9'"));
        QVERIFY(errorOf([&] { factors.withRanks({{"fc1", 0}}); }).contains("at least 1"));
    }

    void seedMlpCompression() {
        // The seed's MLP: 468,874 parameters; with fc1 and fc2 at rank 32 (fc3 stays dense):
        // 32·(784+512) + 512 + 32·(512+128) + 128 + 1290 = 63,882.
        const nn::Model dense = nn::Model::mlp({784, 512, 128, 10}, 1);
        QCOMPARE(dense.parameterCount(), 468874);
        const nn::Model low = nn::ModelFactorisation(dense).withSharedRank(32);
        QCOMPARE(low.parameterCount(), 63882);
        KS_COMPARE_EXACT(low.flopsPerSample(), 2.0 * (32 * (784 + 512) + 32 * (512 + 128) + 1280));
    }

    void savedAndLoadedLowRankModel() {
        const nn::Model low = nn::ModelFactorisation(nn::Model::mlp({12, 8, 4}, 5)).withRanks({{"fc1", 3}});
        io::WeightSet set;
        set.tensors = low.toNamedTensors();
        QCOMPARE(QString::fromStdString(set.tensors[0].name), QString("fc1.0.weight"));
        const std::string bytes = io::serializeSafetensors(set.tensors);
        const nn::Model back = nn::Model::fromWeights(io::parseWeights(std::as_bytes(std::span(bytes)), "saved"));
        QVERIFY(back.layers()[0].kind == nn::LayerKind::LowRankLinear);
        const nn::MatrixF x = randomMatrix(5, 12, 9);
        QVERIFY(back.forward(x) == low.forward(x));
    }

    void layerOrderFromShapes() {
        // Stored out of order (fc2 first, as an alphabetical writer with "fc10" would): reordered by name.
        io::WeightSet set;
        set.tensors = {named("fc2.weight", {2, 3}, std::vector<float>(6, 1)), named("fc1.weight", {3, 4}, std::vector<float>(12, 1))};
        const nn::Model model = nn::Model::fromWeights(set);
        QCOMPARE(model.inputFeatures(), 4);
        QCOMPARE(model.outputFeatures(), 2);
    }

    void unsupportedWeights_data() {
        QTest::addColumn<int>("which");
        QTest::addColumn<QString>("expected");
        QTest::newRow("no chain") << 0 << "do not chain";
        QTest::newRow("stray tensor") << 1 << "not part of a supported network (Conv2d layers, then a stack of Linear layers): running_mean";
        QTest::newRow("bias shape") << 2 << "fc1.bias' (3,) does not fit";
        QTest::newRow("empty") << 3 << "no Linear layer";
        // A name holding a terminal escape sequence (ESC [ 2 J clears the screen) is quoted escaped.
        QTest::newRow("escape in a name") << 4 << "not part of a supported network (Conv2d layers, then a stack of "
                                                   "Linear layers): evil\\x1b[2J";
    }
    void unsupportedWeights() {
        QFETCH(int, which);
        QFETCH(QString, expected);
        io::WeightSet set;
        if (which == 0) set.tensors = {named("a.weight", {2, 3}, std::vector<float>(6)), named("b.weight", {2, 5}, std::vector<float>(10))};
        if (which == 1) set.tensors = {named("fc1.weight", {2, 3}, std::vector<float>(6)), named("running_mean", {2}, {0, 0})};
        if (which == 2) set.tensors = {named("fc1.weight", {2, 3}, std::vector<float>(6)), named("fc1.bias", {3}, {0, 0, 0})};
        if (which == 4) set.tensors = {named("fc1.weight", {2, 3}, std::vector<float>(6)), named("evil\x1b[2J", {2}, {0, 0})};
        const QString error = errorOf([&] { nn::Model::fromWeights(set); });
        QVERIFY2(error.contains(expected), qPrintable(error));
        for (const QChar c : error) QVERIFY2(c.unicode() >= 0x20 && c.unicode() != 0x7f, qPrintable(error));
        if (which != 3) QVERIFY2(error.contains("the file holds: "), qPrintable(error));
    }

    void parseRanks() {
        const auto r = nn::parseRanks("fc1=16,fc2=32");
        QCOMPARE(r.at("fc1"), 16);
        QCOMPARE(r.at("fc2"), 32);
        for (const char* bad : {"", "fc1", "fc1=", "fc1=x", "fc1=0", "=3", "fc1=2,fc1=3"})
            QVERIFY2(!errorOf([&] { nn::parseRanks(bad); }).isEmpty(), bad);
    }
};

QTEST_APPLESS_MAIN(tst_Model)
#include "tst_model.moc"
