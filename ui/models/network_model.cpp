#include "models/network_model.hpp"

#include <QFile>
#include <QFileInfo>

#include <algorithm>
#include <functional>
#include <mutex>

#include "io/printable.hpp"
#include "nn/model_io.hpp"
#include "qt_text.hpp"
#include "study/network_files.hpp"
#include "study_runner.hpp"

namespace ks::ui {

namespace {

/// What the current-setting job hands back to the GUI thread.
struct CurrentResult {
    study::CompressionPoint point;
    io::DigitSet sample;
    std::vector<std::uint8_t> predicted;
};

std::filesystem::path localPath(const QString& path) { return QFile::encodeName(path).toStdString(); }

}  // namespace

/// The network shown: loaded on the GUI thread (cheap), its SVDs and digits made once on first use by a
/// background job (the expensive part) and shared by later jobs.
struct NetworkModel::Source {
    QString modelName;  ///< the network's own name ("rank6.safetensors", "Embedded pretrained MLP")
    QString name;       ///< with the user's digits: "<modelName> on <digits>"
    QString key;        ///< the cache key of everything computed for it
    nn::Model dense;
    std::function<std::shared_ptr<const study::CompressionStudy>()> make;

    std::shared_ptr<const study::CompressionStudy> study() {
        std::lock_guard lock(mutex);
        if (!made) made = make();
        return made;
    }

private:
    std::mutex mutex;
    std::shared_ptr<const study::CompressionStudy> made;
};

NetworkModel::NetworkModel(QObject* parent)
    : QObject(parent), sweepRunner_(new StudyRunner(this)), currentRunner_(new StudyRunner(this)),
      curveRunner_(new StudyRunner(this)), sweepDelay_(new QTimer(this)) {
    sweepDelay_->setSingleShot(true);
    sweepDelay_->setInterval(400);
    connect(sweepDelay_, &QTimer::timeout, this, &NetworkModel::requestSweep);
    connect(sweepRunner_, &StudyRunner::finished, this, [this](const QString& key, const std::any& result) {
        if (!source_ || !key.startsWith(source_->key + QLatin1Char('|'))) return;
        sweepTable_ = std::any_cast<const study::Table&>(result);
        Q_EMIT sweepChanged();
    });
    connect(currentRunner_, &StudyRunner::finished, this, [this](const QString& key, const std::any& result) {
        if (source_ && key.startsWith(source_->key + QLatin1Char('|'))) takeCurrent(result);
    });
    connect(curveRunner_, &StudyRunner::finished, this, [this](const QString& key, const std::any& result) {
        if (!source_ || !key.startsWith(source_->key + QLatin1Char('|'))) return;
        curveTable_ = std::any_cast<const study::Table&>(result);
        Q_EMIT curveChanged();
    });
    for (StudyRunner* runner : {sweepRunner_, currentRunner_, curveRunner_})
        connect(runner, &StudyRunner::failed, this, [this](const QString&, const QString& text) { Q_EMIT failed(text); });
}

NetworkModel::~NetworkModel() {
    // Stop the background work before any member goes away. The runners' destructors wait for their
    // threads without dispatching events, so no result is delivered into this half-destroyed object.
    for (StudyRunner* runner : {sweepRunner_, currentRunner_, curveRunner_}) {
        disconnect(runner, nullptr, this, nullptr);
        runner->cancel();
        delete runner;
    }
}

QStringList NetworkModel::openableSuffixes() {
    QStringList suffixes;
    for (const std::string& s : study::networkFileSuffixes()) suffixes << q(s);
    return suffixes;
}

const nn::Model& NetworkModel::network() const {
    static const nn::Model none;
    return source_ ? source_->dense : none;
}

QString NetworkModel::description() const {
    return source_ ? source_->name + QStringLiteral(": ") + q(io::printable(source_->dense.describe())) : QString();
}

QString NetworkModel::name() const { return source_ ? source_->name : QString(); }

bool NetworkModel::openFile(const QString& path, QString* error) {
    return study::networkFileKind(localPath(path)) == study::NetworkFileKind::MnistImages ? openDigits(path, error)
                                                                                          : openWeights(path, error);
}

bool NetworkModel::openWeights(const QString& path, QString* error) {
    nn::Model dense;
    try {
        dense = study::loadDigitClassifier(localPath(path));
    } catch (const std::exception& e) {
        if (error) *error = q(e.what());
        return false;
    }
    const QFileInfo file(path);
    setSource(sourceFor(std::move(dense), file.fileName(), QStringLiteral("file:%1#%2").arg(file.absoluteFilePath()).arg(++generation_)));
    Q_EMIT statusMessage(tr("Opened %1").arg(file.fileName()));
    return true;
}

bool NetworkModel::openDigits(const QString& path, QString* error) {
    auto split = std::make_shared<io::DigitSplit>();
    nn::Model dense;
    try {
        split->test = study::readMnistTestDigits(localPath(path));
        dense = source_ ? source_->dense : nn::loadModel("embedded");
    } catch (const std::exception& e) {
        if (error) *error = q(e.what());
        return false;
    }
    const QFileInfo images(path);
    const QString modelName = source_ ? source_->modelName : tr("Embedded pretrained MLP");
    digits_ = std::move(split);
    digitsName_ = tr("%1 digits of %2").arg(digits_->test.count()).arg(images.fileName());
    setSource(sourceFor(std::move(dense), modelName, QStringLiteral("digits:%1#%2").arg(images.absoluteFilePath()).arg(++generation_)));
    Q_EMIT statusMessage(tr("Opened %1").arg(digitsName_));
    return true;
}

bool NetworkModel::openEmbedded(EmbeddedModel which, QString* error) {
    const bool cnn = which == EmbeddedModel::Cnn;
    nn::Model dense;
    try {
        dense = nn::loadModel(cnn ? "embedded-cnn" : "embedded");
    } catch (const std::exception& e) {
        if (error) *error = tr("No embedded model: %1").arg(q(e.what()));
        return false;
    }
    digits_.reset();  // "Embedded" means the embedded network and the embedded digits
    digitsName_.clear();
    if (cnn) {
        setSource(sourceFor(std::move(dense), tr("Embedded pretrained CNN"), QStringLiteral("embedded-cnn")));
        return true;
    }
    auto source = std::make_shared<Source>();
    source->dense = std::move(dense);
    source->modelName = source->name = tr("Embedded pretrained MLP");
    source->key = QStringLiteral("embedded");
    source->make = [] { return study::CompressionStudy::embedded(); };  // shared with the rest of the program
    setSource(std::move(source));
    return true;
}

std::shared_ptr<NetworkModel::Source> NetworkModel::sourceFor(nn::Model dense, QString modelName, QString key) const {
    auto source = std::make_shared<Source>();
    source->dense = std::move(dense);
    source->name = digits_ ? tr("%1 on %2").arg(modelName, digitsName_) : modelName;
    source->modelName = std::move(modelName);
    source->key = std::move(key);
    const nn::Model model = source->dense;
    const std::string studyKey = source->key.toStdString();
    source->make = [model, studyKey, digits = digits_] {
        io::DigitSplit split = digits ? *digits : io::embeddedSplit();
        return std::make_shared<const study::CompressionStudy>(model, std::move(split.test), std::move(split.train), studyKey);
    };
    return source;
}

void NetworkModel::setSource(std::shared_ptr<Source> source) {
    source_ = std::move(source);
    current_.reset();
    sweepTable_ = {};
    curveTable_ = {};
    resetRanks();
    Q_EMIT modelChanged();
    Q_EMIT curveChanged();  // the old network's curve goes at once
    requestSweep();
    requestCurrent();
    requestCurve();
}

int NetworkModel::maxRank() const {
    std::int64_t rank = 1;
    for (const auto& l : network().layers())
        if (l.kind == nn::LayerKind::Linear) rank = std::max(rank, l.rank());
    return int(rank);
}

void NetworkModel::resetRanks() {
    if (source_) sharedRank_ = std::clamp(sharedRank_, 1, maxRank());
    ranks_.clear();
    for (const auto& l : network().layers())
        if (l.kind == nn::LayerKind::Linear)  // already factored layers keep their rank
            ranks_[l.name] = std::min<std::int64_t>(sharedRank_, l.rank());
}

void NetworkModel::setMode(study::CompressionMode mode) {
    mode_ = mode;
    requestSweep();
}

void NetworkModel::setCompute(const std::string& name) {
    compute_ = name;
    formatSetting_.reset();
    curveTable_ = {};
    Q_EMIT curveChanged();
    requestSweep();
    requestCurrent();
}

void NetworkModel::setFormatSetting(const study::FormatSetting& setting) {
    const bool sameCurve = formatSetting_ && formatSetting_->family == setting.family &&
                           formatSetting_->accumulation == setting.accumulation && formatSetting_->rounding == setting.rounding;
    formatSetting_ = setting;
    compute_ = numeric::computeSpecName(setting.spec());
    requestCurrent();  // first: the slider step is what the user waits for
    sweepDelay_->start();
    if (!sameCurve) {
        curveTable_ = {};
        Q_EMIT curveChanged();
        requestCurve();
    }
}

void NetworkModel::setConvAlgorithm(const std::string& name) {
    convAlgorithm_ = name;
    requestSweep();
    requestCurrent();
    requestCurve();
}

void NetworkModel::setFineTuneEpochs(int epochs) {
    fineTuneEpochs_ = epochs;
    requestSweep();
    requestCurrent();
    requestCurve();
}

void NetworkModel::setSharedRank(int rank) {
    sharedRank_ = std::max(1, rank);
    if (!source_) return;
    resetRanks();
    Q_EMIT ranksChanged();
    requestCurrent();
    requestCurve();
}

void NetworkModel::setLayerRank(const std::string& layer, std::int64_t rank) {
    if (!source_ || !ranks_.contains(layer)) return;
    ranks_[layer] = rank;
    Q_EMIT ranksChanged();
    requestCurrent();
    requestCurve();
}

void NetworkModel::setRanks(const study::LayerRanks& ranks) {
    if (!source_) return;
    bool changed = false;
    for (const auto& [layer, rank] : ranks)
        if (auto it = ranks_.find(layer); it != ranks_.end() && it->second != rank) it->second = rank, changed = true;
    if (!changed) return;
    Q_EMIT ranksChanged();
    requestCurrent();
    requestCurve();
}

study::CompressSweep NetworkModel::sweep() const {
    study::CompressSweep s;
    s.mode = mode_;
    s.compute = numeric::parseComputeSpec(compute_);
    s.fineTuneEpochs = fineTuneEpochs_;
    if (network().hasConvolutions()) s.convAlgorithm = convAlgorithm_;
    s.fineTuneLearningRate = 0.1;  // from pretrained factors; 1.0 (training from scratch) undoes them at rank >= 16
    s.maxTestDigits = study::liveTestDigits(network(), s.compute, s.convAlgorithm, kEmulatedDigits);
    s.timing = {1, 3, 20, 0.05};
    return s;
}

double NetworkModel::compressionRatio() const { return study::compressionRatioOf(network(), ranks_); }
double NetworkModel::flopRatio() const { return study::flopRatioOf(network(), ranks_); }

void NetworkModel::requestSweep() {
    if (!source_) return;
    const study::CompressSweep s = sweep();
    const QString key = source_->key + QLatin1Char('|') + q(s.key());
    sweepRunner_->request(key, tr("Compression sweep"), [source = source_, s](const Progress& progress) -> std::any {
        return source->study()->run(s, progress);
    });
}

void NetworkModel::requestCurrent() {
    if (!source_) return;
    study::CompressSweep s = sweep();
    s.timing = {1, 3, 20, 0.03};  // a slider step should redraw within ~100 ms
    const study::LayerRanks ranks = ranks_;
    std::string rankText;
    for (const auto& [name, r] : ranks) rankText += name + "=" + std::to_string(r) + ",";
    const QString key = source_->key + QLatin1Char('|') + q(rankText + "|" + s.key());
    currentRunner_->request(key, tr("Current setting"), [source = source_, s, ranks, rankText](const Progress& progress) -> std::any {
        const auto study = source->study();
        CurrentResult result;
        // The sample shows the same (possibly fine-tuned) model whose accuracy is reported.
        const nn::Model model = study->prepare(ranks, s, progress);
        result.point = study->measure(rankText, model, s);
        const std::vector<std::size_t> indices = study->sampleIndices(kSampleDigits);
        result.predicted = study->predictions(model, indices, s);
        result.sample = study->testDigits().subset(indices);
        return result;
    });
}

void NetworkModel::requestCurve() {
    if (!source_ || !formatSetting_) return;
    study::CompressSweep s = sweep();
    s.maxTestDigits = kEmulatedDigits;  // the subset where a position cannot run on float32 lanes
    const study::LayerRanks ranks = ranks_;
    std::string rankText;
    for (const auto& [name, r] : ranks) rankText += name + "=" + std::to_string(r) + ",";
    const study::FormatSetting setting = *formatSetting_;
    const QString key = source_->key + QLatin1Char('|') +
                        q(rankText + "|" + setting.family + "|" + std::to_string(int(setting.accumulation)) + "|" +
                          numeric::roundingName(setting.rounding) + "|" + s.key());
    curveRunner_->request(key, tr("Accuracy vs bits"), [source = source_, s, ranks, setting](const Progress& progress) -> std::any {
        const auto study = source->study();
        const nn::Model model = study->prepare(ranks, s, progress);
        return study::formatAccuracySweep(*study, model, setting, s, progress);
    });
}

void NetworkModel::takeCurrent(const std::any& result) {
    const auto& r = std::any_cast<const CurrentResult&>(result);
    current_ = r.point;
    sample_ = r.sample;
    predicted_ = r.predicted;
    Q_EMIT currentChanged();
}

void NetworkModel::setTaskProgress(TaskProgress* progress) { sweepRunner_->setProgressWidget(progress); }

void NetworkModel::waitForIdle() {
    if (sweepDelay_->isActive()) {
        sweepDelay_->stop();
        requestSweep();
    }
    sweepRunner_->waitForFinished();
    currentRunner_->waitForFinished();
    curveRunner_->waitForFinished();
}

}  // namespace ks::ui
