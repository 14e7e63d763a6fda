#pragma once
// The Network page's state apart from its widgets: the network (the embedded MLP or CNN, or the user's
// weight file), the test digits it is measured on (the embedded split, or the user's MNIST IDX files), the
// setting (sweep options, shared and per-layer ranks), and what the background jobs found (the sweep's
// table; the current setting's point and sample digits), cached by setting in two StudyRunners.
//
// The page forwards user input to the setters and shows what the signals announce. Which files are
// opened and whether they fit is core's (study/network_files.hpp); this object keeps the result.
#include <QObject>
#include <QString>
#include <QStringList>
#include <QTimer>

#include <any>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/mnist.hpp"
#include "nn/model.hpp"
#include "study/compress_study.hpp"
#include "study/network_precision.hpp"
#include "study/table.hpp"

namespace ks::ui {

class StudyRunner;
class TaskProgress;

class NetworkModel : public QObject {
    Q_OBJECT
public:
    enum class EmbeddedModel { Mlp, Cnn };
    /// Where emulation cannot run on the fast engine's float32 lanes (convolutions, formats wider than 11 bits,
    /// fixed point, LNS, integers, directed or stochastic rounding: study::liveTestDigits), a stratified subset
    /// of the test digits is classified; everywhere else all of them.
    static constexpr std::size_t kEmulatedDigits = 200;
    /// How many test digits the current setting shows with their predictions.
    static constexpr std::size_t kSampleDigits = 40;

    explicit NetworkModel(QObject* parent = nullptr);
    ~NetworkModel() override;

    /// Weight files and MNIST images files (lower case, no dot), as core lists them.
    static QStringList openableSuffixes();
    /// Opening. On failure: false, *error names the file and the problem, and nothing changes.
    /// On success: modelChanged(), then statusMessage("Opened …"); the sweep and the current setting are requested.
    bool openFile(const QString& path, QString* error);
    bool openWeights(const QString& path, QString* error);
    /// Test digits (an images file with its labels file beside it): they replace the embedded test digits,
    /// under the same network, until an embedded network is opened again.
    bool openDigits(const QString& path, QString* error);
    /// An embedded pretrained network with the embedded digits.
    bool openEmbedded(EmbeddedModel which, QString* error);

    bool hasModel() const { return source_ != nullptr; }
    /// The network as loaded (dense); an empty model before the first one.
    const nn::Model& network() const;
    /// "<name>: <layers>", the name saying which digits when they are the user's; names from files escaped.
    QString description() const;
    /// The network's name ("Embedded pretrained MLP", "rank6.safetensors on my-digits"), for captions.
    QString name() const;

    /// The setting. Without a network the values are kept for the first one and nothing runs.
    void setMode(study::CompressionMode mode);      ///< the sweep again
    void setCompute(const std::string& name);       ///< the sweep and the current setting again
    /// The bit-width slider's arithmetic (replacing setCompute's): the current setting again at once; the
    /// sweep, and the accuracy-vs-bits curve when the family, accumulation or rounding changed.
    void setFormatSetting(const study::FormatSetting& setting);
    /// The slider's setting when it chose the arithmetic (setCompute clears it).
    const std::optional<study::FormatSetting>& formatSetting() const { return formatSetting_; }
    const std::string& computeName() const { return compute_; }
    void setConvAlgorithm(const std::string& name); ///< (used by networks with Conv2d layers)
    void setFineTuneEpochs(int epochs);
    /// Every Linear layer at min(rank, its full rank); kept (clamped to 1 … maxRank()) for the next network.
    void setSharedRank(int rank);
    void setLayerRank(const std::string& layer, std::int64_t rank);
    /// Several layers at once (a kept-energy setting): one new current setting, not one per layer.
    void setRanks(const study::LayerRanks& ranks);
    int sharedRank() const { return sharedRank_; }
    /// The largest full rank of the network's Linear layers (the shared rank's upper end); 1 without layers.
    int maxRank() const;
    const study::LayerRanks& ranks() const { return ranks_; }
    /// The sweep the setting describes (its fixed parts: fine-tuning rate, timing, the emulated subset).
    study::CompressSweep sweep() const;
    double compressionRatio() const;
    double flopRatio() const;

    /// What the jobs found for the current network (empty / nullopt until they have).
    const study::Table& sweepTable() const { return sweepTable_; }
    /// The accuracy at every position of the slider's family (study::formatAccuracySweep), at the current ranks.
    const study::Table& curveTable() const { return curveTable_; }
    const std::optional<study::CompressionPoint>& currentPoint() const { return current_; }
    /// The current setting's sample of test digits and the class predicted for each.
    const io::DigitSet& sampleDigits() const { return sample_; }
    const std::vector<std::uint8_t>& samplePredictions() const { return predicted_; }

    void setTaskProgress(TaskProgress* progress);
    /// Blocks until the background work is done and its results are delivered.
    void waitForIdle();

Q_SIGNALS:
    /// A new network or new digits: layers, description and ranks may all differ; results were cleared.
    void modelChanged();
    /// The ranks changed (shared or one layer's).
    void ranksChanged();
    void sweepChanged();
    void curveChanged();
    void currentChanged();
    /// A background job failed: its message.
    void failed(const QString& message);
    /// For the status bar ("Opened …").
    void statusMessage(const QString& message);

private:
    struct Source;
    std::shared_ptr<Source> sourceFor(nn::Model dense, QString modelName, QString key) const;
    void setSource(std::shared_ptr<Source> source);
    void resetRanks();
    void requestSweep();
    void requestCurrent();
    void requestCurve();
    void takeCurrent(const std::any& result);

    std::shared_ptr<Source> source_;
    std::shared_ptr<const io::DigitSplit> digits_;  ///< the user's digits; null: the embedded split
    QString digitsName_;
    int generation_ = 0;

    study::CompressionMode mode_ = study::CompressionMode::SharedRank;
    std::string compute_ = "native";
    std::string convAlgorithm_ = nn::InferenceOptions{}.convAlgorithm;
    int fineTuneEpochs_ = 0;
    int sharedRank_ = 16;
    study::LayerRanks ranks_;

    std::optional<study::FormatSetting> formatSetting_;
    study::Table sweepTable_;
    study::Table curveTable_;
    std::optional<study::CompressionPoint> current_;
    io::DigitSet sample_;
    std::vector<std::uint8_t> predicted_;

    StudyRunner* sweepRunner_;
    StudyRunner* currentRunner_;
    StudyRunner* curveRunner_;
    /// The sweep after a slider step waits until the slider rests, so that it does not take the cores
    /// from the steps themselves.
    QTimer* sweepDelay_;
};

}  // namespace ks::ui
