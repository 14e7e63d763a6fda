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

namespace {

/// One CSV record from `at` (RFC 4180: quoted fields may hold commas, quotes as "", and line breaks).
std::vector<std::string> readRecord(std::string_view csv, std::size_t& at, std::size_t line) {
    std::vector<std::string> fields(1);
    bool quoted = false;
    while (at < csv.size()) {
        const char ch = csv[at++];
        if (quoted) {
            if (ch != '"') fields.back() += ch;
            else if (at < csv.size() && csv[at] == '"') fields.back() += '"', ++at;
            else quoted = false;
        } else if (ch == '"') {
            quoted = true;
        } else if (ch == ',') {
            fields.emplace_back();
        } else if (ch == '\n') {
            return fields;
        } else if (ch != '\r') {
            fields.back() += ch;
        }
    }
    if (quoted) throw std::invalid_argument("CSV line " + std::to_string(line) + ": a quoted field is not closed");
    return fields;
}

double parseNumber(const std::string& text, std::size_t line, const std::string& column) {
    if (text == "nan") return std::nan("");
    if (text == "inf") return HUGE_VAL;
    if (text == "-inf") return -HUGE_VAL;
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size())
        throw std::invalid_argument("CSV line " + std::to_string(line) + ", column '" + column + "': '" + text +
                                    "' is not a number");
    return value;
}

}  // namespace

Table Table::fromCsv(std::string_view csv, const std::vector<std::string>& labelColumns) {
    std::size_t at = 0, line = 1;
    while (at < csv.size() && csv[at] == '#') {  // comment lines: a figure's title and parameters
        const auto end = csv.find('\n', at);
        at = end == std::string_view::npos ? csv.size() : end + 1;
        ++line;
    }
    if (at >= csv.size()) throw std::invalid_argument("CSV has no header line");
    const std::vector<std::string> header = readRecord(csv, at, line++);
    for (const auto& name : labelColumns)
        if (std::find(header.begin(), header.end(), name) == header.end())
            throw std::invalid_argument("CSV has no column '" + name + "'");
    Table table;
    std::vector<bool> isLabel;
    for (const auto& name : header) {
        if (std::count(header.begin(), header.end(), name) > 1)
            throw std::invalid_argument("CSV names column '" + name + "' twice");
        const bool label = std::find(labelColumns.begin(), labelColumns.end(), name) != labelColumns.end();
        isLabel.push_back(label);
        if (label) table.columns_.push_back({name, std::vector<std::string>{}});
        else table.columns_.push_back({name, std::vector<double>{}});
    }
    while (at < csv.size()) {
        const std::vector<std::string> fields = readRecord(csv, at, line);
        if (fields.size() != header.size())
            throw std::invalid_argument("CSV line " + std::to_string(line) + " has " + std::to_string(fields.size()) +
                                        " fields, the header " + std::to_string(header.size()));
        for (std::size_t c = 0; c < fields.size(); ++c) {
            if (isLabel[c]) std::get<1>(table.columns_[c].values).push_back(fields[c]);
            else std::get<0>(table.columns_[c].values).push_back(parseNumber(fields[c], line, header[c]));
        }
        ++line;
    }
    return table;
}

std::vector<std::string> Table::labelColumnNames() const {
    std::vector<std::string> names;
    for (const auto& c : columns_)
        if (!c.isNumeric()) names.push_back(c.name);
    return names;
}

void Table::setNumbers(const std::string& name, std::vector<double> values) {
    const std::size_t index = std::size_t(&column(name) - columns_.data());  // or out_of_range naming the columns
    Column& c = columns_[index];
    if (!c.isNumeric()) throw std::invalid_argument("column '" + name + "' holds labels, not numbers");
    if (values.size() != rowCount())
        throw std::invalid_argument("column '" + name + "': " + std::to_string(values.size()) + " values for " +
                                    std::to_string(rowCount()) + " rows");
    std::get<0>(c.values) = std::move(values);
}

void Table::append(const Table& other) {
    const auto describe = [](const Table& t) {
        std::string d;
        for (const auto& c : t.columns_) d += (d.empty() ? "" : ", ") + c.name + (c.isNumeric() ? "" : " (label)");
        return d;
    };
    bool same = other.columns_.size() == columns_.size();
    for (std::size_t c = 0; same && c < columns_.size(); ++c)
        same = columns_[c].name == other.columns_[c].name && columns_[c].isNumeric() == other.columns_[c].isNumeric();
    if (!same)
        throw std::invalid_argument("tables differ in their columns: " + describe(*this) + " against " + describe(other));
    for (std::size_t c = 0; c < columns_.size(); ++c) {
        if (columns_[c].isNumeric()) {
            auto& to = std::get<0>(columns_[c].values);
            to.insert(to.end(), other.columns_[c].numbers().begin(), other.columns_[c].numbers().end());
        } else {
            auto& to = std::get<1>(columns_[c].values);
            to.insert(to.end(), other.columns_[c].labels().begin(), other.columns_[c].labels().end());
        }
    }
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
