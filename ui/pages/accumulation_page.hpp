#pragma once
// Accumulation: the seed's part 6 and today's hardware sums. Dot products of stored operands with exact products,
// summed under each accumulator model (sequential, pairwise, blocked, Kahan, a tensor core's aligned groups, and the
// same promoted into float32), their error against the exact sum swept over accumulator bits, length, group size or
// promotion interval; where the error comes from (the running sum's error after k products); and the digit network's
// accuracy under the accumulator presets and the block-scaled formats; and NVIDIA's binned log-domain accumulation (2^F
// bins by the products' log remainders, each an integer accumulator) against its accumulator width. The numbers are
// core/study/accumulation_study's, network_precision's specAccuracySweep and lns_study's; this page only drives and
// shows them.
#include "pages/investigation_page.hpp"
#include "study/accumulation_study.hpp"
#include "study/table.hpp"

class QCheckBox;
class QComboBox;
class QLabel;
class QSlider;
class QSpinBox;

namespace ks::ui {

class StudyRunner;

class AccumulationPage : public InvestigationPage {
    Q_OBJECT
public:
    explicit AccumulationPage(QWidget* parent = nullptr);
    ~AccumulationPage() override;

    QList<ChartPanel*> charts() const override;
    void setTaskProgress(TaskProgress* progress) override;
    void waitForIdle() override;

    /// What the controls describe now.
    study::AccumulationSweep sweep() const;
    /// The specifications the network chart compares: fp32, the accumulator presets, the block-scaled formats.
    static std::vector<numeric::ComputeSpec> networkSpecs();

    QComboBox* operandBox() const { return operand_; }
    QComboBox* axisBox() const { return axis_; }
    QSlider* bitsSlider() const { return bits_; }
    QSpinBox* digitsBox() const { return digits_; }
    QSlider* binsSlider() const { return lnsFractionBits_; }
    QSlider* lnsWidthSlider() const { return lnsWidth_; }
    ChartPanel* binnedChart() const { return binnedChart_; }
    QList<QCheckBox*> modelChecks() const { return modelChecks_; }
    ChartPanel* sweepChart() const { return sweepChart_; }
    ChartPanel* swampingChart() const { return swampingChart_; }
    ChartPanel* networkChart() const { return networkChart_; }
    QLabel* messageLabel() const { return message_; }

protected:
    void showEvent(QShowEvent* event) override;

private:
    void requestSweep();
    void requestNetwork();
    void requestBinned();
    void lnsWidthMoved();
    void bitsMoved();
    void saveSettings() const;
    void restoreSettings();

    QComboBox *operand_, *axis_, *length_, *promote_, *inputs_;
    QSlider* bits_;
    QLabel* bitsLabel_;
    QSpinBox *group_, *digits_;
    QSlider *lnsFractionBits_, *lnsWidth_;
    QLabel* lnsLabel_;
    QList<QCheckBox*> modelChecks_;
    QLabel* message_;
    ChartPanel *sweepChart_, *swampingChart_, *networkChart_, *binnedChart_;
    StudyRunner *sweepRunner_, *networkRunner_, *binnedRunner_;
    bool restoring_ = false;
    bool networkRequested_ = false;
};

}  // namespace ks::ui
