#include "report_document.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <utility>

#include "io/file_util.hpp"

namespace ks::cli {
namespace {

std::string escaped(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            default: out += c;
        }
    }
    return out;
}

// Print-friendly, readable on screen; Qt's rich text reads the same subset of CSS for the PDF.
constexpr const char* kStyle = R"(body { font-family: sans-serif; max-width: 60em; margin: 2em auto; line-height: 1.45; color: #222; }
h1, h2, h3 { line-height: 1.2; }
.figure { margin: 1.5em 0; }
img { max-width: 100%; }
.caption { font-style: italic; color: #444; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.6em; text-align: left; }
th { background: #eee; }
code { font-family: monospace; }
.findings { background: #f4f7fb; border-left: 4px solid #4a78b8; padding: 0.3em 1em; }
.source { color: #666; font-size: 90%; }
)";

/// Width and height from a PNG's IHDR chunk, or (0, 0) when `bytes` is not a PNG.
std::pair<int, int> pngSize(const std::string& bytes) {
    if (bytes.size() < 24 || bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0 || bytes.compare(12, 4, "IHDR") != 0) return {0, 0};
    const auto be32 = [&](std::size_t at) {
        std::uint32_t v = 0;
        for (std::size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(bytes[at + i]);
        return v;
    };
    const std::uint32_t w = be32(16), h = be32(20);
    if (w == 0 || h == 0 || w > 1u << 20 || h > 1u << 20) return {0, 0};
    return {int(w), int(h)};
}

}  // namespace

std::string base64(const std::string& bytes) {
    static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const unsigned v = (unsigned(static_cast<unsigned char>(bytes[i])) << 16) |
                           (unsigned(static_cast<unsigned char>(bytes[i + 1])) << 8) | static_cast<unsigned char>(bytes[i + 2]);
        for (int shift = 18; shift >= 0; shift -= 6) out += alphabet[(v >> shift) & 63];
    }
    const std::size_t rest = bytes.size() - i;
    if (rest > 0) {
        unsigned v = unsigned(static_cast<unsigned char>(bytes[i])) << 16;
        if (rest == 2) v |= unsigned(static_cast<unsigned char>(bytes[i + 1])) << 8;
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += rest == 2 ? alphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::string inlineHtml(const std::string& text) {
    std::string out;
    bool code = false, emphasis = false;
    for (char c : escaped(text)) {
        if (c == '`') {
            out += code ? "</code>" : "<code>";
            code = !code;
        } else if (c == '*' && !code) {
            out += emphasis ? "</em>" : "<em>";
            emphasis = !emphasis;
        } else {
            out += c;
        }
    }
    if (code) out += "</code>";
    if (emphasis) out += "</em>";
    return out;
}

void ReportDocument::heading(int level, std::string text) {
    blocks_.push_back({Block::Heading, level, std::move(text), {}, {}, {}, {}});
}

void ReportDocument::paragraph(std::string text) { blocks_.push_back({Block::Paragraph, 0, std::move(text), {}, {}, {}, {}}); }

void ReportDocument::figure(std::string image, std::string caption, std::string csv) {
    blocks_.push_back({Block::Figure, 0, std::move(caption), std::move(image), std::move(csv), {}, {}});
}

void ReportDocument::table(std::vector<std::string> header, std::vector<std::vector<std::string>> rows) {
    blocks_.push_back({Block::Table, 0, {}, {}, {}, std::move(header), std::move(rows)});
}

void ReportDocument::findings(const study::Findings& findings, const std::string& csv) {
    if (findings.empty()) return;
    Block b{Block::Findings, 0, {}, {}, csv, {}, {}};
    for (const auto& f : findings) b.rows.push_back({f.text, study::findingSource(f, csv)});
    blocks_.push_back(std::move(b));
}

std::vector<std::string> ReportDocument::images() const {
    std::vector<std::string> out;
    for (const auto& b : blocks_)
        if (b.kind == Block::Figure && !b.image.empty()) out.push_back(b.image);
    return out;
}

std::string ReportDocument::markdown() const {
    std::ostringstream out;
    for (const auto& b : blocks_) {
        switch (b.kind) {
            case Block::Heading: out << std::string(std::size_t(b.level), '#') << ' ' << b.text << "\n\n"; break;
            case Block::Paragraph: out << b.text << "\n\n"; break;
            case Block::Figure:
                if (!b.image.empty()) out << "![" << b.text << "](" << b.image << ")\n\n";
                out << '*' << b.text << "* — data: [`" << b.csv << "`](" << b.csv << ")\n\n";
                break;
            case Block::Table:
                out << '|';
                for (const auto& h : b.header) out << ' ' << h << " |";
                out << "\n|";
                for (std::size_t i = 0; i < b.header.size(); ++i) out << "---|";
                out << '\n';
                for (const auto& row : b.rows) {
                    out << '|';
                    for (const auto& cell : row) out << ' ' << cell << " |";
                    out << '\n';
                }
                out << '\n';
                break;
            case Block::Findings:
                out << "**What this shows**\n\n";
                for (const auto& f : b.rows) out << "- " << f[0] << (f[1].empty() ? "" : " *(" + f[1] + ")*") << '\n';
                out << '\n';
                break;
        }
    }
    return out.str();
}

std::string ReportDocument::html(const std::string& dir, Images images) const {
    std::ostringstream out;
    std::string title = "KernelScope report";
    for (const auto& b : blocks_)
        if (b.kind == Block::Heading && b.level == 1) {
            title = b.text;
            break;
        }
    out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" << escaped(title)
        << "</title>\n<style>\n" << kStyle << "</style>\n</head>\n<body>\n";
    for (const auto& b : blocks_) {
        switch (b.kind) {
            case Block::Heading: {
                const std::string tag{'h', static_cast<char>('0' + std::clamp(b.level, 1, 6))};
                out << '<' << tag << '>' << inlineHtml(b.text) << "</" << tag << ">\n";
                break;
            }
            case Block::Paragraph: out << "<p>" << inlineHtml(b.text) << "</p>\n"; break;
            case Block::Figure:
                // div and p rather than figure and figcaption: Qt's rich text, which typesets the PDF, knows only these.
                out << "<div class=\"figure\">\n";
                if (!b.image.empty()) {
                    const std::string bytes = io::readFile(dir + "/" + b.image);
                    const std::string source =
                        images == Images::Embedded ? "data:image/png;base64," + base64(bytes) : escaped(b.image);
                    // Both dimensions, for Qt's typesetter (which ignores max-width); browsers scale to fit.
                    const auto [width, height] = pngSize(bytes);
                    const int shownWidth = 560, shownHeight = width > 0 ? int(std::lround(560.0 * height / width)) : 350;
                    out << "<p style=\"line-height: 100%\"><img src=\"" << source << "\" alt=\"" << escaped(b.text) << "\" width=\"" << shownWidth
                        << "\" height=\"" << shownHeight << "\"></p>\n";
                }
                out << "<p class=\"caption\">" << inlineHtml(b.text) << " — data: <code>" << escaped(b.csv) << "</code></p>\n</div>\n";
                break;
            case Block::Table:
                out << "<table>\n<tr>";
                for (const auto& h : b.header) out << "<th>" << inlineHtml(h) << "</th>";
                out << "</tr>\n";
                for (const auto& row : b.rows) {
                    out << "<tr>";
                    for (const auto& cell : row) out << "<td>" << inlineHtml(cell) << "</td>";
                    out << "</tr>\n";
                }
                out << "</table>\n";
                break;
            case Block::Findings:
                out << "<div class=\"findings\">\n<p><strong>What this shows</strong></p>\n<ul>\n";
                for (const auto& f : b.rows) {
                    out << "<li>" << inlineHtml(f[0]);
                    if (!f[1].empty()) out << " <span class=\"source\">(" << escaped(f[1]) << ")</span>";
                    out << "</li>\n";
                }
                out << "</ul>\n</div>\n";
                break;
        }
    }
    out << "</body>\n</html>\n";
    return out.str();
}

}  // namespace ks::cli
