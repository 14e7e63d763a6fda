// The convolutional network: forward against an independent double-precision reference, every conv
// algorithm of the registry giving the same logits, the emulated arithmetic against the native one,
// the trainer's gradients against finite differences, training, save/load, and malformed files.
#include <QTest>

#include "reference_forward.hpp"
#include "test_support.hpp"

#include <cmath>
#include <filesystem>
#include <limits>
#include <random>

#include "conv/conv_registry.hpp"
#include "io/embedded_resources.hpp"
#include "io/mnist.hpp"
#include "io/npy.hpp"
#include "io/weights.hpp"
#include "matmul/matmul_registry.hpp"
#include "nn/layer_kernels.hpp"
#include "nn/low_rank.hpp"
#include "nn/model.hpp"
#include "nn/model_io.hpp"
#include "nn/trainer.hpp"
#include "numeric/compute_spec.hpp"

using namespace ks;
using ks::test::errorOf;

namespace {

using ks::test::MatrixD;

nn::MatrixF randomMatrix(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal;
    nn::MatrixF m(rows, cols);
    for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = normal(rng);
    return m;
}

io::NamedTensor named(const std::string& name, Shape shape, unsigned seed) {
    TensorF t(shape);
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-0.5f, 0.5f);
    for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = u(rng);
    return {name, std::move(t), "float32"};
}

/// A small CNN with every layer kind, 1×8×8 → conv 1→2 → pool → conv 2→3 → pool → 12 → 5 → 3.
nn::Model smallCnn(unsigned seed) {
    io::WeightSet set;
    set.tensors = {named("conv1.weight", {2, 1, 3, 3}, seed), named("conv1.bias", {2}, seed + 1),
                   named("conv2.weight", {3, 2, 3, 3}, seed + 2), named("conv2.bias", {3}, seed + 3),
                   named("fc1.weight", {5, 12}, seed + 4), named("fc1.bias", {5}, seed + 5),
                   named("fc2.weight", {3, 5}, seed + 6), named("fc2.bias", {3}, seed + 7)};
    // fromWeights assumes 28×28 digits; rebuild the same layers on an 8×8 input.
    std::vector<nn::Layer> layers;
    for (const auto& t : set.tensors) {
        if (t.name.ends_with(".bias")) {
            layers.back().bias = Eigen::Map<const nn::VectorF>(t.tensor.data(), t.tensor.dim(0));
            continue;
        }
        nn::Layer l;
        l.name = t.name.substr(0, t.name.size() - 7);
        if (t.tensor.rank() == 4) {
            if (!layers.empty()) {
                layers.push_back(nn::Layer::relu("r"));
                layers.push_back(nn::Layer::maxPool("p", 2));
            }
            l.kind = nn::LayerKind::Conv2d;
            l.inChannels = t.tensor.dim(1);
            l.kernelHeight = l.kernelWidth = 3;
            l.padding = 1;
        } else {
            layers.push_back(nn::Layer::relu("r"));
            if (l.name == "fc1") {
                layers.push_back(nn::Layer::maxPool("p", 2));
                layers.push_back(nn::Layer::flatten("f"));
            }
            l.kind = nn::LayerKind::Linear;
        }
        const std::int64_t rows = t.tensor.dim(0), cols = std::int64_t(t.tensor.size()) / rows;
        l.weight = Eigen::Map<const nn::MatrixF>(t.tensor.data(), rows, cols);
        layers.push_back(std::move(l));
    }
    layers.push_back(nn::Layer::logSoftmax());
    return nn::Model(std::move(layers), {1, 8, 8});
}

/// The trained or random digit CNN on a few real digits (normalised as for training).
nn::MatrixF someDigits(std::size_t n) {
    const io::DigitSet test = io::embeddedSplit().test;
    std::vector<std::size_t> keep;
    for (std::size_t i = 0; i < n; ++i) keep.push_back(i * 97 % test.count());
    return nn::toMatrix(test.subset(keep).normalisedImages());
}

double maxAbs(const MatrixD& a, const MatrixD& b) { return (a - b).cwiseAbs().maxCoeff(); }

}  // namespace

class tst_Cnn : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void digitCnnArchitecture() {
        const nn::Model model = nn::Model::digitCnn(1);
        QCOMPARE(model.inputShape(), (nn::FeatureShape{1, 28, 28}));
        QCOMPARE(model.outputFeatures(), 10);
        // 8·9 + 8 + 16·72 + 16 + 64·784 + 64 + 10·64 + 10
        QCOMPARE(model.parameterCount(), 52138);
        // Multiply-adds: 8·9·28² + 16·72·14² + 784·64 + 64·10, two FLOPs each.
        KS_COMPARE_EXACT(model.flopsPerSample(), 2.0 * (8 * 9 * 784 + 16 * 72 * 196 + 784 * 64 + 640));
        QVERIFY(model.hasConvolutions());
        QVERIFY2(QString::fromStdString(model.describe()).startsWith("input 1×28×28, conv1 1→8 3×3 pad 1, pool 2"),
                 model.describe().c_str());
    }

    // Max-pooling for inference (no positions kept; windows 2 and 3 take a vectorised path) against
    // a plain loop over each window, and against the training path's values: odd sizes (the last
    // row and column dropped), -inf, and a NaN that wins its window.
    void maxPoolAgainstWindows_data() {
        QTest::addColumn<int>("size");
        QTest::addColumn<int>("height");
        QTest::addColumn<int>("width");
        for (int size : {2, 3, 4})
            for (const auto& [h, w] : {std::pair{28, 28}, std::pair{7, 9}, std::pair{size, size}, std::pair{13, 40}})
                QTest::addRow("size %d, %dx%d", size, h, w) << size << h << w;
    }
    void maxPoolAgainstWindows() {
        QFETCH(int, size);
        QFETCH(int, height);
        QFETCH(int, width);
        const nn::FeatureShape shape{3, height, width};
        const std::int64_t samples = 2, ph = height / size, pw = width / size;
        std::mt19937 rng(5);
        std::uniform_real_distribution<float> uniform(-4.0f, 4.0f);
        std::vector<float> x(static_cast<std::size_t>(samples * shape.size()));
        for (float& v : x) v = uniform(rng);
        x[1] = -std::numeric_limits<float>::infinity();
        x[static_cast<std::size_t>(shape.size() + width + 1)] = std::numeric_limits<float>::quiet_NaN();
        std::vector<float> y(static_cast<std::size_t>(samples * 3 * ph * pw)), withPositions(y.size());
        std::vector<std::int32_t> argmax(y.size());
        nn::detail::maxPool(x.data(), samples, shape, size, y.data(), nullptr);
        nn::detail::maxPool(x.data(), samples, shape, size, withPositions.data(), argmax.data());
        for (std::int64_t plane = 0; plane < samples * 3; ++plane)
            for (std::int64_t i = 0; i < ph; ++i)
                for (std::int64_t j = 0; j < pw; ++j) {
                    float expected = -std::numeric_limits<float>::infinity();
                    bool nan = false;
                    for (int di = 0; di < size; ++di)
                        for (int dj = 0; dj < size; ++dj) {
                            const float v = x[static_cast<std::size_t>(plane * height * width + (i * size + di) * width + j * size + dj)];
                            nan = nan || std::isnan(v);
                            expected = std::max(expected, v);
                        }
                    const std::size_t o = static_cast<std::size_t>((plane * ph + i) * pw + j);
                    if (nan) {
                        QVERIFY(std::isnan(y[o]));
                        QVERIFY(std::isnan(withPositions[o]));
                    } else {
                        KS_COMPARE_EXACT(y[o], expected);
                        KS_COMPARE_EXACT(withPositions[o], expected);
                    }
                }
    }

    void handComputedConvolution() {
        // 1×2×2 input, one 3×3 kernel with padding 1 (so each output sees the whole input), pool 2,
        // then Linear 1→2. Worked out by hand:
        //   x = [1 2; 3 4], w = 0 except w[1][1] = 1 (centre), w[2][2] = 0.5 (bottom right), b = -1
        //   y[0][0] = x00·1 + x11·0.5 − 1 = 1 + 2 − 1 = 2;  y[0][1] = x01 − 1 = 1 (x12 outside)
        //   y[1][0] = x10 − 1 = 2;  y[1][1] = x11 − 1 = 3;  ReLU, max-pool → 3
        //   fc: (2·3 + 1, −3 + 0) = (7, −3) → log-softmax
        nn::Layer conv;
        conv.kind = nn::LayerKind::Conv2d;
        conv.name = "conv1";
        conv.inChannels = 1;
        conv.kernelHeight = conv.kernelWidth = 3;
        conv.padding = 1;
        conv.weight = nn::MatrixF::Zero(1, 9);
        conv.weight(0, 4) = 1;
        conv.weight(0, 8) = 0.5f;
        conv.bias = nn::VectorF::Constant(1, -1);
        nn::Layer fc;
        fc.kind = nn::LayerKind::Linear;
        fc.name = "fc1";
        fc.weight = nn::MatrixF(2, 1);
        fc.weight << 2, -1;
        fc.bias = nn::VectorF(2);
        fc.bias << 1, 0;
        const nn::Model model({conv, nn::Layer::relu("r"), nn::Layer::maxPool("p", 2), nn::Layer::flatten("f"), fc,
                               nn::Layer::logSoftmax()},
                              {1, 2, 2});
        nn::MatrixF x(1, 4);
        x << 1, 2, 3, 4;
        const double lse = std::log(std::exp(7.0) + std::exp(-3.0));
        for (const auto* algo : conv::convAlgorithms()) {
            if (algo->supports(conv::ConvProblem::layer(1, 1, 2, 2, 1, 3, 1, 1))) continue;
            nn::InferenceOptions o;
            o.convAlgorithm = algo->name();
            const nn::MatrixF y = model.forward(x, o);
            QVERIFY2(std::abs(y(0, 0) - (7 - lse)) < 1e-5 && std::abs(y(0, 1) - (-3 - lse)) < 1e-5, algo->name().c_str());
        }
    }

    void forwardAgainstDoubleReference_data() {
        QTest::addColumn<QString>("algorithm");
        QTest::addColumn<double>("tolerance");
        for (const auto* algo : conv::convAlgorithms()) {
            // float32 logits of O(10); the transforms of Winograd's larger tiles and the FFT lose a few bits more.
            const bool transformed = algo->name() != "direct" && algo->name() != "im2col";
            QTest::newRow(algo->name().c_str()) << QString::fromStdString(algo->name()) << (transformed ? 2e-3 : 1e-4);
        }
    }
    void forwardAgainstDoubleReference() {
        QFETCH(QString, algorithm);
        QFETCH(double, tolerance);
        const nn::Model model = nn::Model::digitCnn(5);
        // 37 digits: more than one tile of images (10 for this network), tiles of 10, 8 and 9 on two
        // threads (one plan per batch size), and of 10 and 7 on one.
        const nn::MatrixF x = someDigits(37);
        const MatrixD expected = ks::test::referenceForward(model, x.cast<double>());
        nn::InferenceOptions o;
        o.convAlgorithm = algorithm.toStdString();
        const nn::MatrixF y = model.forward(x, o);
        const double error = maxAbs(y.cast<double>(), expected);
        QVERIFY2(error < tolerance, qPrintable(QString::number(error)));
        // The small CNN with stride-1 odd sizes and every layer kind, too, in one tile and in several.
        const nn::Model small = smallCnn(3);
        const nn::MatrixF xs = randomMatrix(700, 64, 4);
        const double smallError = maxAbs(small.forward(xs, o).cast<double>(), ks::test::referenceForward(small, xs.cast<double>()));
        QVERIFY2(smallError < tolerance, qPrintable(QString::number(smallError)));
        // The thread count does not change the result.
        o.threads = 1;
        QVERIFY((model.forward(x, o) - y).cwiseAbs().maxCoeff() < 1e-6f);
    }

    void emulatedArithmetic_data() {
        QTest::addColumn<QString>("algorithm");
        QTest::addColumn<QString>("spec");
        QTest::addColumn<double>("tolerance");
        for (const auto* algo : conv::convAlgorithms()) {
            const std::string name = algo->name();
            // fp64 emulation is the double reference up to the order of the sums.
            // (The logits come back as float: 1e-7 relative.)
            QTest::newRow((name + " fp64").c_str()) << QString::fromStdString(name) << "fp64" << 1e-6;
            // fp32 emulation is float32 arithmetic: as close to the double reference as the native path.
            QTest::newRow((name + " fp32").c_str()) << QString::fromStdString(name) << "fp32"
                                                   << (name == "direct" || name == "im2col" ? 1e-4 : 2e-3);
        }
        // Against the test's own emulation of the format (reference_forward.hpp: bf16 rounded on the bit pattern,
        // fp16 by the compiler's _Float16), which adds in direct's order, (c, r, s) from zero and the bias last:
        // equal but for the final conversion of the log-probabilities to float, 2^-24 relative.
        QTest::newRow("direct bf16") << "direct" << "bf16" << 0x1p-24;
        QTest::newRow("im2col fp16/fp32") << "im2col" << "fp16/fp32" << 0x1p-24;
    }
    void emulatedArithmetic() {
        QFETCH(QString, algorithm);
        QFETCH(QString, spec);
        QFETCH(double, tolerance);
        const nn::Model model = nn::Model::digitCnn(7);
        const nn::MatrixF x = someDigits(3);
        const MatrixD expected = ks::test::referenceForward(model, x.cast<double>());
        nn::InferenceOptions o;
        o.convAlgorithm = algorithm.toStdString();
        o.threads = 2;
        const numeric::ComputeSpec s = numeric::parseComputeSpec(spec.toStdString());
        const nn::MatrixF y = model.forward(x, s, o);
        const double error = maxAbs(y.cast<double>(), expected);
        if (spec == "bf16" || spec == "fp16/fp32") {
            const MatrixD emulated = spec == "bf16" ? ks::test::referenceForward(model, x.cast<double>(), ks::test::Bf16Ops{})
                                                    : ks::test::referenceForward(model, x.cast<double>(),
                                                                                 ks::test::Fp16Fp32Ops{});
            const double relative = ks::test::maxRelativeDifference(y.cast<double>(), emulated);
            QVERIFY2(relative <= tolerance, qPrintable(QString("%1 relative to the emulated reference").arg(relative)));
            QVERIFY2(error > 1e-4, "a low-precision format should differ from double");
        } else {
            QVERIFY2(error < tolerance, qPrintable(QString::number(error)));
        }
        if (spec == "fp32") {
            const double native = maxAbs(y.cast<double>(), model.forward(x, o).cast<double>());
            QVERIFY2(native < tolerance, qPrintable(QString::number(native)));
        }
        o.threads = 1;
        QVERIFY(model.forward(x, s, o) == y);  // deterministic, whatever the thread count
    }

    // The whole network on the fast engine gives the reference engine's bits: every conv algorithm, a
    // nearest and a directed rounding (the float32 lanes' rounding mode held across the layers).
    void fastEmulationIsTheReference_data() {
        QTest::addColumn<QString>("algorithm");
        QTest::addColumn<QString>("spec");
        for (const auto* algo : conv::convAlgorithms())
            for (const char* spec : {"e4m3/fp16", "bf16:rd", "fp16/fp32:ru", "fp16:sr:seed=2"})
                QTest::addRow("%s %s", algo->name().c_str(), spec) << QString::fromStdString(algo->name()) << QString::fromLatin1(spec);
    }
    void fastEmulationIsTheReference() {
        QFETCH(QString, algorithm);
        QFETCH(QString, spec);
        const nn::Model model = nn::Model::digitCnn(7);
        const nn::MatrixF x = someDigits(3);
        const numeric::ComputeSpec s = numeric::parseComputeSpec(spec.toStdString());
        nn::InferenceOptions fast, reference;
        fast.convAlgorithm = reference.convAlgorithm = algorithm.toStdString();
        fast.threads = 2;
        reference.emulation = matmul::Emulation::Reference;
        const nn::MatrixF a = model.forward(x, s, fast), b = model.forward(x, s, reference);
        for (Eigen::Index i = 0; i < a.size(); ++i)
            if (!(std::isnan(a.data()[i]) && std::isnan(b.data()[i])))
                KS_COMPARE_EXACT(a.data()[i], b.data()[i]);
    }

    // Block scales on transformed tiles are a per-layer study: the network refuses them by its first conv layer's
    // name rather than placing them on the operands; an MLP, with nothing to transform, runs them as operand blocks.
    void scalesOnTilesAreRefusedInTheNetwork() {
        const nn::Model model = nn::Model::digitCnn(7);
        const nn::MatrixF x = someDigits(2);
        try {
            (void)model.forward(x, numeric::parseComputeSpec("mxfp4/fp32:scales=tiles"), nn::InferenceOptions{});
            QFAIL("accepted");
        } catch (const nn::ModelError& e) {
            QVERIFY2(QString(e.what()).contains(QStringLiteral("transformed tiles")) && QString(e.what()).startsWith(QStringLiteral("conv1")),
                     e.what());
        }
        const nn::Model mlp = nn::Model::mlp({784, 16, 10}, 3);
        QVERIFY(mlp.forward(x, numeric::parseComputeSpec("mxfp4/fp32:scales=tiles"), nn::InferenceOptions{}) ==
                mlp.forward(x, numeric::parseComputeSpec("mxfp4/fp32"), nn::InferenceOptions{}));
    }

    void gradientsByFiniteDifferences_data() {
        QTest::addColumn<int>("which");
        QTest::newRow("cnn") << 0;
        QTest::newRow("mlp with a low-rank layer") << 1;
    }
    void gradientsByFiniteDifferences() {
        QFETCH(int, which);
        const nn::Model model = which == 0 ? smallCnn(11)
                                           : nn::ModelFactorisation(nn::Model::mlp({10, 8, 6, 4}, 2)).withRanks({{"fc1", 3}});
        const nn::MatrixF x = randomMatrix(6, model.inputFeatures(), 12);
        const std::vector<std::uint8_t> labels{0, 1, 2, 0, 1, 2};
        const nn::LossGradient g = nn::lossGradient(model, x, labels);
        auto lossOf = [&](const nn::Model& m) {
            const MatrixD logp = ks::test::referenceForward(m, x.cast<double>());
            double loss = 0;
            for (Eigen::Index r = 0; r < logp.rows(); ++r) loss -= logp(r, labels[std::size_t(r)]);
            return loss / double(logp.rows());
        };
        auto referenceOf = [&](const nn::Model& m) {
            if (which == 0) return lossOf(m);
            // Low-rank layers: evaluate their product as a dense layer in double.
            std::vector<nn::Layer> layers = m.layers();
            MatrixD logp;
            Eigen::MatrixXd a = x.cast<double>();
            for (const auto& l : layers) {
                if (l.kind == nn::LayerKind::Linear)
                    a = (a * l.weight.cast<double>().transpose()).rowwise() + l.bias.cast<double>().transpose();
                if (l.kind == nn::LayerKind::LowRankLinear)
                    a = (a * l.down.cast<double>().transpose() * l.up.cast<double>().transpose()).rowwise() +
                        l.bias.cast<double>().transpose();
                if (l.kind == nn::LayerKind::ReLU) a = a.cwiseMax(0.0);
            }
            double loss = 0;
            for (Eigen::Index r = 0; r < a.rows(); ++r) {
                const double m0 = a.row(r).maxCoeff();
                loss -= a(r, labels[std::size_t(r)]) - m0 - std::log((a.row(r).array() - m0).exp().sum());
            }
            return loss / double(a.rows());
        };
        QVERIFY(std::abs(g.loss - referenceOf(model)) < 1e-5);
        QCOMPARE(g.gradients.size(), model.toNamedTensors().size());
        for (const auto& [name, gradient] : g.gradients) {
            // Central differences of the double-precision reference over the float steps actually
            // taken; h small enough that ReLU and max-pool kinks are rarely crossed (and the
            // gradients are compared as whole vectors).
            Eigen::ArrayXd numeric(gradient.size());
            for (Eigen::Index i = 0; i < gradient.size(); ++i) {
                double f[2], at[2];
                for (int side = 0; side < 2; ++side) {
                    nn::Model m = model;
                    std::vector<nn::Layer>& layers = m.layers();
                    const std::string layer = name.substr(0, name.find('.'));
                    for (auto& l : layers) {
                        if (l.name != layer) continue;
                        float* p = name.ends_with(".bias")       ? l.bias.data()
                                   : name.ends_with(".0.weight") ? l.down.data()
                                   : name.ends_with(".1.weight") ? l.up.data()
                                                                 : l.weight.data();
                        p[i] += side ? -1e-4f : 1e-4f;
                        at[side] = p[i];
                    }
                    f[side] = referenceOf(m);
                }
                numeric[i] = (f[0] - f[1]) / (at[0] - at[1]);
            }
            const double error = (numeric - gradient.cast<double>()).matrix().norm() / std::max(1e-6, numeric.matrix().norm());
            QVERIFY2(error < 1e-2, qPrintable(QString("%1: relative error %2").arg(QString::fromStdString(name)).arg(error)));
        }
    }

    void trainingReducesTheLoss() {
        const io::DigitSplit split = io::embeddedSplit();
#ifdef KS_SANITIZE_BUILD
        const std::size_t count = 256;  // the sanitizer build runs ~20× slower: a smaller set, same checks
#else
        const std::size_t count = 1024;
#endif
        std::vector<std::size_t> keep;
        for (std::size_t i = 0; i < count; ++i) keep.push_back(i * 7 % split.train.count());
        const io::DigitSet train = split.train.subset(keep);
        const nn::MatrixF x = nn::toMatrix(train.normalisedImages());
        nn::Model model = nn::Model::digitCnn(3);
        const double before = nn::meanNll(model.forward(x), train.labels);
        nn::TrainOptions options;
        options.epochs = 2;
        options.seed = 5;
        const nn::TrainResult result = nn::train(model, x, train.labels, options);
        QCOMPARE(result.epochLoss.size(), std::size_t{2});
        QVERIFY2(result.epochLoss[1] < result.epochLoss[0] && result.epochLoss[0] < before,
                 qPrintable(QString("%1 → %2 → %3").arg(before).arg(result.epochLoss[0]).arg(result.epochLoss[1])));
        const double after = nn::meanNll(model.forward(x), train.labels);
        QVERIFY2(after < 0.5 * before, qPrintable(QString("%1 → %2").arg(before).arg(after)));
        // The same seed gives the same weights.
        nn::Model again = nn::Model::digitCnn(3);
        nn::train(again, x, train.labels, options);
        QVERIFY(again.find("conv1")->weight == model.find("conv1")->weight);
        QVERIFY(again.find("fc2")->bias == model.find("fc2")->bias);
    }

    void saveAndLoad() {
        const nn::Model model = nn::Model::digitCnn(9);
        const std::filesystem::path path = std::filesystem::temp_directory_path() / "ks_tst_cnn.safetensors";
        nn::saveModel(path, model);
        const io::WeightSet set = io::readWeights(path.string());
        QVERIFY(set.find("conv1.weight") && set.find("conv1.weight")->tensor.shape() == (Shape{8, 1, 3, 3}));
        QVERIFY(set.find("conv2.bias") && set.find("fc1.weight")->tensor.shape() == (Shape{64, 784}));
        const nn::Model back = nn::loadModel(path.string());
        std::filesystem::remove(path);
        QCOMPARE(back.layers().size(), model.layers().size());
        for (std::size_t k = 0; k < back.layers().size(); ++k) {
            QVERIFY(back.layers()[k].kind == model.layers()[k].kind);
            QCOMPARE(back.layers()[k].name, model.layers()[k].name);
        }
        const nn::MatrixF x = someDigits(4);
        QVERIFY(back.forward(x) == model.forward(x));
        // A low-rank fc1 survives the round trip too.
        const nn::Model low = nn::ModelFactorisation(model).withRanks({{"fc1", 8}});
        io::WeightSet lowSet;
        lowSet.tensors = low.toNamedTensors();
        const std::string bytes = io::serializeSafetensors(lowSet.tensors);
        const nn::Model lowBack = nn::Model::fromWeights(io::parseWeights(std::as_bytes(std::span(bytes)), "saved"));
        QVERIFY(lowBack.find("fc1")->kind == nn::LayerKind::LowRankLinear);
        QVERIFY(lowBack.forward(x) == low.forward(x));
    }

    void malformedArchitectures_data() {
        QTest::addColumn<int>("which");
        QTest::addColumn<QString>("expected");
        QTest::newRow("even kernel") << 0 << "only odd square convolution kernels";
        QTest::newRow("channels do not chain") << 1 << "Conv2d layers do not chain";
        QTest::newRow("fc1 does not fit the map") << 2 << "'fc1' takes 100 inputs, but 1 blocks of conv";
        QTest::newRow("no Linear layer") << 3 << "convolutions without Linear layers";
        QTest::newRow("conv bias shape") << 4 << "'conv1.bias' (3,) does not fit 'conv1.weight' (8, 1, 3, 3)";
        QTest::newRow("stray 3-D tensor") << 5 << "not part of a supported network";
    }
    void malformedArchitectures() {
        QFETCH(int, which);
        QFETCH(QString, expected);
        io::WeightSet set;
        const auto conv1 = named("conv1.weight", {8, 1, 3, 3}, 1);
        const auto fc1 = named("fc1.weight", {10, 8 * 14 * 14}, 2);
        if (which == 0) set.tensors = {named("conv1.weight", {8, 1, 2, 2}, 1), fc1};
        if (which == 1) set.tensors = {conv1, named("conv2.weight", {16, 4, 3, 3}, 3), named("fc1.weight", {10, 784}, 2)};
        if (which == 2) set.tensors = {conv1, named("fc1.weight", {10, 100}, 2)};
        if (which == 3) set.tensors = {conv1};
        if (which == 4) set.tensors = {conv1, named("conv1.bias", {3}, 4), fc1};
        if (which == 5) set.tensors = {conv1, fc1, named("bn.weight", {8, 3, 3}, 5)};
        const QString error = errorOf([&] { nn::Model::fromWeights(set); });
        QVERIFY2(error.contains(expected), qPrintable(error));
        QVERIFY2(error.contains("the file holds: ") && error.contains("conv1.weight"), qPrintable(error));
        // The good version of the same file loads.
        set.tensors = {conv1, fc1};
        QCOMPARE(nn::Model::fromWeights(set).inputShape(), (nn::FeatureShape{1, 28, 28}));
    }

    void pytorchStateDict_data() {
        QTest::addColumn<QString>("algorithm");
        for (const auto* algo : conv::convAlgorithms()) QTest::newRow(algo->name().c_str()) << QString::fromStdString(algo->name());
    }
    void pytorchStateDict() {
        // A state_dict saved by the real torch.save, its inputs and PyTorch's log-probabilities.
        QFETCH(QString, algorithm);
        const std::filesystem::path data = std::filesystem::path(KS_TEST_SOURCE_DIR) / "data" / "weights";
        const nn::Model model = nn::loadModel((data / "tiny_cnn.pt").string());
        QCOMPARE(model.inputShape(), (nn::FeatureShape{1, 28, 28}));
        QVERIFY(model.find("conv2") && model.find("conv2")->kind == nn::LayerKind::Conv2d);
        const nn::MatrixF x = nn::toMatrix(io::readNpyFloat(data / "tiny_cnn_inputs.npy"));
        const nn::MatrixF expected = nn::toMatrix(io::readNpyFloat(data / "tiny_cnn_logp.npy"));
        nn::InferenceOptions o;
        o.convAlgorithm = algorithm.toStdString();
        const double error = (model.forward(x, o) - expected).cwiseAbs().maxCoeff();
        QVERIFY2(error < 1e-4, qPrintable(QString::number(error)));
    }

    void shippedWeights_data() {
        QTest::addColumn<QString>("algorithm");
        for (const auto* algo : conv::convAlgorithms()) {
#ifdef KS_SANITIZE_BUILD
            // ~20× slower under the sanitizers: the two transform-free algorithms only (the
            // others are checked on the same weights' logits by forwardAgainstDoubleReference).
            if (algo->name() != "direct" && algo->name() != "im2col") continue;
#endif
            QTest::newRow(algo->name().c_str()) << QString::fromStdString(algo->name());
        }
    }
    void shippedWeights() {
        // resources/weights/README.md records 0.9765 for `kernelscope-cli train --arch cnn --seed 1`.
        QFETCH(QString, algorithm);
        const nn::Model model = nn::loadModel(std::string(KS_RESOURCES_DIR) + "/weights/cnn-default.safetensors");
        QCOMPARE(model.parameterCount(), 52138);
        const io::DigitSet test = io::embeddedSplit().test;
        nn::InferenceOptions o;
        o.convAlgorithm = algorithm.toStdString();
        const double accuracy = nn::accuracy(model.forward(nn::toMatrix(test.normalisedImages()), o), test.labels);
        // Every algorithm classifies the same digits, give or take one borderline digit.
        QVERIFY2(std::abs(accuracy - 0.9765) <= 0.0005 + 1e-12, qPrintable(QString::number(accuracy, 'f', 4)));
    }

    void matmulMethodsRefuseConvolutions() {
        const QString error = errorOf([] {
            nn::Model::digitCnn(1).forward(someDigits(1), matmul::matmulAlgorithm("naive"), matmul::MatmulOptions{});
        });
        QVERIFY2(error.contains("conv registry"), qPrintable(error));
        nn::InferenceOptions o;
        o.convAlgorithm = "no-such-algorithm";
        QVERIFY(errorOf([&] { nn::Model::digitCnn(1).forward(someDigits(1), o); }).contains("no-such-algorithm"));
    }
};

QTEST_APPLESS_MAIN(tst_Cnn)
#include "tst_cnn.moc"
