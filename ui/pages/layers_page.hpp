#pragma once
// Layers: any digit network layer by layer — an ONNX file (residual connections, batch norm, average pooling…), a
// weight file or an embedded model — under a compute spec, a conv algorithm (or the fastest per layer) and a rank
// per layer: each node's output shape, size, FLOPs, time, the error its output carries against float32 and the
// ranks that keep 90 / 99 % of its weights' energy (study::layerTable); charts of the products' error and time;
// the whole network's time, output error, agreement with float32 and accuracy on the test digits.
// Every change recomputes in the background (the newest setting wins), with progress and Cancel.
#include <memory>
#include <optional>

#include "nn/graph.hpp"
#include "pages/investigation_page.hpp"
#include "study/layer_table.hpp"

class QComboBox;
class QLabel;
class QPushButton;
class QSpinBox;
class QTableView;

namespace ks::ui {

class LayerTableModel;
class StudyRunner;

class LayersPage : public InvestigationPage {
    Q_OBJECT
public:
    explicit LayersPage(QWidget* parent = nullptr);
    ~LayersPage() override;

    QList<ChartPanel*> charts() const override;
    void setTaskProgress(TaskProgress* progress) override;
    void waitForIdle() override;
    /// ONNX models (any graph KernelScope reads; File ▸ Open and drag-and-drop of .onnx land here).
    QStringList openableSuffixes() const override;
    bool openFile(const QString& path, QString* error) override;
    /// "embedded" or "embedded-cnn".
    void openEmbedded(const QString& source);
    /// The whole layer table as CSV (atomically), headed by the network and the setting as `# ` lines. On failure:
    /// false and *error naming the file; without a table yet: false.
    bool saveTable(const QString& path, QString* error);
    /// The selected rows (all rows when none is selected), header first, tab-separated: what Ctrl+C puts on the
    /// clipboard, ready to paste into a spreadsheet.
    QString selectedRowsText() const;

    /// The loaded network ("" before any) and what was last computed for it.
    QString modelName() const { return name_; }
    const nn::Graph* graph() const { return graph_.get(); }
    const std::optional<study::LayerTableResult>& result() const { return result_; }

    QComboBox* computeBox() const { return compute_; }
    QComboBox* convAlgorithmBox() const { return convAlgorithm_; }
    QSpinBox* rankBox() const { return rank_; }
    QSpinBox* digitsBox() const { return digits_; }
    QTableView* tableView() const { return table_; }
    LayerTableModel* tableModel() const { return model_; }
    QLabel* summaryLabel() const { return summary_; }
    QLabel* messageLabel() const { return message_; }
    QPushButton* saveTableButton() const { return saveTable_; }
    ChartPanel* errorChart() const { return errorChart_; }
    ChartPanel* timeChart() const { return timeChart_; }

protected:
    /// Ctrl+C on the table copies the selected rows whole (QTableView's own copies one cell).
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void setGraph(std::shared_ptr<const nn::Graph> graph, const QString& name, const QString& key);
    void request();
    void showResult(const study::LayerTableResult& result);
    void showProblem(const QString& text);
    /// "resnet_tiny.onnx, e4m3/fp32, conv direct, 500 test digits": the charts' caption and the CSV's head.
    std::string settingCaption() const;
    void saveSettings() const;
    void restoreSettings();

    std::shared_ptr<const nn::Graph> graph_;
    QString name_, key_;
    std::optional<study::LayerTableResult> result_;
    QLabel* modelLabel_;
    QPushButton* openButton_;
    QPushButton* embeddedButton_;
    QPushButton* embeddedCnnButton_;
    QComboBox* compute_;
    QComboBox* convAlgorithm_;
    QSpinBox* rank_;
    QSpinBox* digits_;
    QLabel* summary_;
    QLabel* message_;
    QPushButton* saveTable_;
    QTableView* table_;
    LayerTableModel* model_;
    ChartPanel* errorChart_;
    ChartPanel* timeChart_;
    StudyRunner* runner_;
};

}  // namespace ks::ui
