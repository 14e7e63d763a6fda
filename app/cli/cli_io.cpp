#include "cli_io.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "io/file_util.hpp"
#include "io/npy.hpp"

namespace ks::cli {

TensorF readArrayF(const Args& args, const std::string& option) { return io::readNpyFloat(args.get(option)); }
TensorD readArrayD(const Args& args, const std::string& option) { return io::readNpyDouble(args.get(option)); }
void writeArray(const std::string& path, const TensorF& tensor) { io::writeNpy(path, tensor); }
void writeArray(const std::string& path, const TensorD& tensor) { io::writeNpy(path, tensor); }

io::DigitSet testDigits(const std::string& source) {
    return source == "embedded" ? io::embeddedSplit().test : io::readMnistTestSet(source);
}

std::string Table::toText() const {
    // Widths in characters, not bytes: cells hold "×", "µs", "σ" (UTF-8 continuation bytes are not counted).
    const auto chars = [](const std::string& s) {
        return std::size_t(std::count_if(s.begin(), s.end(), [](char ch) { return (static_cast<unsigned char>(ch) & 0xC0) != 0x80; }));
    };
    std::vector<std::size_t> width(columns.size(), 0);
    for (std::size_t c = 0; c < columns.size(); ++c) width[c] = chars(columns[c]);
    for (const auto& row : rows)
        for (std::size_t c = 0; c < row.size() && c < width.size(); ++c) width[c] = std::max(width[c], chars(row[c]));
    std::ostringstream out;
    auto line = [&](const std::vector<std::string>& cells) {
        for (std::size_t c = 0; c < cells.size(); ++c) {
            out << cells[c];
            if (c + 1 < cells.size() && c < width.size()) out << std::string(width[c] - chars(cells[c]) + 2, ' ');
        }
        out << '\n';
    };
    line(columns);
    for (const auto& row : rows) line(row);
    return out.str();
}

std::string Table::toCsv() const {
    auto quote = [](const std::string& cell) {
        if (cell.find_first_of(",\"\n") == std::string::npos) return cell;
        std::string q = "\"";
        for (char ch : cell) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
        return q + "\"";
    };
    std::ostringstream out;
    auto line = [&](const std::vector<std::string>& cells) {
        for (std::size_t c = 0; c < cells.size(); ++c) out << (c ? "," : "") << quote(cells[c]);
        out << '\n';
    };
    line(columns);
    for (const auto& row : rows) line(row);
    return out.str();
}

void writeText(const std::string& path, const std::string& text) { io::writeFileAtomically(path, text); }

std::string number(const char* printfFormat, double value) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, printfFormat, value);
    return buffer;
}

}  // namespace ks::cli
