#include <QTest>

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
    void csvReadsBackBitForBit() {
        // What toCsv writes, fromCsv reads back: every double to the bit (shortest round-trip form), the
        // non-finite values, and labels holding commas, quotes and line breaks.
        Table t({"x", "y"}, {"name"});
        const double values[] = {0.1 + 0.2, 1.0 / 3.0, -0.0, 5e-324, -1.7976931348623157e308, std::nan(""),
                                 std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
        const char* names[] = {"plain", "a, b", "say \"hi\"", "two\nlines", "", "tensor core, promoted", "x", "y"};
        for (std::size_t i = 0; i < std::size(values); ++i) t.addRow({values[i], double(i), names[i]});
        const Table back = Table::fromCsv(t.toCsv({"a title", "a caption"}), {"name"});
        QCOMPARE(back.toCsv(), t.toCsv());
        QCOMPARE(back.rowCount(), std::size(values));
        for (std::size_t i = 0; i < std::size(values); ++i) {
            if (std::isnan(values[i])) QVERIFY(std::isnan(back.numbers("x")[i]));
            else QCOMPARE(ks::test::bitsOf(back.numbers("x")[i]), ks::test::bitsOf(values[i]));
            QCOMPARE(back.labels("name")[i], std::string(names[i]));
        }
        QCOMPARE(back.labelColumnNames(), std::vector<std::string>{"name"});
    }
    void badCsvIsNamed_data() {
        QTest::addColumn<QString>("csv");
        QTest::addColumn<QString>("message");
        QTest::newRow("no header") << "# only a comment\n" << "no header";
        QTest::newRow("not a number") << "x,name\n1,a\n1.5e,b\n" << "line 3, column 'x': '1.5e' is not a number";
        QTest::newRow("short row") << "x,name\n1\n" << "line 2 has 1 fields, the header 2";
        QTest::newRow("open quote") << "x,name\n1,\"a\n" << "quoted field is not closed";
        QTest::newRow("label column absent") << "x,label\n1,a\n" << "no column 'name'";
        QTest::newRow("column twice") << "x,x,name\n1,2,a\n" << "names column 'x' twice";
    }
    void badCsvIsNamed() {
        QFETCH(QString, csv);
        QFETCH(QString, message);
        try {
            (void)Table::fromCsv(csv.toStdString(), {"name"});
            QFAIL("accepted");
        } catch (const std::invalid_argument& e) {
            QVERIFY2(QString(e.what()).contains(message), e.what());
        }
    }
    void appendJoinsRowsOfTheSameColumns() {
        Table a({"x"}, {"name"}), b({"x"}, {"name"});
        a.addRow({1, "one"});
        b.addRow({2, "two"});
        b.addRow({3, "three"});
        a.append(b);
        QCOMPARE(a.toCsv(), std::string("x,name\n1,one\n2,two\n3,three\n"));
        Table other({"y"}, {"name"});
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, a.append(other));
        Table kinds({"x", "name"});
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, a.append(kinds));
        a.setNumbers("x", {7, 8, 9});
        QCOMPARE(a.toCsv(), std::string("x,name\n7,one\n8,two\n9,three\n"));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, a.setNumbers("x", {1}));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, a.setNumbers("name", {1, 2, 3}));
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
