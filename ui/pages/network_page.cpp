#include "pages/network_page.hpp"

#include <QComboBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QDir>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QMimeData>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QSlider>
#include <QSpinBox>
#include <QVBoxLayout>

#include <functional>
#include <mutex>

#include "charts/chart_panel.hpp"
#include "conv/conv_registry.hpp"
#include "io/mnist.hpp"
#include "io/printable.hpp"
#include "nn/model_io.hpp"
#include "study_runner.hpp"
#include "widgets/control_panel.hpp"
#include "widgets/digit_grid.hpp"

namespace ks::ui {

namespace {

QString q(const std::string& s) { return QString::fromStdString(s); }

const char* kSettingsGroup = "network";
constexpr int kGridDigits = 40;
/// Emulated arithmetic is ~1000× slower than float32: the page classifies a stratified subset there.
constexpr std::size_t kEmulatedDigits = 200;

const QStringList kWeightSuffixes = {QStringLiteral("pt"), QStringLiteral("pth"), QStringLiteral("safetensors"),
                                     QStringLiteral("npz")};

QString computeTip(const std::string& name) {
    if (name == "native") return QObject::tr("Plain float32 on this CPU (our packed AVX2 GEMM): the only choice whose time is real.");
    if (name == "bf16") return QObject::tr("Every stage in bfloat16 (8 exponent bits, 7 mantissa bits), emulated bit-exactly.");
    if (name == "fp16") return QObject::tr("Every stage in IEEE half precision (5 exponent bits, 10 mantissa bits), emulated.");
    if (name == "fp16/fp32") return QObject::tr("fp16 weights, activations and products, sums kept in fp32, like tensor cores.");
    if (name == "e4m3/fp32") return QObject::tr("8-bit float (4 exponent, 3 mantissa bits) operands, fp32 accumulation, like FP8 inference.");
    return {};
}

/// What the current-setting job hands back to the GUI thread.
struct CurrentResult {
    study::CompressionPoint point;
    QList<DigitGrid::Digit> digits;
};

}  // namespace

/// The model the page shows: loaded on the GUI thread (cheap), its SVDs and digits made once on
/// first use by a background job (the expensive part) and shared by later jobs.
struct NetworkPage::ModelSource {
    QString name;
    QString key;
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

NetworkPage::NetworkPage(QWidget* parent)
    : InvestigationPage(tr("Network"),
                        tr("Accuracy and runtime of the digit-recognition network as its layers are compressed."), parent),
      modelLabel_(new QLabel), openButton_(new QPushButton(tr("Open weights or digits…"))),
      embeddedButton_(new QPushButton(tr("Embedded MLP"))), embeddedCnnButton_(new QPushButton(tr("Embedded CNN"))),
      slider_(new QSlider(Qt::Horizontal)), rankLabel_(new QLabel),
      layerForm_(new QFormLayout), sweepMode_(new QComboBox), compute_(new QComboBox), convAlgorithm_(new QComboBox), fineTune_(new QSpinBox),
      accuracy_(new QLabel), message_(new QLabel), ratioAccuracy_(new ChartPanel), ratioRuntime_(new ChartPanel),
      runtimeAccuracy_(new ChartPanel), grid_(new DigitGrid), sweepRunner_(new StudyRunner(this)),
      currentRunner_(new StudyRunner(this)) {
    setAcceptDrops(true);
    modelLabel_->setWordWrap(true);
    modelLabel_->setTextFormat(Qt::PlainText);  // shows names from files: never read as HTML
    modelLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    openButton_->setToolTip(tr("Load your own weights: a PyTorch state_dict (.pt/.pth, read without executing any "
                               "pickle code), .safetensors or NumPy .npz with fc1.weight, fc1.bias, … — or drop the "
                               "file onto this page."));
    embeddedButton_->setToolTip(tr("The pretrained MLP shipped with KernelScope (784 → 512 → 128 → 10)."));
    embeddedCnnButton_->setToolTip(tr("The pretrained digit CNN shipped with KernelScope: two 3×3 convolutions "
                                      "(8 and 16 channels, each with ReLU and 2×2 max-pooling), then 784 → 64 → 10. "
                                      "Its convolutions run through the chosen convolution algorithm."));

    slider_->setTickPosition(QSlider::NoTicks);
    slider_->setSingleStep(1);
    slider_->setPageStep(8);
    slider_->setToolTip(tr("One rank r for every layer. Each weight W (out×in) is replaced by its best rank-r "
                           "approximation from the SVD, stored as two factors: r·(in + out) numbers instead of "
                           "in·out, and two smaller matrix products. A layer whose full rank is below r stays "
                           "exact (fc3 has rank 10). Arrow keys move one rank."));
    rankLabel_->setWordWrap(true);

    sweepMode_->addItem(tr("One rank for all layers"), int(study::CompressionMode::SharedRank));
    sweepMode_->addItem(tr("Kept energy per layer"), int(study::CompressionMode::Energy));
    sweepMode_->setToolTip(tr("What the charts sweep: a shared rank (2 … 512), or for each layer the smallest rank "
                              "that keeps a share of the squared singular values (50 % … 99 %)."));
    for (const auto& name : study::networkComputeChoices()) {
        compute_->addItem(q(name), q(name));
        compute_->setItemData(compute_->count() - 1, computeTip(name), Qt::ToolTipRole);
    }
    compute_->setToolTip(tr("The arithmetic of inference: weights, activations, products and sums rounded to a "
                            "format as hardware in that format would. Emulated formats are slow, so the page then "
                            "classifies %1 of the test digits and their times compare settings only.")
                             .arg(kEmulatedDigits));
    for (const conv::ConvAlgorithm* algorithm : conv::convAlgorithms()) {
        convAlgorithm_->addItem(q(algorithm->name()), q(algorithm->name()));
        convAlgorithm_->setItemData(convAlgorithm_->count() - 1, q(algorithm->description()), Qt::ToolTipRole);
    }
    convAlgorithm_->setCurrentIndex(std::max(0, convAlgorithm_->findData(q(nn::InferenceOptions{}.convAlgorithm))));
    convAlgorithm_->setToolTip(tr("How the network's convolution layers are computed (networks with Conv2d layers "
                                  "only): every algorithm of the Runtime page, in the chosen arithmetic."));
    fineTune_->setRange(0, 5);
    fineTune_->setSuffix(tr(" epochs"));
    fineTune_->setToolTip(tr("After truncation, train the factors further on the 8,000 training digits (the seed's "
                             "Adadelta recipe, started at learning rate 0.1 instead of 1.0). Recovers much of the accuracy lost at low ranks, but takes about a "
                             "second per epoch and setting."));
    accuracy_->setWordWrap(true);
    accuracy_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    message_->setWordWrap(true);
    message_->setTextFormat(Qt::PlainText);  // messages quote file names and names from files: never HTML
    message_->setStyleSheet(QStringLiteral("color: #b00020"));

    auto* modelBox = new QGroupBox(tr("Model"));
    auto* modelLayout = new QVBoxLayout(modelBox);
    modelLayout->addWidget(modelLabel_);
    // Two rows: the three buttons side by side are wider than the control column, which then
    // clipped its right edge (the rank summary, this row) at the default window size.
    modelLayout->addWidget(openButton_);
    auto* embedded = new QHBoxLayout;
    embedded->addWidget(embeddedButton_);
    embedded->addWidget(embeddedCnnButton_);
    modelLayout->addLayout(embedded);

    auto* form = new QFormLayout;
    form->addRow(modelBox);
    form->addRow(tr("Rank"), slider_);
    form->addRow(rankLabel_);
    auto* layers = new QGroupBox(tr("Rank per layer"));
    layers->setLayout(layerForm_);
    form->addRow(layers);
    form->addRow(tr("Sweep"), sweepMode_);
    form->addRow(tr("Arithmetic"), compute_);
    form->addRow(tr("Convolutions"), convAlgorithm_);
    form->addRow(tr("Fine-tune"), fineTune_);
    form->addRow(accuracy_);
    form->addRow(message_);
    QScrollArea* scroll = makeControlPanel(form);

    auto* right = new QWidget;
    auto* grid = new QGridLayout(right);
    grid->addWidget(ratioAccuracy_, 0, 0);
    grid->addWidget(ratioRuntime_, 0, 1);
    grid->addWidget(runtimeAccuracy_, 1, 0);
    grid->addWidget(grid_, 1, 1);
    grid->setColumnStretch(0, 1);
    grid->setColumnStretch(1, 1);
    grid->setRowStretch(0, 1);
    grid->setRowStretch(1, 1);
    auto* layout = new QHBoxLayout(this);
    layout->addWidget(scroll);
    layout->addWidget(right, 1);

    connect(openButton_, &QPushButton::clicked, this, [this] {
        QSettings settings;
        const QString path = QFileDialog::getOpenFileName(
            this, tr("Open weights or digits"), settings.value(QStringLiteral("paths/weights")).toString(),
            tr("Weight files (*.pt *.pth *.safetensors *.npz);;MNIST test digits (*idx3-ubyte *idx3-ubyte.gz);;All files (*)"));
        if (path.isEmpty()) return;
        settings.setValue(QStringLiteral("paths/weights"), QFileInfo(path).absolutePath());
        QString error;
        openFile(path, &error);
    });
    connect(embeddedButton_, &QPushButton::clicked, this, [this] { openEmbedded(EmbeddedModel::Mlp); });
    connect(embeddedCnnButton_, &QPushButton::clicked, this, [this] { openEmbedded(EmbeddedModel::Cnn); });
    connect(slider_, &QSlider::valueChanged, this, &NetworkPage::sliderMoved);
    connect(sweepMode_, &QComboBox::currentIndexChanged, this, &NetworkPage::requestSweep);
    connect(compute_, &QComboBox::currentIndexChanged, this, [this] {
        requestSweep();
        requestCurrent();
    });
    connect(convAlgorithm_, &QComboBox::currentIndexChanged, this, [this] {
        requestSweep();
        requestCurrent();
    });
    connect(fineTune_, &QSpinBox::valueChanged, this, [this] {
        requestSweep();
        requestCurrent();
    });
    connect(sweepRunner_, &StudyRunner::finished, this, [this](const QString& key, const std::any& result) {
        if (source_ && key.startsWith(source_->key + QLatin1Char('|'))) showSweep(std::any_cast<const study::Table&>(result));
    });
    connect(currentRunner_, &StudyRunner::finished, this, [this](const QString& key, const std::any& result) {
        if (source_ && key.startsWith(source_->key + QLatin1Char('|'))) showCurrent(result);
    });
    for (StudyRunner* runner : {sweepRunner_, currentRunner_})
        connect(runner, &StudyRunner::failed, this, [this](const QString&, const QString& text) {
            message_->setText(text);
            Q_EMIT statusMessage(text);
        });

    restoreSettings();
    openEmbedded();
}

NetworkPage::~NetworkPage() {
    saveSettings();
    // Stop the background work before any member goes away. The runners' destructors wait for their
    // threads without dispatching events, so no result is delivered into this half-destroyed page.
    for (StudyRunner* runner : {sweepRunner_, currentRunner_}) {
        disconnect(runner, nullptr, this, nullptr);
        runner->cancel();
        delete runner;
    }
}

QStringList NetworkPage::openableSuffixes() const {
    return {QStringLiteral("pt"),  QStringLiteral("pth"),         QStringLiteral("safetensors"),
            QStringLiteral("npz"), QStringLiteral("idx3-ubyte"), QStringLiteral("idx3-ubyte.gz")};
}

QList<ChartPanel*> NetworkPage::charts() const { return {ratioAccuracy_, ratioRuntime_, runtimeAccuracy_}; }

void NetworkPage::setTaskProgress(TaskProgress* progress) { sweepRunner_->setProgressWidget(progress); }

void NetworkPage::waitForIdle() {
    sweepRunner_->waitForFinished();
    currentRunner_->waitForFinished();
}

QString NetworkPage::modelDescription() const {
    return source_ ? source_->name + QStringLiteral(": ") + q(io::printable(source_->dense.describe())) : QString();
}

void NetworkPage::openEmbedded(EmbeddedModel which) {
    const bool cnn = which == EmbeddedModel::Cnn;
    nn::Model dense;
    try {
        dense = nn::loadModel(cnn ? "embedded-cnn" : "embedded");
    } catch (const std::exception& e) {
        message_->setText(tr("No embedded model: %1").arg(QString::fromUtf8(e.what())));
        return;
    }
    digits_.reset();  // "Embedded" means the embedded model and the embedded digits
    digitsName_.clear();
    if (cnn) return setModel(sourceFor(std::move(dense), tr("Embedded pretrained CNN"), QStringLiteral("embedded-cnn")));
    auto source = std::make_shared<ModelSource>();
    source->dense = std::move(dense);
    source->name = tr("Embedded pretrained MLP");
    source->key = QStringLiteral("embedded");
    source->make = [] { return study::CompressionStudy::embedded(); };
    setModel(std::move(source));
}

std::shared_ptr<NetworkPage::ModelSource> NetworkPage::sourceFor(nn::Model dense, QString name, QString key) const {
    auto source = std::make_shared<ModelSource>();
    source->dense = std::move(dense);
    source->name = digits_ ? tr("%1 on %2").arg(name, digitsName_) : name;
    source->key = key;
    const nn::Model model = source->dense;
    const std::string studyKey = key.toStdString();
    source->make = [model, studyKey, digits = digits_] {
        io::DigitSplit split = digits ? *digits : io::embeddedSplit();
        return std::make_shared<const study::CompressionStudy>(model, std::move(split.test), std::move(split.train), studyKey);
    };
    return source;
}

bool NetworkPage::openFile(const QString& path, QString* error) {
    return QFileInfo(path).fileName().contains(QLatin1String("idx3-ubyte")) ? openDigits(path, error)
                                                                            : openWeights(path, error);
}

bool NetworkPage::openDigits(const QString& path, QString* error) {
    const QFileInfo images(path);
    auto fail = [&](const QString& why) {
        const QString text = images.fileName() + QStringLiteral(": ") + why;
        message_->setText(text);
        Q_EMIT statusMessage(text);
        if (error) *error = text;
        return false;
    };
    QString labelsName = images.fileName();
    labelsName.replace(QLatin1String("images-idx3-ubyte"), QLatin1String("labels-idx1-ubyte"));
    labelsName.replace(QLatin1String("images.idx3-ubyte"), QLatin1String("labels.idx1-ubyte"));
    if (labelsName == images.fileName())
        return fail(tr("not an MNIST images file (expected a name like t10k-images-idx3-ubyte)"));
    const QString labels = images.dir().filePath(labelsName);
    if (!QFileInfo::exists(labels)) return fail(tr("its labels file %1 is not beside it").arg(labelsName));
    auto split = std::make_shared<io::DigitSplit>();
    try {
        split->test = io::readIdx(path.toStdString(), labels.toStdString());
    } catch (const std::exception& e) {
        return fail(QString::fromUtf8(e.what()));
    }
    if (split->test.rows != 28 || split->test.cols != 28)
        return fail(tr("the digits are %1×%2 pixels; the network reads 28×28").arg(split->test.rows).arg(split->test.cols));
    if (split->test.count() == 0) return fail(tr("it holds no digits"));
    digits_ = std::move(split);
    digitsName_ = tr("%1 digits of %2").arg(digits_->test.count()).arg(images.fileName());
    const QString modelName = source_ ? source_->name.section(tr(" on "), 0, 0) : tr("Embedded pretrained MLP");
    setModel(sourceFor(source_ ? source_->dense : nn::loadModel("embedded"), modelName,
                       QStringLiteral("digits:%1#%2").arg(images.absoluteFilePath()).arg(++generation_)));
    Q_EMIT statusMessage(tr("Opened %1").arg(digitsName_));
    return true;
}

bool NetworkPage::openWeights(const QString& path, QString* error) {
    const QString file = QFileInfo(path).fileName();
    auto fail = [&](const QString& why) {
        const QString text = why.contains(file) ? why : file + QStringLiteral(": ") + why;
        message_->setText(text);
        Q_EMIT statusMessage(text);
        if (error) *error = text;
        return false;
    };
    auto source = std::make_shared<ModelSource>();
    try {
        source->dense = nn::loadModel(path.toStdString());
    } catch (const std::exception& e) {
        return fail(QString::fromUtf8(e.what()));
    }
    const std::int64_t pixels = 28 * 28;
    if (source->dense.inputFeatures() != pixels || source->dense.outputFeatures() != 10)
        return fail(tr("the network maps %1 inputs to %2 outputs; digits need %3 inputs (28×28 pixels) and 10 classes")
                        .arg(source->dense.inputFeatures())
                        .arg(source->dense.outputFeatures())
                        .arg(pixels));
    setModel(sourceFor(std::move(source->dense), file,
                       QStringLiteral("file:%1#%2").arg(QFileInfo(path).absoluteFilePath()).arg(++generation_)));
    Q_EMIT statusMessage(tr("Opened %1").arg(file));
    return true;
}

void NetworkPage::setModel(std::shared_ptr<ModelSource> source) {
    source_ = std::move(source);
    message_->clear();
    current_.reset();
    sweepTable_ = {};
    modelLabel_->setText(modelDescription());
    convAlgorithm_->setEnabled(source_->dense.hasConvolutions());
    rebuildLayerControls();
    requestSweep();
    sliderMoved(slider_->value());
}

void NetworkPage::rebuildLayerControls() {
    qDeleteAll(layerRanks_);
    layerRanks_.clear();
    while (layerForm_->rowCount() > 0) layerForm_->removeRow(0);
    int maxRank = 1;
    for (const auto& l : source_->dense.layers()) {
        if (l.kind != nn::LayerKind::Linear) continue;  // already factored layers keep their rank
        auto* box = new QSpinBox;
        box->setObjectName(q(l.name));
        box->setRange(1, int(l.rank()));
        box->setValue(int(std::min<std::int64_t>(slider_->value(), l.rank())));
        box->setToolTip(tr("Rank of %1 (%2 → %3). Its full rank %4 keeps the layer exact; below %5 the two factors "
                           "hold fewer numbers than the dense weight.")
                            .arg(q(l.name))
                            .arg(l.inFeatures())
                            .arg(l.outFeatures())
                            .arg(l.rank())
                            .arg(l.inFeatures() * l.outFeatures() / (l.inFeatures() + l.outFeatures())));
        connect(box, &QSpinBox::valueChanged, this, &NetworkPage::layerRankChanged);
        layerForm_->addRow(q(l.name), box);
        layerRanks_.append(box);
        maxRank = std::max(maxRank, int(l.rank()));
    }
    QSignalBlocker block(slider_);
    slider_->setRange(1, maxRank);
}

void NetworkPage::sliderMoved(int rank) {
    for (QSpinBox* box : layerRanks_) {
        QSignalBlocker block(box);
        box->setValue(std::min(rank, box->maximum()));
    }
    layerRankChanged();
}

void NetworkPage::layerRankChanged() {
    if (!source_) return;
    const study::LayerRanks ranks = currentRanks();
    QStringList parts;
    for (QSpinBox* box : layerRanks_) parts << QStringLiteral("%1 %2").arg(box->objectName()).arg(box->value());
    rankLabel_->setText(tr("%1 · compression ratio %2 · FLOPs ×%3")
                            .arg(parts.join(QStringLiteral(", ")))
                            .arg(study::compressionRatioOf(source_->dense, ranks), 0, 'f', 4)
                            .arg(study::flopRatioOf(source_->dense, ranks), 0, 'f', 4));
    updateMarkers();
    requestCurrent();
    saveSettings();
}

study::LayerRanks NetworkPage::currentRanks() const {
    study::LayerRanks ranks;
    for (QSpinBox* box : layerRanks_) ranks[box->objectName().toStdString()] = box->value();
    return ranks;
}

study::CompressSweep NetworkPage::sweep() const {
    study::CompressSweep s;
    s.mode = static_cast<study::CompressionMode>(sweepMode_->currentData().toInt());
    s.compute = numeric::parseComputeSpec(compute_->currentData().toString().toStdString());
    s.fineTuneEpochs = fineTune_->value();
    if (source_ && source_->dense.hasConvolutions()) s.convAlgorithm = convAlgorithm_->currentData().toString().toStdString();
    s.fineTuneLearningRate = 0.1;  // from pretrained factors; 1.0 (training from scratch) undoes them at rank >= 16
    if (!s.compute.native) s.maxTestDigits = kEmulatedDigits;
    s.timing = {1, 3, 20, 0.05};
    return s;
}

void NetworkPage::requestSweep() {
    if (restoring_ || !source_) return;
    const study::CompressSweep s = sweep();
    const QString key = source_->key + QLatin1Char('|') + q(s.key());
    sweepRunner_->request(key, tr("Compression sweep"), [source = source_, s](const Progress& progress) -> std::any {
        return source->study()->run(s, progress);
    });
    saveSettings();
}

void NetworkPage::requestCurrent() {
    if (restoring_ || !source_) return;
    study::CompressSweep s = sweep();
    s.timing = {1, 3, 20, 0.03};  // a slider step should redraw within ~100 ms
    const study::LayerRanks ranks = currentRanks();
    std::string rankText;
    for (const auto& [name, r] : ranks) rankText += name + "=" + std::to_string(r) + ",";
    const QString key = source_->key + QLatin1Char('|') + q(rankText + "|" + s.key());
    currentRunner_->request(key, tr("Current setting"), [source = source_, s, ranks, rankText](const Progress& progress) -> std::any {
        const auto study = source->study();
        CurrentResult result;
        // The grid shows the same (possibly fine-tuned) model whose accuracy is reported.
        const nn::Model model = study->prepare(ranks, s, progress);
        result.point = study->measure(rankText, model, s);
        const std::vector<std::size_t> indices = study->sampleIndices(kGridDigits);
        const std::vector<std::uint8_t> predicted = study->predictions(model, indices, s);
        const io::DigitSet& digits = study->testDigits();
        for (std::size_t i = 0; i < indices.size(); ++i) {
            const std::size_t index = indices[i];
            DigitGrid::Digit d;
            d.image = DigitGrid::greyImage(digits.pixels.data() + index * digits.pixelsPerImage(), digits.rows, digits.cols);
            d.label = digits.labels[index];
            d.predicted = predicted[i];
            result.digits.append(d);
        }
        return result;
    });
}

void NetworkPage::showSweep(const study::Table& table) {
    sweepTable_ = table;
    const double ratio = study::compressionRatioOf(source_->dense, currentRanks());
    ratioAccuracy_->setData(table, study::compressionAccuracyChart(ratio));
    ratioRuntime_->setData(table, study::compressionRuntimeChart(ratio));
    updateMarkers();
}

void NetworkPage::showCurrent(const std::any& result) {
    const auto& r = std::any_cast<const CurrentResult&>(result);
    current_ = r.point;
    const double n = double(r.point.testDigits);
    accuracy_->setText(tr("<b>Accuracy %1 %</b> on %2 test digits<br>%3 ms for all of them (%4 µs per digit)%5")
                           .arg(100.0 * r.point.accuracy, 0, 'f', 2)
                           .arg(r.point.testDigits)
                           .arg(r.point.medianMs, 0, 'f', 2)
                           .arg(1e3 * r.point.medianMs / n, 0, 'f', 2)
                           .arg(compute_->currentIndex() > 0 ? tr(", emulated") : QString()));
    grid_->setDigits(r.digits);
    grid_->setCaption(tr("%1 of %2 sample digits wrong").arg(grid_->mistakes()).arg(r.digits.size()));
    updateMarkers();
}

void NetworkPage::updateMarkers() {
    if (!source_) return;
    const double ratio = study::compressionRatioOf(source_->dense, currentRanks());
    ratioAccuracy_->setCurrentX(ratio);
    ratioRuntime_->setCurrentX(ratio);
    if (sweepTable_.rowCount() == 0) return;
    std::optional<study::CurrentPoint> point;
    if (current_) point = study::CurrentPoint{current_->medianMs, current_->accuracy};
    const study::ParetoChart pareto = study::runtimeAccuracyChart(sweepTable_, point);
    runtimeAccuracy_->setData(pareto.table, pareto.spec);
}

void NetworkPage::dragEnterEvent(QDragEnterEvent* event) {
    const QList<QUrl> urls = event->mimeData()->urls();
    if (urls.size() == 1 && urls.front().isLocalFile() &&
        kWeightSuffixes.contains(QFileInfo(urls.front().toLocalFile()).suffix().toLower()))
        event->acceptProposedAction();
}

void NetworkPage::dropEvent(QDropEvent* event) {
    QString error;
    openWeights(event->mimeData()->urls().front().toLocalFile(), &error);
    event->acceptProposedAction();
}

void NetworkPage::saveSettings() const {
    if (restoring_) return;
    QSettings settings;
    settings.beginGroup(QLatin1String(kSettingsGroup));
    settings.setValue(QStringLiteral("rank"), slider_->value());
    settings.setValue(QStringLiteral("sweep"), sweepMode_->currentIndex());
    settings.setValue(QStringLiteral("compute"), compute_->currentData());
    settings.setValue(QStringLiteral("convAlgorithm"), convAlgorithm_->currentData());
    settings.setValue(QStringLiteral("fineTune"), fineTune_->value());
}

void NetworkPage::restoreSettings() {
    restoring_ = true;
    QSettings settings;
    settings.beginGroup(QLatin1String(kSettingsGroup));
    slider_->setRange(1, 512);
    slider_->setValue(settings.value(QStringLiteral("rank"), 16).toInt());
    sweepMode_->setCurrentIndex(settings.value(QStringLiteral("sweep"), 0).toInt());
    const int compute = compute_->findData(settings.value(QStringLiteral("compute"), QStringLiteral("native")));
    compute_->setCurrentIndex(compute >= 0 ? compute : 0);
    const int convAlgorithm = convAlgorithm_->findData(settings.value(QStringLiteral("convAlgorithm")));
    if (convAlgorithm >= 0) convAlgorithm_->setCurrentIndex(convAlgorithm);
    fineTune_->setValue(settings.value(QStringLiteral("fineTune"), 0).toInt());
    restoring_ = false;
}

}  // namespace ks::ui
