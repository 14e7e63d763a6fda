// core/io's file helpers: printable() for strings read from files, and (below) reading and writing files safely.
#include "io/printable.hpp"

#include <QStringDecoder>
#include <QtTest>

#include <random>
#include <string>

class tst_FileUtil : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // Expected outputs written by hand from the rules in printable.hpp.
    void printableEscapes_data() {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<QByteArray>("expected");
        QTest::newRow("plain ASCII kept") << QByteArray("fc1.weight") << QByteArray("fc1.weight");
        QTest::newRow("empty") << QByteArray("") << QByteArray("");
        QTest::newRow("ESC (SGR colour)") << QByteArray("a\x1b[31mred") << QByteArray("a\\x1b[31mred");
        QTest::newRow("OSC window title") << QByteArray("\x1b]0;pwned\x07") << QByteArray("\\x1b]0;pwned\\x07");
        QTest::newRow("NUL inside") << QByteArray("a\0b", 3) << QByteArray("a\\x00b");
        QTest::newRow("newline, CR, TAB") << QByteArray("x\ny\rz\t") << QByteArray("x\\x0ay\\x0dz\\x09");
        QTest::newRow("DEL") << QByteArray("a\x7f") << QByteArray("a\\x7f");
        QTest::newRow("C1 CSI U+009B") << QByteArray("\xc2\x9b" "2J") << QByteArray("\\xc2\\x9b2J");
        QTest::newRow("C1 U+0080") << QByteArray("\xc2\x80") << QByteArray("\\xc2\\x80");
        QTest::newRow("U+00A0 kept (first after C1)") << QByteArray("\xc2\xa0") << QByteArray("\xc2\xa0");
        QTest::newRow("2-byte UTF-8 kept") << QByteArray("caf\xc3\xa9") << QByteArray("caf\xc3\xa9");
        QTest::newRow("3-byte UTF-8 kept") << QByteArray("\xe2\x82\xac") << QByteArray("\xe2\x82\xac");
        QTest::newRow("4-byte UTF-8 kept") << QByteArray("\xf0\x9f\x98\x80") << QByteArray("\xf0\x9f\x98\x80");
        QTest::newRow("U+10FFFF kept") << QByteArray("\xf4\x8f\xbf\xbf") << QByteArray("\xf4\x8f\xbf\xbf");
        QTest::newRow("backslash kept") << QByteArray("a\\x1b") << QByteArray("a\\x1b");
        QTest::newRow("bidi override U+202E") << QByteArray("a\xe2\x80\xae" "b") << QByteArray("a\\u{202e}b");
        QTest::newRow("bidi isolate U+2066") << QByteArray("\xe2\x81\xa6") << QByteArray("\\u{2066}");
        QTest::newRow("line separator U+2028") << QByteArray("\xe2\x80\xa8") << QByteArray("\\u{2028}");
        QTest::newRow("U+2027 kept (before separators)") << QByteArray("\xe2\x80\xa7") << QByteArray("\xe2\x80\xa7");
        QTest::newRow("U+202F kept (after overrides)") << QByteArray("\xe2\x80\xaf") << QByteArray("\xe2\x80\xaf");
        QTest::newRow("stray continuation") << QByteArray("\x80x") << QByteArray("\\x80x");
        QTest::newRow("byte FF") << QByteArray("\xff") << QByteArray("\\xff");
        QTest::newRow("overlong '/' C0 AF") << QByteArray("\xc0\xaf") << QByteArray("\\xc0\\xaf");
        QTest::newRow("overlong E0 80 AF") << QByteArray("\xe0\x80\xaf") << QByteArray("\\xe0\\x80\\xaf");
        QTest::newRow("overlong F0 80 80 AF") << QByteArray("\xf0\x80\x80\xaf") << QByteArray("\\xf0\\x80\\x80\\xaf");
        QTest::newRow("surrogate ED A0 80") << QByteArray("\xed\xa0\x80") << QByteArray("\\xed\\xa0\\x80");
        QTest::newRow("above U+10FFFF") << QByteArray("\xf4\x90\x80\x80") << QByteArray("\\xf4\\x90\\x80\\x80");
        QTest::newRow("truncated at end") << QByteArray("a\xe2\x82") << QByteArray("a\\xe2\\x82");
        QTest::newRow("truncated, then ASCII") << QByteArray("\xe2\x82" "b") << QByteArray("\\xe2\\x82b");
        QTest::newRow("lead then ESC") << QByteArray("\xc3\x1b") << QByteArray("\\xc3\\x1b");
    }
    void printableEscapes() {
        QFETCH(QByteArray, input);
        QFETCH(QByteArray, expected);
        const std::string out = ks::io::printable(std::string_view(input.constData(), std::size_t(input.size())));
        QCOMPARE(QByteArray::fromStdString(out), expected);
    }

    // Random bytes, judged by Qt's UTF-8 decoder and Unicode tables (not ours): the output always decodes without
    // error and holds no control or bidi formatting character; an input that is already valid and harmless is kept.
    void printableRandomBytes() {
        std::mt19937 rng(14);
        int keptUnchanged = 0;
        for (int trial = 0; trial < 20000; ++trial) {
            std::string input(std::size_t(rng() % 12), '\0');
            for (char& c : input) {
                // Mostly bytes that start or continue UTF-8 sequences, so that valid ones occur often.
                const unsigned r = rng();
                c = static_cast<char>(r % 4 == 0 ? 0x80 + (r >> 8) % 64 : r % 4 == 1 ? 0xc2 + (r >> 8) % 51
                                                                                    : (r >> 8) % 256);
            }
            const std::string out = ks::io::printable(input);
            QCOMPARE(ks::io::printable(out), out);  // idempotent
            QStringDecoder outDecoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
            const QString decodedOut = outDecoder(QByteArray::fromStdString(out));
            QVERIFY2(!outDecoder.hasError(), out.c_str());
            for (const QChar ch : decodedOut) {
                QVERIFY2(ch.category() != QChar::Other_Control, out.c_str());
                QVERIFY2(ch.unicode() < 0x2028 || ch.unicode() > 0x202e, out.c_str());
                QVERIFY2(ch.unicode() < 0x2066 || ch.unicode() > 0x2069, out.c_str());
            }
            QStringDecoder inDecoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
            const QString decodedIn = inDecoder(QByteArray::fromStdString(input));
            bool harmless = !inDecoder.hasError();
            for (const QChar ch : decodedIn)
                harmless = harmless && ch.category() != QChar::Other_Control &&
                           ch.direction() != QChar::DirLRE && ch.direction() != QChar::DirRLE &&
                           ch.direction() != QChar::DirLRO && ch.direction() != QChar::DirRLO &&
                           ch.direction() != QChar::DirPDF && ch.direction() != QChar::DirLRI &&
                           ch.direction() != QChar::DirRLI && ch.direction() != QChar::DirFSI &&
                           ch.direction() != QChar::DirPDI && ch.unicode() != 0x200e && ch.unicode() != 0x200f &&
                           ch.unicode() != 0x2028 && ch.unicode() != 0x2029;
            if (harmless) {
                QCOMPARE(out, input);
                ++keptUnchanged;
            } else {
                QVERIFY2(out != input, input.c_str());
            }
        }
        QVERIFY2(keptUnchanged > 1000, qPrintable(QString::number(keptUnchanged)));  // the comparison did run
    }
};

QTEST_APPLESS_MAIN(tst_FileUtil)
#include "tst_file_util.moc"
