#pragma once
// The layer table (study::layerTable's Table) as a Qt item model for a QTableView: one row per node, the columns a
// reader needs, numbers right-aligned and formatted, products' spectrum columns empty for the other nodes. The raw
// value of every cell is under Qt::UserRole (sorting, tests).
#include <QAbstractTableModel>

#include "study/table.hpp"

namespace ks::ui {

class LayerTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    using QAbstractTableModel::QAbstractTableModel;

    void setTable(const study::Table& table);
    const study::Table& table() const { return table_; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    study::Table table_;
};

}  // namespace ks::ui
