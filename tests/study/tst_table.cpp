#include <QtTest>

#include "test_support.hpp"

#include "study/table.hpp"

using ks::study::Table;

class tst_Table : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void rowsAndColumns() {
        Table t({"rank", "error"}, {"input"});
        t.addRow({1, 0.5, "gaussian"});
        t.addRow({2, 0.25, "photo, rgb"});
        QCOMPARE(t.rowCount(), std::size_t{2});
        KS_COMPARE_EXACT(t.numbers("error")[1], 0.25);
        QCOMPARE(t.labels("input")[0], std::string("gaussian"));
        QCOMPARE(t.toCsv(), std::string("rank,error,input\n1,0.5,gaussian\n2,0.25,\"photo, rgb\"\n"));
    }
    void numbersRoundTrip() {
        Table t({"x"});
        t.addRow({0.1});
        t.addRow({1.0 / 3.0});
        t.addRow({std::numeric_limits<double>::infinity()});
        const std::string csv = t.toCsv();
        QCOMPARE(csv, std::string("x\n0.1\n0.3333333333333333\ninf\n"));
    }
    void badRowsAreErrors() {
        Table t({"x"}, {"name"});
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, t.addRow({1.0}));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, t.addRow({"a", "b"}));
        try {
            (void)t.column("nope");
            QFAIL("unknown column accepted");
        } catch (const std::out_of_range& e) {
            QVERIFY(QString::fromUtf8(e.what()).contains(QLatin1String("x, name")));
        }
    }
    void commentLinesBeforeTheHeader() {
        Table t({"x"});
        t.addRow({1});
        QCOMPARE(t.toCsv({"Title", "", "two\nlines"}), std::string("# Title\n# two lines\nx\n1\n"));
        QCOMPARE(t.toCsv({}), t.toCsv());
    }

    void filterAndDistinct() {
        Table t({"v"}, {"k"});
        t.addRow({1, "a"});
        t.addRow({2, "b"});
        t.addRow({3, "a"});
        QCOMPARE(t.distinct("k"), (std::vector<std::string>{"a", "b"}));
        QCOMPARE(t.filtered("k", "a").numbers("v"), (std::vector<double>{1, 3}));
    }
};

QTEST_APPLESS_MAIN(tst_Table)
#include "tst_table.moc"
