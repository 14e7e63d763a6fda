// Sharded sweeps: the slices of N shards cover every point once, in order, and each sweep's shard tables, joined
// in shard order, are its unsharded table bit for bit (the points' random inputs never depend on the slice).
#include <QTest>

#include "test_support.hpp"

#include "study/accumulation_study.hpp"
#include "study/compress_study.hpp"
#include "study/lns_study.hpp"
#include "study/network_precision.hpp"
#include "study/precision_study.hpp"
#include "study/shard.hpp"

using namespace ks;
using study::Shard;
using study::Table;

namespace {

/// The tables run(shard) gives for shards 1…count, joined in order.
template <class Run>
Table joined(int count, Run run) {
    Table all = run(Shard{1, count});
    for (int i = 2; i <= count; ++i) all.append(run(Shard{i, count}));
    return all;
}

}  // namespace

class tst_Shard : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void slicesCoverEveryPointOnceInOrder() {
        for (std::size_t total : {0u, 1u, 2u, 7u, 12u, 100u})
            for (int count : {1, 2, 3, 5, 8, 13, 150}) {
                std::size_t next = 0, smallest = total, largest = 0;
                for (int i = 1; i <= count; ++i) {
                    const auto [first, last] = Shard{i, count}.slice(total);
                    QCOMPARE(first, next);  // contiguous and in order: joined slices are the whole list
                    QVERIFY(last >= first);
                    smallest = std::min(smallest, last - first), largest = std::max(largest, last - first);
                    for (std::size_t p = 0; p < total; ++p) QCOMPARE((Shard{i, count}.owns(p, total)), (p >= first && p < last));
                    next = last;
                }
                QCOMPARE(next, total);
                QVERIFY(largest - smallest <= 1);  // balanced
            }
    }
    void parseShard_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<int>("index");  // 0: refused, `message` in the error
        QTest::addColumn<int>("count");
        QTest::addColumn<QString>("message");
        QTest::newRow("first of one") << "1/1" << 1 << 1 << "";
        QTest::newRow("third of eight") << "3/8" << 3 << 8 << "";
        QTest::newRow("last") << "8/8" << 8 << 8 << "";
        QTest::newRow("zero-based") << "0/8" << 0 << 0 << "I must be in 1…8";
        QTest::newRow("past the end") << "9/8" << 0 << 0 << "I must be in 1…8";
        QTest::newRow("no slash") << "3" << 0 << 0 << "expected I/N";
        QTest::newRow("no shards") << "1/0" << 0 << 0 << "N must be in";
        QTest::newRow("negative") << "-1/4" << 0 << 0 << "I must be in 1…4";
        QTest::newRow("words") << "one/four" << 0 << 0 << "not a whole number";
        QTest::newRow("trailing") << "1/4x" << 0 << 0 << "not a whole number";
        QTest::newRow("empty") << "" << 0 << 0 << "expected I/N";
    }
    void parseShard() {
        QFETCH(QString, text);
        QFETCH(int, index);
        QFETCH(int, count);
        QFETCH(QString, message);
        try {
            const Shard s = study::parseShard(text.toStdString());
            QVERIFY2(index != 0, "accepted");
            QCOMPARE(s.index, index);
            QCOMPARE(s.count, count);
        } catch (const std::invalid_argument& e) {
            QVERIFY2(index == 0, e.what());
            QVERIFY2(QString(e.what()).contains(message), e.what());
        }
    }

    void precisionShardsJoinToTheWholeSweep_data() {
        QTest::addColumn<int>("count");
        QTest::newRow("1") << 1;
        QTest::newRow("2") << 2;
        QTest::newRow("5") << 5;
        QTest::newRow("more shards than points") << 11;  // 2 methods × 3 positions
    }
    void precisionShardsJoinToTheWholeSweep() {
        QFETCH(int, count);
        study::PrecisionSweep s;
        s.operation = study::Operation::Matmul;
        s.methods = {"naive", "dense"};
        s.family = "e5";
        s.firstPosition = 3, s.lastPosition = 5;
        s.trials = 2;
        s.rounding = numeric::Rounding::Stochastic;  // random bits too must not depend on the slice
        const Table whole = study::runPrecisionSweep(s);
        QCOMPARE(whole.rowCount(), std::size_t{6});
        const Table parts = joined(count, [&](const Shard& shard) {
            study::PrecisionSweep slice = s;
            slice.shard = shard;
            return study::runPrecisionSweep(slice);
        });
        QCOMPARE(parts.toCsv(), whole.toCsv());
    }
    void lnsShardsJoinToTheWholeSweep() {
        study::LnsSweep s;
        s.fractionBits = {1, 3, 5};
        s.accumulatorBits = {8, 12, 16, 24};
        s.trials = 3;
        const study::LnsResult whole = study::runLnsSweep(s);
        for (int count : {2, 3, 9}) {
            std::vector<study::LnsResult> parts;
            for (int i = 1; i <= count; ++i) {
                study::LnsSweep slice = s;
                slice.shard = {i, count};
                parts.push_back(study::runLnsSweep(slice));
            }
            Table byFraction = parts.front().byFractionBits, byWidth = parts.front().byAccumulatorBits;
            for (std::size_t i = 1; i < parts.size(); ++i) byFraction.append(parts[i].byFractionBits), byWidth.append(parts[i].byAccumulatorBits);
            QCOMPARE(byFraction.toCsv(), whole.byFractionBits.toCsv());
            QCOMPARE(byWidth.toCsv(), whole.byAccumulatorBits.toCsv());
        }
    }
    void accumulationShardsJoinToTheWholeSweep() {
        study::AccumulationSweep s;
        s.values = {6, 10, 14};
        s.length = 512;
        s.dots = 4;
        const Table whole = study::runAccumulationSweep(s);
        for (int count : {2, 7, 40}) {
            const Table parts = joined(count, [&](const Shard& shard) {
                study::AccumulationSweep slice = s;
                slice.shard = shard;
                return study::runAccumulationSweep(slice);
            });
            QCOMPARE(parts.toCsv(), whole.toCsv());
        }
    }
    void networkShardsJoinToTheWholeSweep() {
        const auto embedded = study::CompressionStudy::embedded();
        study::CompressSweep s;
        s.sharedRanks = {4, 16, 64};
        s.measureTime = false;
        s.maxTestDigits = 200;
        const Table whole = embedded->run(s);
        const auto compressed = [&](const Shard& shard) {
            study::CompressSweep slice = s;
            slice.shard = shard;
            return embedded->run(slice);
        };
        for (int count : {2, 4, 6}) {
            Table parts = joined(count, compressed);
            study::markParetoFront(parts);
            QCOMPARE(parts.toCsv(), whole.toCsv());
        }
        std::vector<numeric::ComputeSpec> specs;
        for (const char* name : {"fp16/fp32", "mxfp4/fp32", "e4m3/fp32"}) specs.push_back(numeric::parseComputeSpec(name));
        const Table accuracy = study::specAccuracySweep(*embedded, embedded->dense(), specs, s);
        const Table accuracyParts = joined(2, [&](const Shard& shard) {
            study::CompressSweep slice = s;
            slice.shard = shard;
            return study::specAccuracySweep(*embedded, embedded->dense(), specs, slice);
        });
        QCOMPARE(accuracyParts.toCsv(), accuracy.toCsv());
    }
    void paretoFrontIsMarkedAcrossTheJoinedRows() {
        // A shard's own front can hold a point another shard's point dominates: the joined table is marked again.
        Table t({"median_ms", "accuracy", "pareto"}, {"setting"});
        t.addRow({2.0, 0.9, 1.0, "slow and good"});  // front of its shard
        t.addRow({1.0, 0.95, 1.0, "fast and better"});  // another shard's
        t.addRow({0.5, 0.5, 1.0, "fastest"});
        study::markParetoFront(t);
        QCOMPARE(t.numbers("pareto"), (std::vector<double>{0.0, 1.0, 1.0}));
    }
};

QTEST_GUILESS_MAIN(tst_Shard)
#include "tst_shard.moc"
