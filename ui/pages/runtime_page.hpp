#pragma once
// Runtime: every conv or matmul algorithm timed on one shape (a table like cuDNN's find and a chart
// of time per algorithm), and runtime vs size per algorithm. Benchmarks run on demand ("Find"), in
// the background, with progress and Cancel; the numbers come from core/study/runtime_study.
#include <any>
#include <optional>

#include "pages/investigation_page.hpp"
#include "study/runtime_study.hpp"

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QStackedWidget;
class QTableWidget;

namespace ks::ui {

class FindingsView;

class StudyRunner;

class RuntimePage : public InvestigationPage {
    Q_OBJECT
public:
    explicit RuntimePage(QWidget* parent = nullptr);
    ~RuntimePage() override;

    QList<ChartPanel*> charts() const override;
    void setTaskProgress(TaskProgress* progress) override;
    void waitForIdle() override;

    /// What the controls describe now.
    study::RuntimeFind find() const;
    study::RuntimeScaling scaling() const;

    /// Time every algorithm on the shape, then the sizes (background; the newest request wins).
    void runFind();
    void cancel();
    bool isRunning() const;

    QComboBox* operationBox() const { return operation_; }
    QPushButton* findButton() const { return findButton_; }
    QTableWidget* resultTable() const { return table_; }
    QLineEdit* sizesEdit() const { return sizes_; }
    QSpinBox* imageSizeBox() const { return height_; }
    QSpinBox* channelsBox() const { return channels_; }
    QSpinBox* filtersBox() const { return outChannels_; }
    QSpinBox* matrixSizeBox() const { return matM_; }
    QLabel* messageLabel() const { return message_; }
    /// The largest max |error| an algorithm may have to be named the fastest (the precision-aware pick).
    QComboBox* toleranceBox() const { return tolerance_; }
    /// Whether the shown results were measured for the shape the controls describe now.
    bool resultsAreCurrent() const;
    ChartPanel* findChart() const { return findChart_; }
    const FindingsView* findingsView() const { return findings_; }
    ChartPanel* scalingChart() const { return scalingChart_; }

protected:
    void showEvent(QShowEvent* event) override;

private:
    study::Operation currentOperation() const;
    void operationChanged();
    void showResult(const std::any& result);
    void fillTable(const study::Table& table);
    void describeResult();
    /// Marks table and charts out of date when the controls no longer describe what they show.
    void markIfOutOfDate();
    void saveSettings() const;
    void restoreSettings();

    QComboBox* operation_;
    QStackedWidget* shapeStack_;
    QSpinBox *batch_, *channels_, *height_, *width_, *outChannels_, *kernel_;
    QSpinBox *matM_, *matK_, *matN_, *rank_;
    QLineEdit* sizes_;
    QComboBox* tolerance_;
    QPushButton* findButton_;
    QLabel* message_;
    /// "What this shows" for the Find table, in the control column: the table and two charts fill the page's height.
    FindingsView* findings_;
    QTableWidget* table_;
    ChartPanel* findChart_;
    ChartPanel* scalingChart_;
    StudyRunner* runner_;
    int runs_ = 0;
    std::optional<study::Table> shownFind_;  ///< the Find table on screen
    QString shownKey_;                       ///< what it was measured for (find and scaling keys)
    bool shownOnce_ = false;
};

}  // namespace ks::ui
