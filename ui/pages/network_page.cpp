#include "pages/network_page.hpp"
#include "widgets/findings_view.hpp"

#include <algorithm>

#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QSlider>
#include <QSpinBox>
#include <QVBoxLayout>

#include "charts/chart_panel.hpp"
#include "conv/conv_registry.hpp"
#include "numeric/format_family.hpp"
#include "study/network_precision.hpp"
#include "numeric/compute_spec.hpp"
#include "qt_text.hpp"
#include "widgets/arithmetic_controls.hpp"
#include "widgets/control_panel.hpp"
#include "widgets/digit_grid.hpp"

namespace ks::ui {

namespace {

const char* kSettingsGroup = "network";
/// The Arithmetic box's item that hands the arithmetic to the bit-width slider.
const char* kFamilyChoice = "family";

QString computeTip(const std::string& name) {
    if (name == "native") return QObject::tr("Plain float32 on this CPU (our packed sgemm, AVX2 or AVX-512 as the CPU has): the only choice whose time is real.");
    if (name == "bf16") return QObject::tr("Every stage in bfloat16 (8 exponent bits, 7 mantissa bits), emulated bit-exactly.");
    if (name == "fp16") return QObject::tr("Every stage in IEEE half precision (5 exponent bits, 10 mantissa bits), emulated.");
    if (name == "fp16/fp32") return QObject::tr("fp16 weights, activations and products, sums kept in fp32, like tensor cores.");
    if (name == "e4m3/fp32") return QObject::tr("8-bit float (4 exponent, 3 mantissa bits) operands, fp32 accumulation, like FP8 inference.");
    if (name == "mxfp8-e4m3/fp32")
        return QObject::tr("OCP MXFP8: weights and each sample's activations in blocks of 32 along the layer's inputs, E4M3 "
                           "elements sharing a power-of-two scale; fp32 products and sums.");
    if (name == "mxfp4/fp32")
        return QObject::tr("OCP MXFP4: blocks of 32 E2M1 elements (±0, 0.5, 1, 1.5, 2, 3, 4, 6) sharing a power-of-two scale.");
    if (name == "nvfp4/fp32")
        return QObject::tr("NVIDIA NVFP4: blocks of 16 E2M1 elements with an E4M3 scale, and a float32 scale per tensor.");
    for (const auto& preset : numeric::computeSpecPresets())
        if (preset.name == name)
            return QObject::tr("A tensor-core model, %1: %2. The modelled sums are slower than float32 lanes, so the page "
                               "classifies a subset of the digits.")
                .arg(q(preset.spec), q(preset.source));
    return {};
}

}  // namespace

NetworkPage::NetworkPage(QWidget* parent)
    : InvestigationPage(tr("Network"),
                        tr("Accuracy and runtime of the digit-recognition network as its layers are compressed."), parent),
      model_(new NetworkModel(this)), modelLabel_(new QLabel), openButton_(new QPushButton(tr("Open weights or digits…"))),
      embeddedButton_(new QPushButton(tr("Embedded MLP"))), embeddedCnnButton_(new QPushButton(tr("Embedded CNN"))),
      slider_(new QSlider(Qt::Horizontal)), sliderName_(new QLabel(tr("Rank"))), rankLabel_(new QLabel),
      layerForm_(new QFormLayout), sweepMode_(new QComboBox), compute_(new QComboBox), family_(new QComboBox),
      bits_(new QSlider(Qt::Horizontal)), formatLabel_(new QLabel), accumulation_(new QComboBox), rounding_(new QComboBox),
      formatControls_(new QWidget), convAlgorithm_(new QComboBox), fineTune_(new QSpinBox),
      accuracy_(new QLabel), message_(new QLabel), findings_(new FindingsView(8)), ratioAccuracy_(new ChartPanel), ratioRuntime_(new ChartPanel),
      runtimeAccuracy_(new ChartPanel), accuracyBits_(new ChartPanel), grid_(new DigitGrid) {
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
    compute_->addItem(tr("Format family (bit-width slider)"), QLatin1String(kFamilyChoice));
    compute_->setItemData(compute_->count() - 1,
                          tr("Pick the format with the slider below: every step re-classifies the test digits."),
                          Qt::ToolTipRole);
    compute_->setToolTip(tr("The arithmetic of inference: weights, activations, products and sums rounded to a "
                            "format as hardware in that format would, bit for bit. Networks in "
                            "formats of up to 11 bits of precision run on the fast engine's float32 lanes: all test "
                            "digits in tens of milliseconds (fully connected, to nearest or in a directed mode), a "
                            "few tenths of a second (convolutions, or stochastic rounding). Elsewhere (wider "
                            "formats, fixed point, LNS, integers, Winograd's and the FFT's transforms rounded "
                            "stochastically) the page classifies %1 of them. "
                            "Emulated times compare settings only.")
                             .arg(NetworkModel::kEmulatedDigits));
    fillFamilyBox(family_);
    bits_->setTickPosition(QSlider::TicksBelow);
    bits_->setPageStep(1);
    bits_->setToolTip(tr("Bit width of the family's format (for floating point, the stored mantissa bits). Each "
                         "step classifies the test digits again in that format; arrow keys move one bit."));
    formatLabel_->setWordWrap(true);
    formatLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    fillAccumulationBox(accumulation_);
    fillRoundingBox(rounding_);
    auto* formatForm = new QFormLayout(formatControls_);
    formatForm->setContentsMargins(0, 0, 0, 0);
    formatForm->addRow(tr("Family"), family_);
    formatForm->addRow(tr("Bits"), bits_);
    formatForm->addRow(formatLabel_);
    formatForm->addRow(tr("Sums"), accumulation_);
    formatForm->addRow(tr("Rounding"), rounding_);
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
    form->addRow(sliderName_, slider_);
    form->addRow(rankLabel_);
    auto* layers = new QGroupBox(tr("Rank per layer"));
    layers->setLayout(layerForm_);
    form->addRow(layers);
    form->addRow(tr("Sweep"), sweepMode_);
    form->addRow(tr("Arithmetic"), compute_);
    form->addRow(formatControls_);
    form->addRow(tr("Convolutions"), convAlgorithm_);
    form->addRow(tr("Fine-tune"), fineTune_);
    form->addRow(accuracy_);
    form->addRow(message_);
    QWidget* scroll = makeControlPanel(form, findings_);

    auto* right = new QWidget;
    auto* grid = new QGridLayout(right);
    chartGrid_ = grid;
    // Two charts a row, so that each keeps room for its axis titles and legend at 1280×720; the digits below.
    grid->addWidget(ratioAccuracy_, 0, 0);
    grid->addWidget(ratioRuntime_, 0, 1);
    grid->addWidget(runtimeAccuracy_, 1, 0);
    grid->addWidget(accuracyBits_, 1, 1);
    grid->addWidget(grid_, 2, 0, 1, 2);
    grid->setColumnStretch(0, 1);
    grid->setColumnStretch(1, 1);
    grid->setRowStretch(0, 3);
    grid->setRowStretch(1, 3);
    grid->setRowStretch(2, 2);
    auto* layout = new QHBoxLayout(this);
    layout->addWidget(scroll);
    layout->addWidget(right, 1);

    // The controls as last left, handed to the model before anything runs; then user input is forwarded.
    restoreSettings();
    model_->setMode(static_cast<study::CompressionMode>(sweepMode_->currentData().toInt()));
    familyChanged();  // the slider's range for the restored family; hands the arithmetic to the model
    model_->setConvAlgorithm(convAlgorithm_->currentData().toString().toStdString());
    model_->setFineTuneEpochs(fineTune_->value());
    model_->setSharedRank(slider_->value());

    connect(openButton_, &QPushButton::clicked, this, [this] {
        QSettings settings;
        const QString path = QFileDialog::getOpenFileName(
            this, tr("Open weights or digits"), settings.value(QStringLiteral("paths/weights")).toString(),
            tr("Weight files (*.pt *.pth *.safetensors *.npz *.onnx);;MNIST test digits (*idx3-ubyte *idx3-ubyte.gz);;All files (*)"));
        if (path.isEmpty()) return;
        settings.setValue(QStringLiteral("paths/weights"), QFileInfo(path).absolutePath());
        QString error;
        openFile(path, &error);
    });
    connect(embeddedButton_, &QPushButton::clicked, this, [this] { openEmbedded(EmbeddedModel::Mlp); });
    connect(embeddedCnnButton_, &QPushButton::clicked, this, [this] { openEmbedded(EmbeddedModel::Cnn); });
    connect(slider_, &QSlider::valueChanged, this, &NetworkPage::sliderMoved);
    connect(sweepMode_, &QComboBox::currentIndexChanged, this, [this] {
        model_->setMode(static_cast<study::CompressionMode>(sweepMode_->currentData().toInt()));
        configureSlider(true);
        saveSettings();
    });
    connect(compute_, &QComboBox::currentIndexChanged, this, [this] {
        applyArithmetic();
        saveSettings();
    });
    connect(family_, &QComboBox::currentIndexChanged, this, [this] {
        {
            QSignalBlocker block(bits_);
            bits_->setValue(numeric::standardFamily(family_->currentData().toString().toStdString()).defaultPosition());
        }
        familyChanged();
        saveSettings();
    });
    connect(bits_, &QSlider::valueChanged, this, [this] {
        applyArithmetic();
        saveSettings();
    });
    for (QComboBox* box : {accumulation_, rounding_})
        connect(box, &QComboBox::currentIndexChanged, this, [this] {
            applyArithmetic();
            saveSettings();
        });
    connect(convAlgorithm_, &QComboBox::currentIndexChanged, this, [this] {
        model_->setConvAlgorithm(convAlgorithm_->currentData().toString().toStdString());
        saveSettings();
    });
    connect(fineTune_, &QSpinBox::valueChanged, this, [this](int epochs) {
        model_->setFineTuneEpochs(epochs);
        saveSettings();
    });

    connect(model_, &NetworkModel::modelChanged, this, &NetworkPage::showModel);
    connect(model_, &NetworkModel::ranksChanged, this, &NetworkPage::showRanks);
    connect(model_, &NetworkModel::sweepChanged, this, &NetworkPage::showSweep);
    connect(model_, &NetworkModel::curveChanged, this, &NetworkPage::showCurve);
    showCurve();
    connect(model_, &NetworkModel::currentChanged, this, &NetworkPage::showCurrent);
    connect(model_, &NetworkModel::failed, this, &NetworkPage::showProblem);
    connect(model_, &NetworkModel::statusMessage, this, &InvestigationPage::statusMessage);

    openEmbedded();
}

NetworkPage::~NetworkPage() {
    saveSettings();
    // The model stops its background work without delivering results; nothing of it reaches this half-destroyed page.
    disconnect(model_, nullptr, this, nullptr);
    delete model_;
}

QStringList NetworkPage::openableSuffixes() const {
    // ONNX files dropped on the window go to the Layers page, which runs any graph; this page opens the sequential
    // ones from its own Open button.
    QStringList suffixes = NetworkModel::openableSuffixes();
    suffixes.removeAll(QStringLiteral("onnx"));
    return suffixes;
}

QList<ChartPanel*> NetworkPage::charts() const {
    QList<ChartPanel*> charts{ratioAccuracy_, ratioRuntime_, runtimeAccuracy_};
    if (model_->curveTable().rowCount() > 0) charts.append(accuracyBits_);  // only with the bit-width slider
    return charts;
}

bool NetworkPage::slidingFormats() const { return compute_->currentData().toString() == QLatin1String(kFamilyChoice); }

void NetworkPage::familyChanged() {
    const auto& family = numeric::standardFamily(family_->currentData().toString().toStdString());
    {
        QSignalBlocker block(bits_);
        const int position = bits_->value();
        bits_->setRange(family.first(), family.last());
        bits_->setValue(std::clamp(position, family.first(), family.last()));
    }
    applyArithmetic();
}

void NetworkPage::applyArithmetic() {
    const bool sliding = slidingFormats();
    formatControls_->setEnabled(sliding);
    const auto& family = numeric::standardFamily(family_->currentData().toString().toStdString());
    showFormat(formatLabel_, family, bits_->value());
    accuracyBits_->setCurrentX(double(bits_->value()));
    if (!sliding) {
        model_->setCompute(compute_->currentData().toString().toStdString());
        return;
    }
    study::FormatSetting setting;
    setting.family = family.id();
    setting.position = bits_->value();
    setting.accumulation = static_cast<study::Accumulation>(accumulation_->currentData().toInt());
    setting.rounding = static_cast<numeric::Rounding>(rounding_->currentData().toInt());
    model_->setFormatSetting(setting);
}

void NetworkPage::showCurve() {
    const auto& family = numeric::standardFamily(family_->currentData().toString().toStdString());
    accuracyBits_->setData(model_->curveTable(), study::formatAccuracyChart(family, double(bits_->value())));
    // Only with the bit-width slider: otherwise no empty frame, and the Pareto chart takes the row.
    const bool curve = model_->curveTable().rowCount() > 0;
    accuracyBits_->setVisible(curve);
    chartGrid_->addWidget(runtimeAccuracy_, 1, 0, 1, curve ? 1 : 2);
}

void NetworkPage::setTaskProgress(TaskProgress* progress) { model_->setTaskProgress(progress); }

void NetworkPage::waitForIdle() { model_->waitForIdle(); }

QString NetworkPage::modelDescription() const { return model_->description(); }

study::CompressSweep NetworkPage::sweep() const { return model_->sweep(); }

study::LayerRanks NetworkPage::currentRanks() const { return model_->ranks(); }

std::optional<study::CompressionPoint> NetworkPage::currentPoint() const { return model_->currentPoint(); }

bool NetworkPage::openFile(const QString& path, QString* error) {
    QString text;
    return opened(model_->openFile(path, &text), text, error);
}

bool NetworkPage::openWeights(const QString& path, QString* error) {
    QString text;
    return opened(model_->openWeights(path, &text), text, error);
}

bool NetworkPage::openDigits(const QString& path, QString* error) {
    QString text;
    return opened(model_->openDigits(path, &text), text, error);
}

void NetworkPage::openEmbedded(EmbeddedModel which) {
    QString error;
    if (!model_->openEmbedded(which, &error)) message_->setText(error);
}

bool NetworkPage::opened(bool ok, const QString& text, QString* error) {
    if (ok) return true;
    showProblem(text);
    if (error) *error = text;
    return false;
}

void NetworkPage::showProblem(const QString& text) {
    message_->setText(text);
    Q_EMIT statusMessage(text);
}

void NetworkPage::showModel() {
    message_->clear();
    modelLabel_->setText(model_->description());
    convAlgorithm_->setEnabled(model_->network().hasConvolutions());
    rebuildLayerControls();
    showRanks();
}

namespace {
/// The kept-energy slider's stops: the energies the sweep evaluates.
const std::vector<double> kSliderEnergies = study::CompressSweep{}.energies;

/// A layer's name as a person reads it: an nn.Sequential's index ("1", "3", "5" in PyTorch's state dict) becomes
/// "layer 1"; a named module ("fc1") stays itself.
QString layerName(const QString& name) {
    bool number = false;
    name.toInt(&number);
    return number ? NetworkPage::tr("layer %1").arg(name) : name;
}
}  // namespace

QString layerCaption(const QString& name, std::int64_t in, std::int64_t out) {
    return QStringLiteral("%1 (%2→%3)").arg(layerName(name)).arg(in).arg(out);
}

void NetworkPage::rebuildLayerControls() {
    qDeleteAll(layerRanks_);
    layerRanks_.clear();
    while (layerForm_->rowCount() > 0) layerForm_->removeRow(0);
    for (const auto& l : model_->network().layers()) {
        if (l.kind != nn::LayerKind::Linear) continue;  // already factored layers keep their rank
        auto* box = new QSpinBox;
        box->setObjectName(q(l.name));
        box->setRange(1, int(l.rank()));
        box->setValue(int(model_->ranks().at(l.name)));
        box->setToolTip(tr("Rank of %1 (%2 → %3). Its full rank %4 keeps the layer exact; below %5 the two factors "
                           "hold fewer numbers than the dense weight.")
                            .arg(q(l.name))
                            .arg(l.inFeatures())
                            .arg(l.outFeatures())
                            .arg(l.rank())
                            .arg(l.inFeatures() * l.outFeatures() / (l.inFeatures() + l.outFeatures())));
        connect(box, &QSpinBox::valueChanged, this, [this, name = l.name](int rank) { model_->setLayerRank(name, rank); });
        layerForm_->addRow(layerCaption(q(l.name), l.inFeatures(), l.outFeatures()), box);
        layerRanks_.append(box);
    }
    configureSlider(false);
}

bool NetworkPage::energyMode() const {
    return static_cast<study::CompressionMode>(sweepMode_->currentData().toInt()) == study::CompressionMode::Energy;
}

QString NetworkPage::sliderName() const { return sliderName_->text(); }

void NetworkPage::configureSlider(bool apply) {
    const std::vector<double>& energies = kSliderEnergies;
    QSignalBlocker block(slider_);
    if (energyMode()) {
        sliderName_->setText(tr("Kept energy"));
        slider_->setToolTip(tr("Each layer at the smallest rank keeping this share of its squared singular values"));
        slider_->setRange(0, int(energies.size()) - 1);
        slider_->setPageStep(1);
        const auto at90 = std::find(energies.begin(), energies.end(), 0.9);
        slider_->setValue(at90 != energies.end() ? int(at90 - energies.begin()) : slider_->maximum());
        if (apply) applyEnergy();
    } else {
        sliderName_->setText(tr("Rank"));
        slider_->setToolTip(tr("Every layer at this rank (capped at its full rank)"));
        slider_->setRange(1, model_->maxRank());
        slider_->setPageStep(8);
        slider_->setValue(model_->sharedRank());
        if (apply) model_->setSharedRank(slider_->value());
    }
}

void NetworkPage::sliderMoved(int value) {
    if (energyMode()) applyEnergy();
    else model_->setSharedRank(value);
}

void NetworkPage::applyEnergy() {
    // The ranks of the sweep's own row for this energy (the sweep made them from each layer's SVD); until the sweep
    // has arrived there is nothing to set, and showSweep() applies it then.
    const std::vector<double>& energies = kSliderEnergies;
    const int index = slider_->value();
    if (!energyMode() || index < 0 || index >= int(energies.size())) return;
    const study::Table& table = model_->sweepTable();
    if (table.rowCount() == 0 || !table.hasColumn("energy_kept")) return;
    const std::string wanted = study::energySettingName(energies[std::size_t(index)]);
    const auto& settings = table.labels("setting");
    for (std::size_t r = 0; r < table.rowCount(); ++r) {
        if (settings[r] != wanted) continue;
        study::LayerRanks ranks;
        for (const auto& [name, rank] : model_->ranks())
            if (table.hasColumn("rank_" + name)) ranks[name] = std::int64_t(table.numbers("rank_" + name)[r]);
        model_->setRanks(ranks);
        return;
    }
}

void NetworkPage::showRanks() {
    if (!model_->hasModel()) return;
    QStringList parts;
    for (QSpinBox* box : layerRanks_) {
        QSignalBlocker block(box);
        box->setValue(int(model_->ranks().at(box->objectName().toStdString())));
        parts << QStringLiteral("%1 %2").arg(layerName(box->objectName())).arg(box->value());
    }
    const std::vector<double>& energies = kSliderEnergies;
    const QString energy = energyMode() && slider_->value() < int(energies.size())
                               ? tr("kept energy %1 %: ").arg(100 * energies[std::size_t(slider_->value())], 0, 'g', 3)
                               : QString();
    rankLabel_->setText(tr("%1%2 · compression ratio %3 · FLOPs ×%4")
                            .arg(energy, parts.join(QStringLiteral(", ")))
                            .arg(model_->compressionRatio(), 0, 'f', 4)
                            .arg(model_->flopRatio(), 0, 'f', 4));
    updateMarkers();
    saveSettings();
}

std::string NetworkPage::sweepCaption() const {
    return model_->name().toStdString() + "; " + model_->sweep().describe();
}

void NetworkPage::showSweep() {
    applyEnergy();  // a kept-energy slider waiting for the sweep's ranks
    const double ratio = model_->compressionRatio();
    ratioAccuracy_->setData(model_->sweepTable(), study::compressionAccuracyChart(ratio, sweepCaption()));
    ratioRuntime_->setData(model_->sweepTable(), study::compressionRuntimeChart(ratio, sweepCaption()));
    study::Findings findings = study::compressionFindings(model_->sweepTable());
    for (auto& f : study::lowRankEfficiencyFindings(model_->sweepTable())) findings.push_back(std::move(f));
    findings_->setFindings(findings, q(study::compressionAccuracyChart().id + ".csv"));
    updateMarkers();
}

void NetworkPage::showCurrent() {
    const study::CompressionPoint& point = *model_->currentPoint();
    const double n = double(point.testDigits);
    const bool emulated = model_->computeName() != "native";
    accuracy_->setText(tr("<b>Accuracy %1 %</b> on %2 test digits<br>%3 ms for all of them (%4 µs per digit)%5")
                           .arg(100.0 * point.accuracy, 0, 'f', 2)
                           .arg(point.testDigits)
                           .arg(point.medianMs, 0, 'f', 2)
                           .arg(1e3 * point.medianMs / n, 0, 'f', 2)
                           .arg(emulated ? tr(", emulated in %1").arg(q(model_->computeName()).toHtmlEscaped()) : QString()));
    const io::DigitSet& sample = model_->sampleDigits();
    QList<DigitGrid::Digit> digits;
    for (std::size_t i = 0; i < sample.count(); ++i) {
        DigitGrid::Digit d;
        d.image = DigitGrid::greyImage(sample.pixels.data() + i * sample.pixelsPerImage(), sample.rows, sample.cols);
        d.label = sample.labels[i];
        d.predicted = model_->samplePredictions()[i];
        digits.append(d);
    }
    grid_->setDigits(digits);
    grid_->setCaption(tr("%1 of %2 sample digits wrong").arg(grid_->mistakes()).arg(digits.size()));
    updateMarkers();
}

void NetworkPage::updateMarkers() {
    if (!model_->hasModel()) return;
    const double ratio = model_->compressionRatio();
    ratioAccuracy_->setCurrentX(ratio);
    ratioRuntime_->setCurrentX(ratio);
    if (model_->sweepTable().rowCount() == 0) return;
    std::optional<study::CurrentPoint> point;
    if (const auto& current = model_->currentPoint()) point = study::CurrentPoint{current->medianMs, current->accuracy};
    const study::ParetoChart pareto = study::runtimeAccuracyChart(model_->sweepTable(), point, sweepCaption());
    runtimeAccuracy_->setData(pareto.table, pareto.spec);
}

void NetworkPage::saveSettings() const {
    QSettings settings;
    settings.beginGroup(QLatin1String(kSettingsGroup));
    settings.setValue(QStringLiteral("rank"), slider_->value());
    settings.setValue(QStringLiteral("sweep"), sweepMode_->currentIndex());
    settings.setValue(QStringLiteral("compute"), compute_->currentData());
    settings.setValue(QStringLiteral("family"), family_->currentData());
    settings.setValue(QStringLiteral("bits"), bits_->value());
    settings.setValue(QStringLiteral("accumulation"), accumulation_->currentIndex());
    settings.setValue(QStringLiteral("rounding"), rounding_->currentIndex());
    settings.setValue(QStringLiteral("convAlgorithm"), convAlgorithm_->currentData());
    settings.setValue(QStringLiteral("fineTune"), fineTune_->value());
}

void NetworkPage::restoreSettings() {
    QSettings settings;
    settings.beginGroup(QLatin1String(kSettingsGroup));
    slider_->setRange(1, 512);
    slider_->setValue(settings.value(QStringLiteral("rank"), 16).toInt());
    sweepMode_->setCurrentIndex(settings.value(QStringLiteral("sweep"), 0).toInt());
    const int compute = compute_->findData(settings.value(QStringLiteral("compute"), QStringLiteral("native")));
    compute_->setCurrentIndex(compute >= 0 ? compute : 0);
    const int family = family_->findData(settings.value(QStringLiteral("family"), QStringLiteral("e5")));
    family_->setCurrentIndex(family >= 0 ? family : 0);
    const auto& formats = numeric::standardFamily(family_->currentData().toString().toStdString());
    bits_->setRange(formats.first(), formats.last());
    bits_->setValue(settings.value(QStringLiteral("bits"), formats.defaultPosition()).toInt());
    accumulation_->setCurrentIndex(std::max(0, settings.value(QStringLiteral("accumulation"), 0).toInt()));
    rounding_->setCurrentIndex(std::max(0, settings.value(QStringLiteral("rounding"), 0).toInt()));
    const int convAlgorithm = convAlgorithm_->findData(settings.value(QStringLiteral("convAlgorithm")));
    if (convAlgorithm >= 0) convAlgorithm_->setCurrentIndex(convAlgorithm);
    fineTune_->setValue(settings.value(QStringLiteral("fineTune"), 0).toInt());
}

}  // namespace ks::ui
