#include "study/table.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace ks::study {

std::size_t Column::size() const {
    return std::visit([](const auto& v) { return v.size(); }, values);
}

Table::Table(std::vector<std::string> numericColumns, std::vector<std::string> labelColumns) {
    for (auto& n : numericColumns) columns_.push_back({std::move(n), std::vector<double>{}});
    for (auto& n : labelColumns) columns_.push_back({std::move(n), std::vector<std::string>{}});
}

std::size_t Table::rowCount() const { return columns_.empty() ? 0 : columns_.front().size(); }

bool Table::hasColumn(const std::string& name) const {
    return std::any_of(columns_.begin(), columns_.end(), [&](const Column& c) { return c.name == name; });
}

const Column& Table::column(const std::string& name) const {
    for (const auto& c : columns_)
        if (c.name == name) return c;
    std::string known;
    for (const auto& c : columns_) known += (known.empty() ? "" : ", ") + c.name;
    throw std::out_of_range("no column '" + name + "' (the table has: " + known + ")");
}

void Table::addRow(const std::vector<Cell>& cells) {
    if (cells.size() != columns_.size())
        throw std::invalid_argument("row has " + std::to_string(cells.size()) + " cells, the table has " +
                                    std::to_string(columns_.size()) + " columns");
    for (std::size_t i = 0; i < cells.size(); ++i) {
        const bool numericCell = cells[i].value.index() == 0;
        if (numericCell != columns_[i].isNumeric())
            throw std::invalid_argument("column '" + columns_[i].name + "' holds " +
                                        (columns_[i].isNumeric() ? "numbers" : "labels"));
    }
    for (std::size_t i = 0; i < cells.size(); ++i) {
        if (columns_[i].isNumeric())
            std::get<0>(columns_[i].values).push_back(std::get<double>(cells[i].value));
        else
            std::get<1>(columns_[i].values).push_back(std::get<std::string>(cells[i].value));
    }
}

namespace {

std::string formatNumber(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buffer[32];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);  // shortest round-trip form
    return ec == std::errc() ? std::string(buffer, end) : std::to_string(v);
}

std::string quote(const std::string& cell) {
    if (cell.find_first_of(",\"\n\r") == std::string::npos) return cell;
    std::string q = "\"";
    for (char ch : cell) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    return q + "\"";
}

}  // namespace

std::string Table::toCsv() const {
    std::string out;
    for (std::size_t c = 0; c < columns_.size(); ++c) out += (c ? "," : "") + quote(columns_[c].name);
    out += '\n';
    for (std::size_t r = 0; r < rowCount(); ++r) {
        for (std::size_t c = 0; c < columns_.size(); ++c) {
            if (c) out += ',';
            out += columns_[c].isNumeric() ? formatNumber(columns_[c].numbers()[r]) : quote(columns_[c].labels()[r]);
        }
        out += '\n';
    }
    return out;
}

std::string Table::toCsv(const std::vector<std::string>& commentLines) const {
    std::string head;
    for (std::string line : commentLines) {
        if (line.empty()) continue;
        std::replace(line.begin(), line.end(), '\n', ' ');
        head += "# " + line + "\n";
    }
    return head + toCsv();
}

Table Table::filtered(const std::string& name, const std::string& value) const {
    const auto& key = labels(name);
    Table out;
    for (const auto& c : columns_) {
        Column copy{c.name, {}};
        if (c.isNumeric()) {
            std::vector<double> v;
            for (std::size_t r = 0; r < key.size(); ++r)
                if (key[r] == value) v.push_back(c.numbers()[r]);
            copy.values = std::move(v);
        } else {
            std::vector<std::string> v;
            for (std::size_t r = 0; r < key.size(); ++r)
                if (key[r] == value) v.push_back(c.labels()[r]);
            copy.values = std::move(v);
        }
        out.columns_.push_back(std::move(copy));
    }
    return out;
}

std::vector<std::string> Table::distinct(const std::string& name) const {
    std::vector<std::string> out;
    for (const auto& v : labels(name))
        if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
    return out;
}

}  // namespace ks::study
