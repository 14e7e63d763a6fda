#include "models/layer_table_model.hpp"

#include <cmath>

#include "qt_text.hpp"

namespace ks::ui {

namespace {

struct ColumnInfo {
    const char* column;  ///< in study::Table
    const char* header;
    const char* tip;
    int decimals;        ///< numbers: digits after the point, −1 for scientific notation
};

const ColumnInfo kColumns[] = {
    {"node", QT_TR_NOOP("Node"), QT_TR_NOOP("The node's name in the model file"), 0},
    {"op", QT_TR_NOOP("Op"), QT_TR_NOOP("The operator (a BatchNormalization after a Conv is folded into it)"), 0},
    {"output_shape", QT_TR_NOOP("Output"), QT_TR_NOOP("One sample's output: features, or channels×height×width"), 0},
    {"algorithm", QT_TR_NOOP("Algorithm"), QT_TR_NOOP("The convolution algorithm of a Conv node; how a Linear node multiplies"), 0},
    {"parameters", QT_TR_NOOP("Params"), QT_TR_NOOP("Weights and biases"), 0},
    {"mflop_per_sample", QT_TR_NOOP("MFLOP"), QT_TR_NOOP("Millions of FLOPs per sample (2 per multiply-add of the direct definition)"), 3},
    {"time_ms", QT_TR_NOOP("Time (ms)"), QT_TR_NOOP("Median time of the node over the test digits in float32, node by node"), 2},
    {"output_rel_error", QT_TR_NOOP("Rel. error"), QT_TR_NOOP("‖y − y_float32‖ / ‖y_float32‖ of the node's output under the compute spec, "
                                       "including the error of the layers before it"), -1},
    {"rank", QT_TR_NOOP("Rank"), QT_TR_NOOP("The layer's rank: min(out, in) of its weight matrix (a Conv's K × C·R·S), or r once factored"), 0},
    {"rank_90", QT_TR_NOOP("r 90 %"), QT_TR_NOOP("The smallest rank keeping 90 % of the weight matrix's energy Σσ²"), 0},
    {"rank_99", QT_TR_NOOP("r 99 %"), QT_TR_NOOP("The smallest rank keeping 99 % of the weight matrix's energy Σσ²"), 0},
};
constexpr int kColumnCount = int(sizeof kColumns / sizeof kColumns[0]);

}  // namespace

void LayerTableModel::setTable(const study::Table& table) {
    beginResetModel();
    table_ = table;
    endResetModel();
}

int LayerTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() || table_.columnCount() == 0 ? 0 : int(table_.rowCount());
}

int LayerTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : kColumnCount; }

QVariant LayerTableModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= rowCount() || index.column() >= kColumnCount) return {};
    const ColumnInfo& info = kColumns[index.column()];
    const study::Column& column = table_.column(info.column);
    const auto row = std::size_t(index.row());
    if (!column.isNumeric()) {
        if (role == Qt::DisplayRole || role == Qt::UserRole || role == Qt::ToolTipRole) return q(column.labels()[row]);
        return {};
    }
    const double v = column.numbers()[row];
    switch (role) {
        case Qt::DisplayRole:
            if (std::isnan(v)) return QString();
            return info.decimals < 0 ? QString::number(v, 'e', 2) : QString::number(v, 'f', info.decimals);
        case Qt::UserRole: return v;
        case Qt::TextAlignmentRole: return int(Qt::AlignRight | Qt::AlignVCenter);
        default: return {};
    }
}

QVariant LayerTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || section < 0 || section >= kColumnCount) return {};
    if (role == Qt::DisplayRole) return tr(kColumns[section].header);
    if (role == Qt::ToolTipRole) return tr(kColumns[section].tip);
    return {};
}

}  // namespace ks::ui
