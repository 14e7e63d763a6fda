#pragma once
// The report as a document of blocks (headings, paragraphs, figures, tables, findings), written three
// ways from the one content: Markdown beside its PNGs and CSVs, one self-contained HTML file (images
// embedded), and the HTML a PDF is typeset from (ks::cli::writePdf).
//
// Inline markup in text: `code` and *emphasis*, as Markdown writes them; HTML gets them converted and
// everything else escaped.
#include <string>
#include <vector>

#include "study/findings.hpp"

namespace ks::cli {

class ReportDocument {
public:
    enum class Images {
        Embedded,  ///< data: URIs (one self-contained file)
        ByName,    ///< the PNG's file name (resources a typesetter supplies)
    };

    void heading(int level, std::string text);
    void paragraph(std::string text);
    /// A chart: `image` is a PNG's file name in the report's folder ("" when none was drawn), `csv` the data's.
    void figure(std::string image, std::string caption, std::string csv);
    void table(std::vector<std::string> header, std::vector<std::vector<std::string>> rows);
    /// "What this shows": each finding with the rows of `csv` it came from. Nothing is written for none.
    void findings(const study::Findings& findings, const std::string& csv);

    std::string markdown() const;
    /// A complete HTML page; with Images::Embedded the PNGs are read from `dir`.
    std::string html(const std::string& dir, Images images) const;
    /// File names of the figures' PNGs, in order.
    std::vector<std::string> images() const;

private:
    struct Block {
        enum Kind { Heading, Paragraph, Figure, Table, Findings } kind;
        int level = 0;
        std::string text, image, csv;
        std::vector<std::string> header;
        std::vector<std::vector<std::string>> rows;  ///< Table rows; Findings: {text, source}
    };
    std::vector<Block> blocks_;
};

/// RFC 4648 base64 of bytes.
std::string base64(const std::string& bytes);
/// `text` with &, <, > and " escaped, then `code` and *emphasis* as HTML.
std::string inlineHtml(const std::string& text);

}  // namespace ks::cli
