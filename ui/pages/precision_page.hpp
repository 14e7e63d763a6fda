#pragma once
// Precision: error vs bit width for each chosen method, the slider walking a format family;
// pictures of the current point (input, output, error heat map) below the chart.
#include "pages/investigation_page.hpp"
#include "study/precision_study.hpp"

class QCheckBox;
class QComboBox;
class QLabel;
class QSlider;
class QSpinBox;
class QGroupBox;
class QVBoxLayout;

namespace ks::ui {

class StudyRunner;
class TensorImage;

class PrecisionPage : public InvestigationPage {
    Q_OBJECT
public:
    explicit PrecisionPage(QWidget* parent = nullptr);
    ~PrecisionPage() override;

    QList<ChartPanel*> charts() const override;
    void setTaskProgress(TaskProgress* progress) override;
    void waitForIdle() override;

    /// The sweep the controls describe now.
    study::PrecisionSweep sweep() const;
    QSlider* bitSlider() const { return slider_; }
    ChartPanel* errorChart() const { return chart_; }
    QComboBox* familyBox() const { return family_; }
    QComboBox* operationBox() const { return operation_; }
    QComboBox* accumulationBox() const { return accumulation_; }
    /// A block-scaled family's blocks on Winograd's transformed tiles and the FFT's spectra instead of the operands.
    QCheckBox* tileScalesBox() const { return tileScales_; }
    QComboBox* roundingBox() const { return rounding_; }
    QComboBox* distributionBox() const { return distribution_; }
    QSpinBox* sizeBox() const { return size_; }
    QSpinBox* kernelBox() const { return kernel_; }
    QSpinBox* channelsBox() const { return channels_; }
    QComboBox* pictureMethodBox() const { return pictureMethod_; }
    /// The error map's colours: this picture's largest |error|, or a fixed log scale the same for every bit width.
    QComboBox* errorScaleBox() const { return errorScale_; }
    /// "Custom" (the size, kernel and channel boxes) first, then study::precisionLayerPresets().
    QComboBox* layerBox() const { return layer_; }
    QLabel* formatLabel() const { return formatLabel_; }
    /// Under matrix multiply: the product the layer's controls define (its im2col GEMM); hidden under convolution.
    QLabel* productLabel() const { return productLabel_; }
    TensorImage* errorImage() const { return errorImage_; }

private:
    study::Operation currentOperation() const;
    void rebuildMethodList();
    void familyChanged();
    /// The slider's caption and whether the arithmetic box applies, for the family chosen.
    void showFamilyAxis();
    void sliderMoved(int position);
    void requestSweep();
    void requestSnapshot();
    void showSweep(const QString& key, const study::Table& table);
    void showSnapshot(const QString& key, const study::Table& table);
    void saveSettings() const;
    void restoreSettings();

    QComboBox* operation_;
    QGroupBox* methodsBox_;
    QVBoxLayout* methodsLayout_;
    QList<QCheckBox*> methodChecks_;
    QComboBox* family_;
    QLabel* sliderLabel_;
    QSlider* slider_;
    QLabel* formatLabel_;
    QComboBox* accumulation_;
    QCheckBox* tileScales_;
    QComboBox* rounding_;
    QComboBox* distribution_;
    QComboBox* layer_;
    QSpinBox* size_;
    QSpinBox* kernel_;
    QSpinBox* channels_;
    QSpinBox* trials_;
    QComboBox* pictureMethod_;
    QComboBox* errorScale_;
    QLabel* productLabel_;
    QLabel* message_;
    ChartPanel* chart_;
    TensorImage* inputImage_;
    TensorImage* outputImage_;
    TensorImage* errorImage_;
    StudyRunner* sweepRunner_;
    StudyRunner* snapshotRunner_;
    QString shownKey_;
    bool restoring_ = false;
};

}  // namespace ks::ui
