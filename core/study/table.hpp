#pragma once
// A result table: named columns of numbers or labels, all of one length. Studies produce these;
// the GUI's charts, the CLI's CSV and PNG files and the tests all read them.
#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ks::study {

struct Column {
    std::string name;  ///< stable CSV header, snake_case with a unit suffix where one applies
    std::variant<std::vector<double>, std::vector<std::string>> values;

    bool isNumeric() const { return values.index() == 0; }
    const std::vector<double>& numbers() const { return std::get<0>(values); }
    const std::vector<std::string>& labels() const { return std::get<1>(values); }
    std::size_t size() const;
};

class Table {
public:
    Table() = default;
    /// Declare the columns; labelColumns lists which of them hold text.
    Table(std::vector<std::string> numericColumns, std::vector<std::string> labelColumns = {});

    std::size_t rowCount() const;
    std::size_t columnCount() const { return columns_.size(); }
    const std::vector<Column>& columns() const { return columns_; }
    bool hasColumn(const std::string& name) const;
    /// std::out_of_range naming the column and the columns there are.
    const Column& column(const std::string& name) const;
    const std::vector<double>& numbers(const std::string& name) const { return column(name).numbers(); }
    const std::vector<std::string>& labels(const std::string& name) const { return column(name).labels(); }

    /// One row: a value for every column, in declaration order (numbers and labels by kind).
    struct Cell {
        Cell(double v) : value(v) {}
        Cell(int v) : value(static_cast<double>(v)) {}
        Cell(long v) : value(static_cast<double>(v)) {}
        Cell(long long v) : value(static_cast<double>(v)) {}
        Cell(std::size_t v) : value(static_cast<double>(v)) {}
        Cell(std::string v) : value(std::move(v)) {}
        Cell(const char* v) : value(std::string(v)) {}
        std::variant<double, std::string> value;
    };
    void addRow(const std::vector<Cell>& cells);

    /// RFC 4180 CSV with a header line; numbers with 17 significant digits where needed (round-trip).
    std::string toCsv() const;
    /// The same after comment lines "# <line>" (one per non-empty entry, newlines flattened): a figure's title and
    /// parameters, so that it can be reproduced from its CSV alone (pandas: read_csv(path, comment="#")).
    std::string toCsv(const std::vector<std::string>& commentLines) const;
    /// Reads what toCsv wrote (comment lines first skipped): the columns named in labelColumns hold text, the
    /// others numbers ("nan", "inf", "-inf" included; every double read back bit for bit). std::invalid_argument
    /// naming the line and column at fault.
    static Table fromCsv(std::string_view csv, const std::vector<std::string>& labelColumns);
    /// The names of the label columns, in order.
    std::vector<std::string> labelColumnNames() const;
    /// Replaces a numeric column's values (as many as there are rows).
    void setNumbers(const std::string& name, std::vector<double> values);
    /// Appends other's rows; its columns must be these, in this order and of the same kinds.
    void append(const Table& other);
    /// Rows whose label column `name` equals `value`.
    Table filtered(const std::string& name, const std::string& value) const;
    /// Distinct values of a label column, in order of first appearance.
    std::vector<std::string> distinct(const std::string& name) const;

private:
    std::vector<Column> columns_;
};

}  // namespace ks::study
