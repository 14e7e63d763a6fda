// ONNX networks on KernelScope's kernels (nn::Graph), against outputs nobody here computed:
//  - PyTorch's own outputs for models exported by torch.onnx.export (tests/data/onnx, made by
//    scripts/make_onnx_fixtures.py): LeNet-5, a residual CNN with batch norm (unfolded and folded by the
//    exporter), LeNet-300-100, a small digit CNN and a mix of the other operators (asymmetric Pad computed by
//    shape arithmetic on constants, a batch norm that cannot be folded, Clip, Sigmoid, MaxPool with padding and
//    ceil mode, Reshape, MatMul), with every conv algorithm on every layer it supports;
//  - the ONNX backend's pooling node tests (Debian's libonnx-testdata, read by the tests' own small
//    protobuf reader, not the product's): padding, strides, ceil mode, auto_pad, count_include_pad;
//  - the sequential ones against nn::Model itself (toModel), bit for bit, float32 and emulated;
//  - fused runs against node-by-node runs, bit for bit.
// Hostile files are the fuzz corpus' (tests/fuzz/corpus/onnx, make_hostile_onnx.py).
#include <QTest>

#include <cmath>
#include <filesystem>
#include <thread>

#include "onnx_tensor.hpp"

#include "conv/conv_registry.hpp"
#include "io/mnist.hpp"
#include "io/npy.hpp"
#include "io/onnx_file.hpp"
#include "matmul/low_rank_factor.hpp"
#include "nn/graph.hpp"
#include "nn/layer_kernels.hpp"
#include "numeric/compute_spec.hpp"

using namespace ks;
namespace fs = std::filesystem;

namespace {

const fs::path kData = fs::path(KS_TEST_SOURCE_DIR) / "data" / "onnx";

nn::MatrixF readRows(const fs::path& path) {
    const TensorF t = io::readNpyFloat(path);
    const std::int64_t rows = t.shape().front();
    return Eigen::Map<const nn::MatrixF>(t.data(), rows, std::int64_t(t.size()) / rows);
}

/// Largest |ours − theirs| / (1 + |theirs|).
double worstError(const nn::MatrixF& ours, const nn::MatrixF& theirs) {
    if (ours.rows() != theirs.rows() || ours.cols() != theirs.cols()) return INFINITY;
    double worst = 0;
    for (Eigen::Index i = 0; i < ours.size(); ++i) {
        const double a = ours.data()[i], b = theirs.data()[i];
        const double e = std::abs(a - b) / (1 + std::abs(b));
        if (!(e <= worst)) worst = std::isnan(e) ? INFINITY : e;
    }
    return worst;
}

bool sameBits(const nn::MatrixF& a, const nn::MatrixF& b) {
    return a.rows() == b.rows() && a.cols() == b.cols() &&
           std::memcmp(a.data(), b.data(), std::size_t(a.size()) * sizeof(float)) == 0;
}

const char* const kModels[] = {"lenet5", "resnet_tiny", "resnet_tiny_folded", "lenet_300_100", "cnn_tiny", "ops_mix"};

fs::path onnxTestData() {
    if (const char* env = std::getenv("KS_ONNX_TESTDATA")) return env;
    return "/usr/share/libonnx-testdata/data";
}

}  // namespace

class TestOnnxGraph : public QObject {
    Q_OBJECT

private slots:
    void matchesPyTorch_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("algorithm");
        QTest::addColumn<bool>("nodeByNode");
        for (const char* model : kModels)
            for (const conv::ConvAlgorithm* a : conv::convAlgorithms())
                for (bool byNode : {false, true}) {
                    // LeNet-300-100 has no convolution: one algorithm's rows are all there is to run.
                    if (std::string(model) == "lenet_300_100" && a != conv::convAlgorithms().front()) continue;
                    QTest::addRow("%s/%s/%s", model, a->name().c_str(), byNode ? "node-by-node" : "fused")
                        << model << QString::fromStdString(a->name()) << byNode;
                }
    }
    /// Every conv node that the algorithm supports runs on it (the others on direct); the outputs agree with
    /// PyTorch's to 1e-5 (relative to 1 + |value|).
    void matchesPyTorch() {
        QFETCH(QString, model);
        QFETCH(QString, algorithm);
        QFETCH(bool, nodeByNode);
        const nn::Graph graph = nn::Graph::readOnnx(kData / (model.toStdString() + ".onnx"));
        const nn::MatrixF x = readRows(kData / (model.toStdString() + "_inputs.npy"));
        const nn::MatrixF expected = readRows(kData / (model.toStdString() + "_outputs.npy"));
        // Node by node: the algorithm on each conv node it supports, direct on the others. Fused: the algorithm
        // on every conv node (one Model per run of layers), where it supports them all.
        nn::GraphRunOptions options;
        const conv::ConvAlgorithm& algo = conv::convAlgorithm(algorithm.toStdString());
        int convs = 0, onIt = 0;
        std::vector<std::pair<std::string, std::string>> byNode;
        for (const nn::GraphNode& node : graph.nodes()) {
            if (node.kind != nn::NodeKind::Conv) continue;
            const bool supported = !algo.supports(nn::detail::convProblemOf(node.layer, 1));
            byNode.emplace_back(node.name, supported ? algo.name() : "direct");
            ++convs;
            onIt += supported;
        }
        if (convs > 0 && onIt == 0) QSKIP("the algorithm supports none of the model's convolutions");
        if (nodeByNode) {
            options.convAlgorithmByNode = byNode;
        } else {
            if (onIt < convs) QSKIP("the algorithm does not support every convolution of the model");
            options.inference.convAlgorithm = algo.name();
        }
        const nn::MatrixF y = graph.forward(x, options);
        const double error = worstError(y, expected);
        qDebug("worst error %.3g", error);
        QVERIFY2(error <= 1e-5, qPrintable(QString("worst error %1 against PyTorch").arg(error)));
    }

    void embeddedDigits_data() {
        QTest::addColumn<QString>("model");
        for (const char* model : kModels) QTest::newRow(model) << QString(model);
    }
    /// The trained exports classify the 2,000 embedded test digits, normalised as KernelScope normalises them, as
    /// PyTorch did (scripts/make_onnx_fixtures.py normalised them itself): input layout, normalisation and every
    /// operator at scale. At most 2 digits may differ (a near tie decided by a last-bit difference).
    void embeddedDigits() {
        QFETCH(QString, model);
        const nn::Graph graph = nn::Graph::readOnnx(kData / (model.toStdString() + ".onnx"));
        const io::DigitSet test = io::embeddedSplit().test;
        const nn::MatrixF y = graph.forward(nn::toMatrix(test.normalisedImages()));
        const nn::MatrixF classes = readRows(kData / (model.toStdString() + "_test_classes.npy"));
        QCOMPARE(classes.rows(), y.rows());
        int differ = 0;
        for (Eigen::Index r = 0; r < y.rows(); ++r) {
            Eigen::Index best = 0;
            y.row(r).maxCoeff(&best);
            differ += best != Eigen::Index(classes(r, 0));
        }
        QVERIFY2(differ <= 2, qPrintable(QString("%1 of %2 digits classified otherwise than by PyTorch").arg(differ).arg(y.rows())));
        qDebug("accuracy %.4f", nn::accuracy(y, test.labels));
    }

    /// What each export becomes: the batch norms folded whether the exporter folded them or not, and the pooling
    /// with padding read as a Pad node.
    void structure() {
        const nn::Graph unfolded = nn::Graph::readOnnx(kData / "resnet_tiny.onnx");
        const nn::Graph folded = nn::Graph::readOnnx(kData / "resnet_tiny_folded.onnx");
        QCOMPARE(unfolded.nodes().size(), folded.nodes().size());
        int convs = 0, adds = 0, pads = 0;
        for (const nn::GraphNode& node : unfolded.nodes()) {
            QVERIFY2(node.kind != nn::NodeKind::ChannelAffine, qPrintable(QString::fromStdString(node.name)));
            convs += node.kind == nn::NodeKind::Conv;
            adds += node.kind == nn::NodeKind::Add && node.inputs.size() == 2;
            pads += node.kind == nn::NodeKind::Pad;
        }
        QCOMPARE(convs, 6);
        QCOMPARE(adds, 2);
        QCOMPARE(pads, 1);  // PyTorch's zero Pad before an AveragePool is read as nothing
        const nn::Graph lenet = nn::Graph::readOnnx(kData / "lenet5.onnx");
        for (const nn::GraphNode& node : lenet.nodes()) QVERIFY(node.kind != nn::NodeKind::Pad);
        QCOMPARE(unfolded.parameterCount(), folded.parameterCount());
        QCOMPARE(unfolded.inputShape().toString(), std::string("1×28×28"));
        QCOMPARE(unfolded.outputFeatures(), std::int64_t(10));
        // LeNet-5: 6·25+6 + 16·150+16 + 256·120+120 + 120·84+84 + 84·10+10 = 44,426 parameters.
        QCOMPARE(nn::Graph::readOnnx(kData / "lenet5.onnx").parameterCount(), std::int64_t(44426));
    }

    void sequentialModels_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<bool>("sequential");
        QTest::addColumn<QString>("why");
        QTest::newRow("lenet_300_100") << "lenet_300_100" << true << "";
        QTest::newRow("cnn_tiny") << "cnn_tiny" << true << "";
        QTest::newRow("lenet5") << "lenet5" << false << "(AveragePool) has no layer in a sequential model";
        QTest::newRow("resnet_tiny") << "resnet_tiny" << false << "does not take the output of the node before it";
    }
    /// A chain of layers a Model has becomes that Model: the same outputs, bit for bit, in float32 and emulated.
    void sequentialModels() {
        QFETCH(QString, model);
        QFETCH(bool, sequential);
        QFETCH(QString, why);
        const nn::Graph graph = nn::Graph::readOnnx(kData / (model.toStdString() + ".onnx"));
        std::string reason;
        const std::optional<nn::Model> m = graph.toModel(&reason);
        QCOMPARE(m.has_value(), sequential);
        if (!sequential) {
            QVERIFY2(reason.find(why.toStdString()) != std::string::npos, reason.c_str());
            return;
        }
        const nn::MatrixF x = readRows(kData / (model.toStdString() + "_inputs.npy"));
        QVERIFY(sameBits(m->forward(x), graph.forward(x)));
        for (const char* specName : {"fp16", "bf16/fp32", "e4m3"}) {
            const numeric::ComputeSpec spec = numeric::parseComputeSpec(specName);
            QVERIFY2(sameBits(m->forward(x, spec), graph.forward(x, spec)), specName);
        }
        // And back: the Model as a graph runs the same.
        QVERIFY(sameBits(nn::Graph::fromModel(*m).forward(x), graph.forward(x)));
    }

    /// Fused segments and node-by-node runs pass the same float32 values between the products (every format of
    /// these specs is within float32), so they agree bit for bit; the emulated outputs move away from float32's.
    void emulatedFusedEqualsNodeByNode() {
        for (const char* model : kModels) {
            const nn::Graph graph = nn::Graph::readOnnx(kData / (std::string(model) + ".onnx"));
            const nn::MatrixF x = readRows(kData / (std::string(model) + "_inputs.npy"));
            const nn::MatrixF native = graph.forward(x);
            // fp16 keeps 11 bits: a few per cent at most; e5m2 keeps 3: bounded, finite.
            for (const auto& [specName, bound] : {std::pair{"fp16", 5e-2}, std::pair{"e5m2/fp32", 1.0}}) {
                const numeric::ComputeSpec spec = numeric::parseComputeSpec(specName);
                nn::GraphRunOptions byNode;
                byNode.nodeByNode = true;
                const nn::MatrixF fused = graph.forward(x, spec);
                QVERIFY2(sameBits(fused, graph.forward(x, spec, byNode)), qPrintable(QString("%1 %2").arg(model, specName)));
                QVERIFY2(!sameBits(fused, native), qPrintable(QString("%1 %2: no rounding happened").arg(model, specName)));
                const double error = worstError(fused, native);
                QVERIFY2(error < bound, qPrintable(QString("%1 %2: error %3").arg(model, specName).arg(error)));
            }
        }
    }

    /// Low rank on a graph: a Linear node becomes a low-rank layer, a Conv node two convolutions (R×S to r channels,
    /// then 1×1) whose composition is the conv of the rank-r weight matrix U_r·Σ_r·V_rᵀ; ranks at or above full keep
    /// the node. Checked against a Model whose conv2 holds that rank-r matrix (reconstructed from the factors).
    void lowRank() {
        const nn::Graph graph = nn::Graph::readOnnx(kData / "cnn_tiny.onnx");
        const nn::MatrixF x = readRows(kData / "cnn_tiny_inputs.npy");
        QVERIFY(sameBits(graph.withRanks({{"all", 10000}}).forward(x), graph.forward(x)));

        const std::int64_t r = 5;
        const nn::Graph low = graph.withRanks({{"/conv2/Conv", r}, {"/fc1/Gemm", 7}});
        // conv2 (8 filters of 4×3×3) → 5 filters of 4×3×3 + 8 of 5×1×1 and the bias; fc1 (392→32) → 7·(392 + 32) + 32.
        const nn::GraphNode* conv2 = nullptr;
        for (const nn::GraphNode& n : graph.nodes())
            if (n.name == "/conv2/Conv") conv2 = &n;
        QVERIFY(conv2);
        QCOMPARE(low.parameterCount(), graph.parameterCount() - (8 * 36 + 8) + (r * 36 + 8 * r + 8) - (392 * 32) + 7 * (392 + 32));
        QStringList names;
        for (const nn::GraphNode& n : low.nodes()) names << QString::fromStdString(n.name);
        QVERIFY2(names.contains("/conv2/Conv.0") && names.contains("/conv2/Conv.1"), qPrintable(names.join(", ")));

        std::optional<nn::Model> reference = graph.toModel();
        QVERIFY(reference);
        nn::Layer* c2 = reference->find("/conv2/Conv");
        QVERIFY(c2);
        const auto factor = matmul::LowRankFactor::truncatedSvd({c2->weight.data(), std::size_t(c2->weight.size())},
                                                                c2->weight.rows(), c2->weight.cols(), r);
        const std::vector<float> w = factor.reconstruct();
        std::copy(w.begin(), w.end(), c2->weight.data());
        const nn::MatrixF onlyConv = graph.withRanks({{"/conv2/Conv", r}}).forward(x);
        const double error = worstError(onlyConv, reference->forward(x));
        QVERIFY2(error <= 1e-5, qPrintable(QString("worst error %1").arg(error)));
        QVERIFY(worstError(onlyConv, graph.forward(x)) > 1e-3);  // and rank 5 of 8 does change the outputs

        QVERIFY_THROWS_EXCEPTION(nn::ModelError, graph.withRanks({{"/Relu", 2}}));
        QVERIFY_THROWS_EXCEPTION(nn::ModelError, graph.withRanks({{"all", 0}}));
    }

    /// A graph keeps its buffers between runs: runs one after another (of other batch sizes in between) and runs at
    /// the same time (the second in buffers of its own) give the same bits as the first.
    void repeatedAndConcurrentRuns() {
        for (const char* model : {"resnet_tiny", "ops_mix", "lenet5"}) {
            const nn::Graph graph = nn::Graph::readOnnx(kData / (std::string(model) + ".onnx"));
            const nn::MatrixF x = readRows(kData / (std::string(model) + "_inputs.npy"));
            const nn::MatrixF first = graph.forward(x);
            const nn::MatrixF few = graph.forward(nn::MatrixF(x.topRows(3)));
            QVERIFY2(sameBits(graph.forward(x), first), model);
            QVERIFY2(sameBits(few, nn::MatrixF(first.topRows(3))), model);
            // The buffers kept are those of the last run's batch size, not every size ever run.
            const std::int64_t kept = graph.keptFloats();
            QVERIFY(kept > 0);
            (void)graph.forward(nn::MatrixF(x.topRows(5)));
            (void)graph.forward(x);
            QCOMPARE(graph.keptFloats(), kept);
            nn::MatrixF other[4];
            std::vector<std::thread> threads;
            for (nn::MatrixF& y : other) threads.emplace_back([&] { y = graph.forward(x); });
            for (std::thread& t : threads) t.join();
            for (const nn::MatrixF& y : other) QVERIFY2(sameBits(y, first), model);
        }
    }

    void poolingNodeTests_data() {
        QTest::addColumn<QString>("name");
        for (const char* c : {"averagepool_2d_ceil", "averagepool_2d_default", "averagepool_2d_pads",
                              "averagepool_2d_pads_count_include_pad", "averagepool_2d_precomputed_pads",
                              "averagepool_2d_precomputed_pads_count_include_pad", "averagepool_2d_precomputed_same_upper",
                              "averagepool_2d_precomputed_strides", "averagepool_2d_same_lower", "averagepool_2d_same_upper",
                              "averagepool_2d_strides", "maxpool_2d_ceil", "maxpool_2d_default", "maxpool_2d_pads",
                              "maxpool_2d_precomputed_pads", "maxpool_2d_precomputed_same_upper",
                              "maxpool_2d_precomputed_strides", "maxpool_2d_same_lower", "maxpool_2d_same_upper",
                              "maxpool_2d_strides", "globalaveragepool", "globalaveragepool_precomputed"})
            QTest::newRow(c) << QString(c);
    }
    /// The ONNX backend's pooling cases: the graph read by the product, the data by the tests' reader.
    void poolingNodeTests() {
        QFETCH(QString, name);
        const fs::path dir = onnxTestData() / "node" / ("test_" + name.toStdString());
        if (!fs::is_directory(dir))
            QFAIL(qPrintable(QString("%1 not found: install Debian's libonnx-testdata (scripts/ks installs it)")
                                 .arg(QString::fromStdString(dir.string()))));
        const nn::Graph graph = nn::Graph::readOnnx(dir / "model.onnx");
        const test::onnx::Tensor in = test::onnx::readTensorFile((dir / "test_data_set_0" / "input_0.pb").string());
        const test::onnx::Tensor out = test::onnx::readTensorFile((dir / "test_data_set_0" / "output_0.pb").string());
        const std::int64_t n = in.dims.front();
        const nn::MatrixF x = Eigen::Map<const nn::MatrixF>(in.values.data(), n, in.count() / n);
        const nn::MatrixF expected = Eigen::Map<const nn::MatrixF>(out.values.data(), n, out.count() / n);
        const nn::MatrixF y = graph.forward(x);
        QCOMPARE(y.cols(), expected.cols());
        const double error = worstError(y, expected);
        QVERIFY2(error <= 1e-6, qPrintable(QString("worst error %1").arg(error)));
    }

    /// Refusals name the file, the node and the reason.
    void refusals_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("message");
        const QString corpus = QString(KS_TEST_SOURCE_DIR) + "/fuzz/corpus/onnx/";
        QTest::newRow("dilated pool") << QString::fromStdString((onnxTestData() / "node/test_maxpool_2d_dilations/model.onnx").string())
                                      << "model.onnx: MaxPool node 'MaxPool_0': dilation 2; KernelScope's convolutions and pools are not dilated";
        QTest::newRow("two inputs") << QString::fromStdString((onnxTestData() / "node/test_add/model.onnx").string())
                                    << "model.onnx: the graph has 2 inputs besides its weights";
        QTest::newRow("external data") << corpus + "onnx-external-data"
                                       << "onnx-external-data: initializer 'w': its data is in an external file";
        QTest::newRow("not onnx") << QString(KS_TEST_SOURCE_DIR) + "/data/onnx/lenet5_inputs.npy"
                                  << "lenet5_inputs.npy: not an ONNX model";
    }
    void refusals() {
        QFETCH(QString, file);
        QFETCH(QString, message);
        try {
            (void)nn::Graph::readOnnx(file.toStdString());
            QFAIL("loaded");
        } catch (const std::runtime_error& e) {
            QVERIFY2(std::string(e.what()).starts_with(message.toStdString()), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestOnnxGraph)
#include "tst_onnx_graph.moc"
