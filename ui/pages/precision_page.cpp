#include "pages/precision_page.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QScrollArea>
#include <QSettings>
#include <QSlider>
#include <QSpinBox>
#include <QSplitter>
#include <QTimer>
#include <QVBoxLayout>

#include <cmath>

#include "charts/chart_panel.hpp"
#include "numeric/format_family.hpp"
#include "qt_text.hpp"
#include "study_runner.hpp"
#include "widgets/arithmetic_controls.hpp"
#include "widgets/control_panel.hpp"
#include "widgets/tensor_image.hpp"

namespace ks::ui {

namespace {

const char* kSettingsGroup = "precision";

}  // namespace

PrecisionPage::PrecisionPage(QWidget* parent)
    : InvestigationPage(tr("Precision"),
                        tr("Reconstruction error of convolution and matrix-multiply algorithms as the number format narrows."),
                        parent),
      operation_(new QComboBox), methodsBox_(new QGroupBox(tr("Methods"))), methodsLayout_(new QVBoxLayout(methodsBox_)),
      family_(new QComboBox), sliderLabel_(new QLabel(tr("Bits"))), slider_(new QSlider(Qt::Horizontal)), formatLabel_(new QLabel), accumulation_(new QComboBox),
      tileScales_(new QCheckBox(tr("Scales on transformed tiles"))), rounding_(new QComboBox), distribution_(new QComboBox), layer_(new QComboBox), size_(new QSpinBox), kernel_(new QSpinBox),
      channels_(new QSpinBox), trials_(new QSpinBox), pictureMethod_(new QComboBox), errorScale_(new QComboBox), productLabel_(new QLabel), message_(new QLabel),
      chart_(new ChartPanel), inputImage_(new TensorImage(tr("Input"))), outputImage_(new TensorImage(tr("Output"))),
      errorImage_(new TensorImage(tr("Error (output − exact)"))), sweepRunner_(new StudyRunner(this)),
      snapshotRunner_(new StudyRunner(this)) {
    for (const study::Operation& op : study::Operation::all()) operation_->addItem(q(op.label()), q(op.id()));
    operation_->setToolTip(tr("Which primitive to study: a 2-D convolution layer or a matrix product."));

    fillFamilyBox(family_, true);

    slider_->setTickPosition(QSlider::TicksBelow);
    slider_->setPageStep(1);
    slider_->setToolTip(tr("Bit width. For floating point this is the stored mantissa: each bit halves the spacing "
                           "between neighbouring numbers (the unit roundoff 2^−(m+1)), so errors should halve too. "
                           "Arrow keys move one bit; the chart's red line follows."));
    formatLabel_->setWordWrap(true);
    formatLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);

    fillAccumulationBox(accumulation_);
    tileScales_->setToolTip(tr("Block scales on what Winograd and the FFT multiply: their transformed tiles and spectra, "
                               "blocked along the input channels, as a low-precision Winograd kernel stores them. Off: on the "
                               "input and the weights. Direct and im2col multiply their operands: the same for them."));
    fillRoundingBox(rounding_);
    for (const auto& d : study::distributionNames()) distribution_->addItem(q(d), q(d));
    distribution_->setToolTip(tr("The input data: randn like the assignment, uniform [−1, 1] like Lavin & Gray, or "
                                 "smooth non-negative images."));
    layer_->addItem(tr("Custom (size, kernel, channels below)"), -1);
    for (std::size_t i = 0; i < study::precisionLayerPresets().size(); ++i)
        layer_->addItem(q(study::precisionLayerPresets()[i].name), int(i));
    layer_->setToolTip(tr("A real network's layer, or one of your own size. Matrix multiply computes the same layer "
                          "as im2col's product. Real layers take seconds per sweep: progress and Cancel are in the "
                          "status bar."));
    size_->setRange(4, 128);
    size_->setValue(20);
    size_->setToolTip(tr("Input height and width of the layer, 4 to 128 (larger: a real layer from Layer above). Matrix multiply computes the same layer as im2col's "
                         "product: the K×C·R·S weights times the C·R·S×P·Q patches."));
    kernel_->setRange(1, 15);
    kernel_->setValue(3);
    kernel_->setToolTip(tr("Kernel height and width. Winograd here supports 3×3 only, and says so."));
    channels_->setRange(1, 256);
    channels_->setValue(16);
    channels_->setToolTip(tr("Input channels: the length of each output's sum grows with them (C·R·S terms)."));
    trials_->setRange(1, 50);
    trials_->setValue(3);
    trials_->setToolTip(tr("Random inputs per point; the chart shows the median."));
    pictureMethod_->setToolTip(tr("Whose output and error the pictures show."));
    errorScale_->addItem(tr("this picture's largest"), int(DivergingScale::Kind::PictureMaximum));
    errorScale_->addItem(tr("fixed, log 1e-8 … 1"), int(DivergingScale::Kind::FixedLog));
    errorScale_->setToolTip(tr("Scaled to its own largest |error|, a map at 1 bit and one at 9 bits look alike; on the "
                               "fixed logarithmic scale one colour is one error size at every bit width."));
    message_->setWordWrap(true);
    message_->setStyleSheet(QStringLiteral("color: #b00020"));

    for (QComboBox* box : {operation_, family_, accumulation_, rounding_, distribution_, layer_, pictureMethod_, errorScale_}) {
        box->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        box->setMinimumContentsLength(14);
    }
    auto* form = new QFormLayout;
    form->addRow(tr("Operation"), operation_);
    form->addRow(methodsBox_);
    // Long choices get the panel's whole width, their label above (a layer preset's name).
    form->addRow(new QLabel(tr("Family")));
    form->addRow(family_);
    form->addRow(sliderLabel_, slider_);
    form->addRow(formatLabel_);
    form->addRow(tr("Arithmetic"), accumulation_);
    form->addRow(tileScales_);
    form->addRow(tr("Rounding"), rounding_);
    form->addRow(tr("Inputs"), distribution_);
    form->addRow(new QLabel(tr("Layer")));
    form->addRow(layer_);
    // The limit in words (a spin box refuses 300 without a word): larger layers are the presets'.
    form->addRow(tr("Size (%1–%2)").arg(size_->minimum()).arg(size_->maximum()), size_);
    form->addRow(tr("Kernel"), kernel_);
    form->addRow(tr("Channels"), channels_);
    productLabel_->setWordWrap(true);
    form->addRow(productLabel_);
    form->addRow(tr("Trials"), trials_);
    form->addRow(tr("Pictures of"), pictureMethod_);
    form->addRow(tr("Error colours"), errorScale_);
    form->addRow(message_);
    QScrollArea* scroll = makeControlPanel(form);

    auto* pictures = new QWidget;
    auto* pictureRow = new QHBoxLayout(pictures);
    pictureRow->addWidget(inputImage_);
    pictureRow->addWidget(outputImage_);
    pictureRow->addWidget(errorImage_);
    auto* right = new QSplitter(Qt::Vertical);
    right->addWidget(chart_);
    right->addWidget(pictures);
    right->setStretchFactor(0, 3);
    right->setStretchFactor(1, 2);

    auto* layout = new QHBoxLayout(this);
    layout->addWidget(scroll);
    layout->addWidget(right, 1);

    restoreSettings();

    connect(operation_, &QComboBox::currentIndexChanged, this, [this] {
        rebuildMethodList();
        showFamilyAxis();
        requestSweep();
    });
    connect(tileScales_, &QCheckBox::toggled, this, &PrecisionPage::requestSweep);
    connect(family_, &QComboBox::currentIndexChanged, this, &PrecisionPage::familyChanged);
    connect(slider_, &QSlider::valueChanged, this, &PrecisionPage::sliderMoved);
    // Click a point of the chart: the slider goes to its bit width.
    connect(chart_, &ChartPanel::pointClicked, this, [this](const QString&, const QPointF& p) {
        slider_->setValue(int(std::lround(p.x())));
    });
    for (QComboBox* box : {accumulation_, rounding_, distribution_})
        connect(box, &QComboBox::currentIndexChanged, this, &PrecisionPage::requestSweep);
    connect(layer_, &QComboBox::currentIndexChanged, this, [this] {
        const bool custom = layer_->currentData().toInt() < 0;
        for (QSpinBox* box : {size_, kernel_, channels_}) box->setEnabled(custom);
        requestSweep();
    });
    for (QSpinBox* box : {size_, kernel_, channels_, trials_})
        connect(box, &QSpinBox::valueChanged, this, &PrecisionPage::requestSweep);
    connect(pictureMethod_, &QComboBox::currentIndexChanged, this, &PrecisionPage::requestSnapshot);
    connect(errorScale_, &QComboBox::currentIndexChanged, this, [this] {
        DivergingScale scale;
        scale.kind = static_cast<DivergingScale::Kind>(errorScale_->currentData().toInt());
        errorImage_->setScale(scale);
        saveSettings();
    });
    errorImage_->setScale({static_cast<DivergingScale::Kind>(errorScale_->currentData().toInt())});  // as restored
    connect(sweepRunner_, &StudyRunner::finished, this, [this](const QString& key, const std::any& result) {
        showSweep(key, std::any_cast<const study::Table&>(result));
    });
    connect(snapshotRunner_, &StudyRunner::finished, this, [this](const QString& key, const std::any& result) {
        const auto& snap = std::any_cast<const study::PrecisionSnapshot&>(result);
        (void)key;
        if (snap.status != "ok") {
            outputImage_->clear(q(snap.status));
            errorImage_->clear();
            return;
        }
        inputImage_->setTensor(snap.input, ImageStyle::Grey);
        outputImage_->setTensor(snap.output, ImageStyle::Grey);
        double maxError = 0;
        for (double e : snap.error.storage()) maxError = std::max(maxError, std::fabs(e));
        errorImage_->setTensor(snap.error, ImageStyle::Diverging, tr("max |error| %1").arg(maxError, 0, 'g', 3));
    });
    connect(sweepRunner_, &StudyRunner::cancelled, this, [this](const QString&) {
        if (!sweepRunner_->isRunning()) chart_->setStale(tr("cancelled: the curves are of an earlier setting"));
    });
    for (StudyRunner* runner : {sweepRunner_, snapshotRunner_})
        connect(runner, &StudyRunner::failed, this, [this, runner](const QString&, const QString& message) {
            message_->setText(message);
            Q_EMIT statusMessage(message);
            if (runner == sweepRunner_) chart_->setStale(tr("not updated: %1").arg(message));
            else
                for (TensorImage* image : {inputImage_, outputImage_, errorImage_}) image->clear(message);
        });

    requestSweep();
}

PrecisionPage::~PrecisionPage() { saveSettings(); }

study::Operation PrecisionPage::currentOperation() const {
    return study::Operation::byId(operation_->currentData().toString().toStdString());
}

QList<ChartPanel*> PrecisionPage::charts() const { return {chart_}; }

void PrecisionPage::setTaskProgress(TaskProgress* progress) { sweepRunner_->setProgressWidget(progress); }

void PrecisionPage::waitForIdle() {
    sweepRunner_->waitForFinished();
    snapshotRunner_->waitForFinished();
}

void PrecisionPage::rebuildMethodList() {
    QStringList wasChecked;
    for (QCheckBox* c : methodChecks_)
        if (c->isChecked()) wasChecked << c->text();
    const bool firstTime = methodChecks_.isEmpty();
    qDeleteAll(methodChecks_);
    methodChecks_.clear();
    const QString previousPicture = pictureMethod_->currentText();
    QSignalBlocker block(pictureMethod_);
    pictureMethod_->clear();
    for (const Algorithm* algorithm : currentOperation().algorithms()) {
        const std::string& name = algorithm->name();
        auto* check = new QCheckBox(q(name), methodsBox_);
        check->setToolTip(q(algorithm->description()));
        check->setChecked(!firstTime && wasChecked.contains(q(name)) ? true : algorithm->shownByDefault());
        connect(check, &QCheckBox::toggled, this, &PrecisionPage::requestSweep);
        methodsLayout_->addWidget(check);
        methodChecks_.append(check);
        pictureMethod_->addItem(q(name));
    }
    const int keep = pictureMethod_->findText(previousPicture);
    pictureMethod_->setCurrentIndex(keep >= 0 ? keep : 0);
}

void PrecisionPage::familyChanged() {
    // The separator before the block-scaled families is no family: go on to the one after it.
    if (family_->currentData().isNull() && family_->currentIndex() + 1 < family_->count()) {
        family_->setCurrentIndex(family_->currentIndex() + 1);
        return;
    }
    const study::PrecisionFamily family = study::precisionFamily(family_->currentData().toString().toStdString());
    QSignalBlocker block(slider_);
    const int previous = slider_->value();
    slider_->setRange(family.first, family.last);
    if (!restoring_) slider_->setValue(family.defaultPosition);
    else slider_->setValue(previous);
    showFamilyAxis();
    sliderMoved(slider_->value());
    requestSweep();
}

void PrecisionPage::showFamilyAxis() {
    const study::PrecisionFamily family = study::precisionFamily(family_->currentData().toString().toStdString());
    // A block-scaled family's slider is the block size; its sums are in fp32 whatever the arithmetic box says.
    sliderLabel_->setText(family.blockScaled ? tr("Block (log2)") : tr("Bits"));
    accumulation_->setEnabled(!family.blockScaled);
    accumulation_->setToolTip(family.blockScaled ? tr("Block-scaled formats are storage formats: products and sums are in fp32.")
                                                 : QString());
    // Only convolutions have algorithms that transform their operands.
    tileScales_->setEnabled(family.blockScaled && currentOperation().id() == study::Operation::Conv.id());
}

void PrecisionPage::sliderMoved(int position) {
    showFamilyPosition(formatLabel_, family_->currentData().toString().toStdString(), position);
    chart_->setCurrentX(double(position));
    requestSnapshot();
}

study::PrecisionSweep PrecisionPage::sweep() const {
    study::PrecisionSweep s;
    s.operation = currentOperation();
    for (QCheckBox* c : methodChecks_)
        if (c->isChecked()) s.methods.push_back(c->text().toStdString());
    s.family = family_->currentData().toString().toStdString();
    s.accumulation = static_cast<study::Accumulation>(accumulation_->currentData().toInt());
    s.rounding = static_cast<numeric::Rounding>(rounding_->currentData().toInt());
    if (tileScales_->isEnabled() && tileScales_->isChecked()) s.scalePlacement = numeric::ScalePlacement::TransformedTiles;
    s.distribution = study::parseDistribution(distribution_->currentData().toString().toStdString());
    s.trials = trials_->value();
    if (const int preset = layer_->currentData().toInt(); preset >= 0) {
        s.setLayer(study::precisionLayerPresets()[std::size_t(preset)].layer);
    } else {
        const int n = size_->value(), r = std::min(kernel_->value(), n);
        s.setLayer(conv::ConvProblem::layer(1, channels_->value(), n, n, 4, r));
    }
    return s;
}

void PrecisionPage::requestSweep() {
    if (restoring_ || methodChecks_.isEmpty()) return;
    const study::PrecisionSweep s = sweep();
    message_->clear();
    // A matrix product has no kernel or channels of its own: the layer's controls define the product it is.
    const bool matmul = s.operation.id() == study::Operation::Matmul.id();
    productLabel_->setVisible(matmul);
    if (matmul)
        productLabel_->setText(tr("Product (%1 × %2)·(%2 × %3): this layer's im2col GEMM, filters × patches")
                                   .arg(s.m)
                                   .arg(s.k)
                                   .arg(s.n));
    if (s.methods.empty()) {
        message_->setText(tr("Choose at least one method."));
        return;
    }
    // Everything drawn from the old setting is marked until the new one arrives (a cached answer
    // arrives at once and clears it again), and the pictures follow the sweep's inputs too.
    chart_->setStale(tr("updating…"));
    sweepRunner_->request(q(s.key()), tr("Precision sweep"), [s](const Progress& progress) -> std::any {
        return study::runPrecisionSweep(s, progress);
    });
    requestSnapshot();
    saveSettings();
}

void PrecisionPage::requestSnapshot() {
    if (restoring_ || pictureMethod_->count() == 0) return;
    const study::PrecisionSweep s = sweep();
    const std::string method = pictureMethod_->currentText().toStdString();
    const int position = slider_->value();
    for (TensorImage* image : {inputImage_, outputImage_, errorImage_}) image->setStale(true);
    snapshotRunner_->request(q(s.key() + "|" + method + "|" + std::to_string(position)), tr("Pictures"),
                             [s, method, position](const Progress&) -> std::any {
                                 return study::precisionSnapshot(s, method, position);
                             });
}

void PrecisionPage::showSweep(const QString& key, const study::Table& table) {
    shownKey_ = key;
    const study::ChartSpec spec = study::precisionChart(sweep(), slider_->value());
    chart_->setData(table, spec);
    chart_->setFindings(study::precisionFindings(table, sweep().operation.reference().name()));
    QStringList unsupported;
    for (std::size_t r = 0; r < table.rowCount(); ++r)
        if (table.labels("status")[r] != "ok") {
            const QString line = q(table.labels("method")[r]) + QStringLiteral(": ") + q(table.labels("status")[r]);
            if (!unsupported.contains(line)) unsupported << line;
        }
    message_->setText(unsupported.join(QLatin1Char('\n')));
}

void PrecisionPage::saveSettings() const {
    QSettings settings;
    settings.beginGroup(QLatin1String(kSettingsGroup));
    settings.setValue(QStringLiteral("operation"), operation_->currentIndex());
    settings.setValue(QStringLiteral("family"), family_->currentData());
    settings.setValue(QStringLiteral("position"), slider_->value());
    settings.setValue(QStringLiteral("errorScale"), errorScale_->currentIndex());
    settings.setValue(QStringLiteral("accumulation"), accumulation_->currentIndex());
    settings.setValue(QStringLiteral("tileScales"), tileScales_->isChecked());
    settings.setValue(QStringLiteral("rounding"), rounding_->currentIndex());
    settings.setValue(QStringLiteral("distribution"), distribution_->currentIndex());
    settings.setValue(QStringLiteral("layer"), layer_->currentText());
    settings.setValue(QStringLiteral("size"), size_->value());
    settings.setValue(QStringLiteral("kernel"), kernel_->value());
    settings.setValue(QStringLiteral("channels"), channels_->value());
    settings.setValue(QStringLiteral("trials"), trials_->value());
    QStringList methods;
    for (QCheckBox* c : methodChecks_)
        if (c->isChecked()) methods << c->text();
    settings.setValue(QStringLiteral("methods"), methods);
}

void PrecisionPage::restoreSettings() {
    restoring_ = true;
    QSettings settings;
    settings.beginGroup(QLatin1String(kSettingsGroup));
    operation_->setCurrentIndex(settings.value(QStringLiteral("operation"), 0).toInt());
    errorScale_->setCurrentIndex(std::clamp(settings.value(QStringLiteral("errorScale"), 0).toInt(), 0, errorScale_->count() - 1));
    rebuildMethodList();
    if (settings.contains(QStringLiteral("methods"))) {
        const QStringList methods = settings.value(QStringLiteral("methods")).toStringList();
        for (QCheckBox* c : methodChecks_) c->setChecked(methods.contains(c->text()));
    }
    const int familyIndex = family_->findData(settings.value(QStringLiteral("family"), QStringLiteral("e5")));
    family_->setCurrentIndex(familyIndex >= 0 ? familyIndex : 0);
    const study::PrecisionFamily family = study::precisionFamily(family_->currentData().toString().toStdString());
    slider_->setRange(family.first, family.last);
    slider_->setValue(settings.value(QStringLiteral("position"), family.defaultPosition).toInt());
    showFamilyAxis();
    accumulation_->setCurrentIndex(settings.value(QStringLiteral("accumulation"), 0).toInt());
    tileScales_->setChecked(settings.value(QStringLiteral("tileScales"), false).toBool());
    rounding_->setCurrentIndex(settings.value(QStringLiteral("rounding"), 0).toInt());
    distribution_->setCurrentIndex(settings.value(QStringLiteral("distribution"), 1).toInt());
    const int layer = layer_->findText(settings.value(QStringLiteral("layer")).toString());
    layer_->setCurrentIndex(layer >= 0 ? layer : 0);
    for (QSpinBox* box : {size_, kernel_, channels_}) box->setEnabled(layer_->currentIndex() <= 0);
    size_->setValue(settings.value(QStringLiteral("size"), 20).toInt());
    kernel_->setValue(settings.value(QStringLiteral("kernel"), 3).toInt());
    channels_->setValue(settings.value(QStringLiteral("channels"), 16).toInt());
    trials_->setValue(settings.value(QStringLiteral("trials"), 3).toInt());
    restoring_ = false;
    sliderMoved(slider_->value());
}

}  // namespace ks::ui
