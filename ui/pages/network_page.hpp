#pragma once
// Network: the digit classifier compressed by low-rank factorisation of its layers. The model (the
// embedded pretrained MLP or CNN, or the user's weight file), a shared-rank slider and per-layer ranks, the
// inference arithmetic (a preset, or a bit-width slider over a format family with accumulation and
// rounding choices); charts of compression ratio vs accuracy and vs runtime, runtime vs accuracy with
// the Pareto front and the current setting, accuracy vs bits for the slider's family; a grid of test
// digits with predictions.
//
// The sweep (every rank of the study) runs once per model / arithmetic / fine-tuning in the
// background; a slider step only evaluates the current setting (truncation + one timed inference
// of the 2,000 test digits: tens of milliseconds) and moves the markers.
//
// A view: the state (network, digits, setting, results and their caches) is a NetworkModel
// (models/network_model.hpp), which files are opened and whether they fit is core's
// (study/network_files.hpp). The page forwards its controls to the model and shows what it announces.
#include <optional>

#include "models/network_model.hpp"
#include "pages/investigation_page.hpp"

class QComboBox;
class QGridLayout;
class QLabel;
class QSlider;
class QSpinBox;
class QFormLayout;
class QPushButton;

namespace ks::ui {

/// The caption of a layer's rank control: "fc1 (784→512)", or for an nn.Sequential's index "layer 1 (784→512)".
QString layerCaption(const QString& name, std::int64_t in, std::int64_t out);

class FindingsView;

class DigitGrid;

class NetworkPage : public InvestigationPage {
    Q_OBJECT
public:
    using EmbeddedModel = NetworkModel::EmbeddedModel;

    explicit NetworkPage(QWidget* parent = nullptr);
    ~NetworkPage() override;

    QList<ChartPanel*> charts() const override;
    void setTaskProgress(TaskProgress* progress) override;
    void waitForIdle() override;

    /// Load a weight file (.pt/.pth/.safetensors/.npz). On failure: false, *error names the file and
    /// the problem, and the page keeps its previous model.
    bool openWeights(const QString& path, QString* error);
    /// Test digits from MNIST IDX files: an images file (…images-idx3-ubyte[.gz]) with its labels
    /// file beside it (…labels-idx1-ubyte[.gz]). They replace the embedded 2,000 test digits until
    /// "Embedded" is chosen again. On failure: false, *error names the problem, nothing changes.
    bool openDigits(const QString& path, QString* error);
    /// Weight files and IDX digit files: File ▸ Open… and drag-and-drop onto the window land here (ONNX models go to the
    /// Layers page; this page's own Open button takes the sequential ones).
    QStringList openableSuffixes() const override;
    bool openFile(const QString& path, QString* error) override;
    /// Back to an embedded pretrained network (and the embedded digits).
    void openEmbedded(EmbeddedModel which = EmbeddedModel::Mlp);

    /// The sweep the controls describe now, and the current setting's ranks.
    study::CompressSweep sweep() const;
    study::LayerRanks currentRanks() const;
    /// The last evaluated current setting (after waitForIdle()).
    std::optional<study::CompressionPoint> currentPoint() const;
    QString modelDescription() const;

    NetworkModel* model() const { return model_; }
    QSlider* rankSlider() const { return slider_; }
    /// The slider's name in the form: "Rank" (one rank for all layers) or "Kept energy" (per layer).
    QString sliderName() const;
    QComboBox* sweepModeBox() const { return sweepMode_; }
    QComboBox* computeBox() const { return compute_; }
    /// The bit-width slider and its choices (enabled when computeBox() is on "Format family").
    QComboBox* familyBox() const { return family_; }
    QSlider* bitsSlider() const { return bits_; }
    QComboBox* accumulationBox() const { return accumulation_; }
    QComboBox* roundingBox() const { return rounding_; }
    ChartPanel* accuracyBitsChart() const { return accuracyBits_; }
    /// The algorithm of the network's convolutions (enabled when it has Conv2d layers).
    QComboBox* convAlgorithmBox() const { return convAlgorithm_; }
    QLabel* accuracyLabel() const { return accuracy_; }
    QLabel* messageLabel() const { return message_; }
    ChartPanel* ratioAccuracyChart() const { return ratioAccuracy_; }
    const FindingsView* findingsView() const { return findings_; }
    ChartPanel* ratioRuntimeChart() const { return ratioRuntime_; }
    ChartPanel* runtimeAccuracyChart() const { return runtimeAccuracy_; }
    DigitGrid* digitGrid() const { return grid_; }

private:
    /// An open's outcome: a failure is shown on the page and in the status bar, and handed back.
    bool opened(bool ok, const QString& text, QString* error);
    void showProblem(const QString& text);
    void showModel();
    void rebuildLayerControls();
    void showRanks();
    /// Under the kept-energy sweep the slider walks its energies, each setting the ranks of the sweep's row.
    bool energyMode() const;
    /// The slider's name, range and value for the sweep mode; `apply`: hand its setting to the model now.
    void configureSlider(bool apply);
    void sliderMoved(int value);
    void applyEnergy();
    void showSweep();
    /// The network and the sweep's parameters in words: the charts' caption and their CSVs' head.
    std::string sweepCaption() const;
    void showCurrent();
    void updateMarkers();
    void familyChanged();
    /// The arithmetic the controls describe, handed to the model.
    void applyArithmetic();
    void showCurve();
    bool slidingFormats() const;
    void saveSettings() const;
    void restoreSettings();

    NetworkModel* model_;
    QLabel* modelLabel_;
    QPushButton* openButton_;
    QPushButton* embeddedButton_;
    QPushButton* embeddedCnnButton_;
    QSlider* slider_;
    QLabel* sliderName_;
    QLabel* rankLabel_;
    QFormLayout* layerForm_;
    QList<QSpinBox*> layerRanks_;
    QComboBox* sweepMode_;
    QComboBox* compute_;
    QComboBox* family_;
    QSlider* bits_;
    QLabel* formatLabel_;
    QComboBox* accumulation_;
    QComboBox* rounding_;
    QWidget* formatControls_;
    QComboBox* convAlgorithm_;
    QSpinBox* fineTune_;
    QLabel* accuracy_;
    QLabel* message_;
    /// "What this shows" for the sweep, in the control column: the charts need the page's height at 1280×720.
    FindingsView* findings_;
    ChartPanel* ratioAccuracy_;
    ChartPanel* ratioRuntime_;
    ChartPanel* runtimeAccuracy_;
    ChartPanel* accuracyBits_;
    QGridLayout* chartGrid_ = nullptr;
    DigitGrid* grid_;
};

}  // namespace ks::ui
