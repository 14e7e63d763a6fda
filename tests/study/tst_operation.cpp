// study::Operation, the handle the studies and pages use instead of branching on the operation: it is
// the registries seen through one interface (names, aliases, order, reference first), resolves names
// once, parses the CLI's shapes, and each operation's exact result is independent of its algorithms.
// Also what core tells the GUI and the CLI about the precision study: the families it can sweep and
// the matrix product that computes a convolution layer.
#include <QTest>

#include <cmath>
#include <stdexcept>

#include "conv/conv_registry.hpp"
#include "matmul/matmul_registry.hpp"
#include "numeric/format_family.hpp"
#include "study/operation.hpp"
#include "study/precision_study.hpp"
#include "study/runtime_study.hpp"
#include "test_support.hpp"

using namespace ks;
using study::Operation;

namespace {

std::vector<std::string> names(const std::vector<const Algorithm*>& algorithms) {
    std::vector<std::string> out;
    for (const Algorithm* a : algorithms) out.push_back(a->name());
    return out;
}

}  // namespace

class tst_Operation : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void operationsByIdInTheGuisOrder() {
        QCOMPARE(Operation::all().size(), std::size_t{2});
        QVERIFY(Operation::all()[0] == Operation::Conv);
        QVERIFY(Operation::all()[1] == Operation::Matmul);
        QVERIFY(Operation::byId("conv") == Operation::Conv);
        QVERIFY(Operation::byId("matmul") == Operation::Matmul);
        QCOMPARE(Operation::Matmul.label(), std::string("Matrix multiply"));
        try {
            (void)Operation::byId("gemm");
            QFAIL("an unknown operation was accepted");
        } catch (const std::invalid_argument& e) {
            QCOMPARE(std::string(e.what()), std::string("unknown operation 'gemm'; valid: conv, matmul"));
        }
    }

    void algorithmsAreTheRegistriesReferenceFirst() {
        QCOMPARE(names(Operation::Conv.algorithms()), conv::convRegistry().canonicalNames());
        QCOMPARE(names(Operation::Matmul.algorithms()), matmul::matmulAlgorithmNames());
        QCOMPARE(Operation::Conv.reference().name(), std::string("direct"));
        QCOMPARE(Operation::Matmul.reference().name(), std::string("naive"));
        for (const Operation& op : Operation::all()) {
            QVERIFY(op.reference().shownByDefault());
            for (const Algorithm* a : op.algorithms()) QVERIFY2(!a->description().empty(), a->name().c_str());
        }
    }

    void resolveCanonicalisesOnceWithoutRepeats() {
        QCOMPARE(Operation::Conv.resolve({"winograd", "naive", "direct", "fft"}),
                 (std::vector<std::string>{"winograd-2x2", "direct", "fft"}));
        QCOMPARE(Operation::Matmul.resolve({}), matmul::matmulAlgorithmNames());
        try {
            (void)Operation::Matmul.resolve({"dense", "strassen"});
            QFAIL("an unknown algorithm was accepted");
        } catch (const std::invalid_argument& e) {
            QVERIFY2(std::string(e.what()).find("'strassen'") != std::string::npos, e.what());
            QVERIFY2(std::string(e.what()).find("lns-binned") != std::string::npos, e.what());
        }
    }

    void shapesFromTheCommandLine_data() {
        QTest::addColumn<QString>("operation");
        QTest::addColumn<QList<qint64>>("dims");
        QTest::addColumn<QString>("error");  // empty: accepted
        QTest::newRow("conv layer") << "conv" << QList<qint64>{2, 3, 9, 9, 4, 3} << QString();
        QTest::newRow("conv stride, pad") << "conv" << QList<qint64>{1, 3, 9, 9, 4, 3, 2, 1} << QString();
        QTest::newRow("conv too few") << "conv" << QList<qint64>{1, 3, 9} << "conv needs N,C,H,W,K,R[,stride,pad]";
        QTest::newRow("conv kernel too large") << "conv" << QList<qint64>{1, 1, 2, 2, 1, 3} << "kernel";
        QTest::newRow("matmul") << "matmul" << QList<qint64>{3, 5, 7} << QString();
        QTest::newRow("matmul four") << "matmul" << QList<qint64>{3, 5, 7, 9} << "matmul needs M,K,N";
        QTest::newRow("matmul zero") << "matmul" << QList<qint64>{3, 0, 7} << "positive";
    }
    void shapesFromTheCommandLine() {
        QFETCH(QString, operation);
        QFETCH(QList<qint64>, dims);
        QFETCH(QString, error);
        const Operation op = Operation::byId(operation.toStdString());
        study::ProblemShapes shapes;
        const auto reason = op.setShape(shapes, std::vector<std::int64_t>(dims.begin(), dims.end()));
        if (!error.isEmpty()) {
            QVERIFY(reason);
            QVERIFY2(reason->find(error.toStdString()) != std::string::npos, reason->c_str());
            return;
        }
        QVERIFY2(!reason, reason ? reason->c_str() : "");
        if (op == Operation::Matmul) {
            QCOMPARE(shapes.m, dims[0]);
            QCOMPARE(shapes.k, dims[1]);
            QCOMPARE(shapes.n, dims[2]);
        } else {
            QCOMPARE(shapes.conv.N, dims[0]);
            QCOMPARE(shapes.conv.K, dims[4]);
            QCOMPARE(shapes.conv.strideH, dims.size() == 8 ? dims[6] : 1);
        }
    }

    // The matmul reference is Eigen's double product, not one of the algorithms studied: on small integers
    // every sum is exact, so it equals the definition bit for bit.
    void matmulExactIsTheDefinition() {
        study::ProblemShapes shapes;
        shapes.m = 3, shapes.k = 4, shapes.n = 2;
        TensorD a({3, 4}), b({4, 2});
        for (std::size_t i = 0; i < a.size(); ++i) a[i] = double(int(i) - 5);
        for (std::size_t i = 0; i < b.size(); ++i) b[i] = double(3 * int(i) % 7 - 3);
        const TensorD c = Operation::Matmul.impl().exact(shapes, a, b);
        for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 2; ++j) {
                double sum = 0;
                for (int k = 0; k < 4; ++k) sum += a[std::size_t(i * 4 + k)] * b[std::size_t(k * 2 + j)];
                KS_COMPARE_EXACT(c[std::size_t(i * 2 + j)], sum);
            }
    }

    void scalingRefusesImagesSmallerThanTheKernel() {
        study::ProblemShapes shapes;
        shapes.conv = conv::ConvProblem::single(32, 32, 5, 5);
        QVERIFY(Operation::Conv.impl().scaleTo(shapes, 4));
        QVERIFY(!Operation::Conv.impl().scaleTo(shapes, 64));
        QCOMPARE(shapes.conv.H, std::int64_t{64});
        QCOMPARE(shapes.conv.R, std::int64_t{5});
    }

    // Every family but per-tensor int, whose every point the study would refuse.
    void precisionFamiliesAreTheSweepableOnes() {
        std::vector<std::string> offered;
        for (const numeric::FormatFamily* f : study::precisionFamilies()) offered.push_back(f->id());
        QCOMPARE(offered.size() + 1, numeric::standardFamilies().size());
        QVERIFY(std::find(offered.begin(), offered.end(), "int") == offered.end());
        for (const char* id : {"e8", "e5", "e4", "e11", "fixed", "lns"})
            QVERIFY2(std::find(offered.begin(), offered.end(), id) != offered.end(), id);

        study::PrecisionSweep s;
        s.operation = Operation::Matmul;
        s.methods = {"naive"};
        s.family = "int";
        s.firstPosition = 7, s.lastPosition = 8;
        s.m = 4, s.k = 8, s.n = 4;
        const study::Table t = study::runPrecisionSweep(s);
        QCOMPARE(t.rowCount(), std::size_t{2});
        for (const auto& status : t.labels("status")) QCOMPARE(status, *study::precisionRefusal(numeric::Format::scaledInt(8)));
    }

    // im2col's product computes the layer: K × C·R·S weights times C·R·S × P·Q patches per image.
    void layerAndItsMatrixProduct() {
        study::PrecisionSweep s;
        s.setLayer(conv::ConvProblem::layer(1, 16, 20, 20, 4, 3));
        QCOMPARE(s.m, std::int64_t{4});
        QCOMPARE(s.k, std::int64_t{16 * 3 * 3});
        QCOMPARE(s.n, std::int64_t{18 * 18});
        s.setLayer(conv::ConvProblem::layer(1, 3, 9, 9, 2, 3, 2, 1));
        QCOMPARE(s.n, std::int64_t{5 * 5});
    }

    void runtimeChartsNameTheOperation() {
        study::RuntimeScaling s;
        s.base.operation = Operation::Matmul;
        QCOMPARE(study::runtimeScalingChart(s).highlightSeries, Operation::Matmul.everydayAlgorithm());
        QCOMPARE(study::runtimeScalingChart(s).xLabel, std::string("matrix side"));
        study::PrecisionSweep p;
        p.operation = Operation::Matmul;
        QCOMPARE(study::precisionChart(p).highlightSeries, std::string("naive"));
        QCOMPARE(study::precisionChart(p).id, std::string("precision-matmul-e5"));
    }
};

QTEST_APPLESS_MAIN(tst_Operation)
#include "tst_operation.moc"
