// The layer table (study/layer_table.hpp): the energy ranks against closed forms, the spectrum of weights of known
// rank, the error columns (zero when native, the emulated run's otherwise), accuracy against nn::accuracy.
// Doubles are compared with == (exactly): QCOMPARE's is fuzzy.
#include <QTest>

#include <cmath>
#include <random>

#include "nn/graph.hpp"
#include "nn/low_rank.hpp"
#include "nn/model.hpp"
#include "numeric/compute_spec.hpp"
#include "study/layer_table.hpp"

using namespace ks;

namespace {

nn::MatrixF gaussian(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal;
    nn::MatrixF m(rows, cols);
    for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = normal(rng);
    return m;
}

/// 12 → 8 (rank 2 by construction) → ReLU → 5, log-softmax.
nn::Model smallMlp() {
    nn::Layer fc1;
    fc1.kind = nn::LayerKind::Linear;
    fc1.name = "fc1";
    fc1.weight = gaussian(8, 2, 1) * gaussian(2, 12, 2);  // rank 2 exactly (in exact arithmetic)
    fc1.bias = gaussian(8, 1, 3).col(0);
    nn::Layer fc2;
    fc2.kind = nn::LayerKind::Linear;
    fc2.name = "fc2";
    fc2.weight = gaussian(5, 8, 4);
    fc2.bias = gaussian(5, 1, 5).col(0);
    return nn::Model({fc1, nn::Layer::relu("relu"), fc2, nn::Layer::logSoftmax()});
}

}  // namespace

class TestLayerTable : public QObject {
    Q_OBJECT

private slots:
    void rankKeeping_data() {
        QTest::addColumn<std::vector<double>>("sigma");
        QTest::addColumn<double>("share");
        QTest::addColumn<qint64>("rank");
        // σ² = 9, 4, 1 (total 14): 90 % is 12.6 → two values (13); 99 % is 13.86 → three.
        QTest::newRow("3,2,1 at 90%") << std::vector<double>{3, 2, 1} << 0.90 << qint64(2);
        QTest::newRow("3,2,1 at 99%") << std::vector<double>{3, 2, 1} << 0.99 << qint64(3);
        QTest::newRow("3,2,1 at 9/14 exactly") << std::vector<double>{3, 2, 1} << 9.0 / 14.0 << qint64(1);
        QTest::newRow("one value") << std::vector<double>{5} << 0.99 << qint64(1);
        QTest::newRow("flat spectrum of 10 at 90%") << std::vector<double>(10, 1.0) << 0.90 << qint64(9);
        QTest::newRow("none") << std::vector<double>{} << 0.99 << qint64(1);
        QTest::newRow("all zero") << std::vector<double>{0, 0, 0} << 0.99 << qint64(1);
    }
    void rankKeeping() {
        QFETCH(std::vector<double>, sigma);
        QFETCH(double, share);
        QFETCH(qint64, rank);
        QCOMPARE(qint64(nn::rankKeepingEnergy(sigma, share)), rank);
    }

    void table() {
        const nn::Graph graph = nn::Graph::fromModel(smallMlp());
        const nn::MatrixF x = gaussian(40, 12, 7);
        std::vector<std::uint8_t> labels(40);
        for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = std::uint8_t(i % 5);

        study::LayerTableOptions native;
        native.timingRepeats = 2;
        const study::LayerTableResult r = study::layerTable(graph, x, labels, native);
        const study::Table& t = r.layers;
        QCOMPARE(t.rowCount(), graph.nodes().size());
        QCOMPARE(t.labels("node"), (std::vector<std::string>{"fc1", "relu", "fc2", "log_softmax"}));
        QCOMPARE(t.labels("op"), (std::vector<std::string>{"Linear", "Relu", "Linear", "LogSoftmax"}));
        QCOMPARE(t.labels("output_shape"), (std::vector<std::string>{"8", "8", "5", "5"}));
        QVERIFY(t.numbers("parameters")[0] == 8.0 * 12 + 8);
        QVERIFY(t.numbers("mflop_per_sample")[2] == 2.0 * 5 * 8 * 1e-6);
        // fc1 has rank 2: its third singular value is float32 rounding of the product, ~1e-6 of the first.
        QVERIFY(t.numbers("rank")[0] == 8.0);
        QVERIFY(t.numbers("rank_99")[0] == 2.0);
        QVERIFY(std::isnan(t.numbers("rank")[1]));
        for (double e : t.numbers("output_rel_error")) QVERIFY(e == 0.0);
        for (double ms : t.numbers("time_ms")) QVERIFY(ms >= 0 && std::isfinite(ms));
        QVERIFY(r.top1Agreement == 1.0);
        QVERIFY(r.outputRelError == 0.0);
        QVERIFY(r.float32Accuracy && r.specAccuracy);
        const double expected = nn::accuracy(graph.forward(x), labels);
        QVERIFY(*r.float32Accuracy == expected);
        QVERIFY(*r.specAccuracy == expected);

        // Under e4m3 the outputs move: each node's error is that of its own output against float32's.
        study::LayerTableOptions e4m3 = native;
        e4m3.spec = numeric::parseComputeSpec("e4m3");
        const study::LayerTableResult q = study::layerTable(graph, x, labels, e4m3);
        const nn::MatrixF y32 = graph.forward(x), yq = graph.forward(x, e4m3.spec);
        const double outputError = (yq.cast<double>() - y32.cast<double>()).norm() / y32.cast<double>().norm();
        QVERIFY(outputError > 0);
        QVERIFY(q.outputRelError == outputError);
        QVERIFY(q.layers.numbers("output_rel_error").back() == outputError);
        QVERIFY(q.layers.numbers("output_rel_error").front() > 0);
    }

    void labelsMustMatch() {
        const nn::Graph graph = nn::Graph::fromModel(smallMlp());
        const std::vector<std::uint8_t> labels(3, 0);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, study::layerTable(graph, gaussian(4, 12, 1), labels, {}));
    }
};

QTEST_GUILESS_MAIN(TestLayerTable)
#include "tst_layer_table.moc"
