// The report's three renderings of one document: Markdown as written, HTML escaped with its inline markup,
// images embedded byte for byte (base64 checked against Qt's encoder, an independent one), findings with
// the rows they cite.
#include <QTemporaryDir>
#include <QTest>

#include <random>

#include "io/file_util.hpp"
#include "report_document.hpp"

using ks::cli::ReportDocument;

class tst_ReportDocument : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void base64MatchesQt() {
        std::mt19937 random(7);
        for (int length = 0; length < 70; ++length) {
            std::string bytes(std::size_t(length), '\0');
            for (char& c : bytes) c = char(random() & 0xff);
            const QByteArray expected = QByteArray(bytes.data(), qsizetype(bytes.size())).toBase64();
            QCOMPARE(QByteArray::fromStdString(ks::cli::base64(bytes)), expected);
        }
    }

    void inlineMarkupAndEscaping_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("html");
        QTest::newRow("code") << "run `ks --help` now" << "run <code>ks --help</code> now";
        QTest::newRow("emphasis") << "an *italic* word" << "an <em>italic</em> word";
        QTest::newRow("escaped") << "a < b & \"c\" > d" << "a &lt; b &amp; &quot;c&quot; &gt; d";
        QTest::newRow("star in code") << "`a*b` *c*" << "<code>a*b</code> <em>c</em>";
        QTest::newRow("markup in code escaped") << "`<img src=x>`" << "<code>&lt;img src=x&gt;</code>";
        QTest::newRow("unclosed") << "`open" << "<code>open</code>";
    }
    void inlineMarkupAndEscaping() {
        QFETCH(QString, text);
        QFETCH(QString, html);
        QCOMPARE(QString::fromStdString(ks::cli::inlineHtml(text.toStdString())), html);
    }

    void markdown() {
        ReportDocument doc;
        doc.heading(2, "1. Precision");
        doc.paragraph("Some `code`.");
        doc.figure("p.png", "Error vs bits", "p.csv");
        doc.table({"method", "error"}, {{"direct", "0.1"}, {"fft", "0.2"}});
        doc.findings({{"fft loses 1.0 bit.", {1, 0}}, {"No rows here.", {}}}, "p.csv");
        doc.findings({}, "q.csv");  // nothing to say: nothing written
        QCOMPARE(doc.markdown(), std::string("## 1. Precision\n\n"
                                             "Some `code`.\n\n"
                                             "![Error vs bits](p.png)\n\n"
                                             "*Error vs bits* — data: [`p.csv`](p.csv)\n\n"
                                             "| method | error |\n|---|---|\n| direct | 0.1 |\n| fft | 0.2 |\n\n"
                                             "**What this shows**\n\n"
                                             "- fft loses 1.0 bit. *(rows 1, 2 of p.csv)*\n"
                                             "- No rows here.\n\n"));
        QCOMPARE(doc.images(), std::vector<std::string>{"p.png"});
    }

    void htmlEmbedsImagesAndEscapes() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        // A PNG signature and IHDR of 1600 × 1000, then arbitrary bytes: the HTML must carry them all.
        std::string png("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\x06\x40\0\0\x03\xe8", 24);
        png += std::string("\x08\x02\0\0\0 <&>\"'\xff\x00 tail", 16);
        ks::io::writeFileAtomically(dir.filePath(QStringLiteral("f.png")).toStdString(), png);
        ReportDocument doc;
        doc.heading(1, "Report <1>");
        doc.figure("f.png", "A & B", "f.csv");
        doc.findings({{"x < y", {2}}}, "f.csv");
        const std::string embedded = doc.html(dir.path().toStdString(), ReportDocument::Images::Embedded);
        const std::string uri = "data:image/png;base64," + QByteArray(png.data(), qsizetype(png.size())).toBase64().toStdString();
        QVERIFY(embedded.find("<img src=\"" + uri + "\" alt=\"A &amp; B\" width=\"560\" height=\"350\">") != std::string::npos);
        QVERIFY(embedded.find("<title>Report &lt;1&gt;</title>") != std::string::npos);
        QVERIFY(embedded.find("<li>x &lt; y <span class=\"source\">(row 3 of f.csv)</span></li>") != std::string::npos);
        // Self-contained: the only image source is the data URI.
        QCOMPARE(embedded.find("src=\"f.png\""), std::string::npos);
        const std::string byName = doc.html(dir.path().toStdString(), ReportDocument::Images::ByName);
        QVERIFY(byName.find("<img src=\"f.png\"") != std::string::npos);
    }

    void missingImageIsAnError() {
        QTemporaryDir dir;
        ReportDocument doc;
        doc.figure("gone.png", "gone", "gone.csv");
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, (void)doc.html(dir.path().toStdString(), ReportDocument::Images::Embedded));
    }
};

QTEST_APPLESS_MAIN(tst_ReportDocument)
#include "tst_report_document.moc"
