#include "pages/accumulation_page.hpp"

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
#include <QTabWidget>
#include <QVBoxLayout>

#include "charts/chart_panel.hpp"
#include "qt_text.hpp"
#include "study/compress_study.hpp"
#include "study/findings.hpp"
#include "study/lns_study.hpp"
#include "study/network_precision.hpp"
#include "study_runner.hpp"
#include "widgets/control_panel.hpp"

namespace ks::ui {

namespace {

const char* kSettingsGroup = "accumulation";

/// The sweep's two tables, computed together (the swamping picture is of the sweep's fixed setting).
struct SweepResult {
    study::Table sweep, swamping;
};

/// The binned log-domain sums at F fraction bits (2^F bins): their error vs accumulator width, length-256 dot products.
study::LnsSweep binnedSweep(int fractionBits) {
    study::LnsSweep s;
    s.fractionBits = {fractionBits};
    s.widthSweepFractionBits = fractionBits;
    s.trials = 40;
    return s;
}

void fillIntBox(QComboBox* box, std::initializer_list<int> values, int current) {
    for (int v : values) box->addItem(QString::number(v), v);
    box->setCurrentIndex(std::max(0, box->findData(current)));
}

}  // namespace

std::vector<numeric::ComputeSpec> AccumulationPage::networkSpecs() {
    std::vector<numeric::ComputeSpec> specs;
    // Eight bars: more do not fit their names at 1280×720 (the CLI's `accumulation --network` takes any list).
    for (const char* name : {"fp32", "volta-fp16-tc", "ampere-bf16-tc", "hopper-fp8", "hopper-fp8-promoted", "mxfp8-e4m3/fp32",
                             "mxfp4/fp32", "nvfp4/fp32"})
        specs.push_back(numeric::parseComputeSpec(name));
    return specs;
}

AccumulationPage::AccumulationPage(QWidget* parent)
    : InvestigationPage(tr("Accumulation"),
                        tr("How products are summed: accumulator width, order, tensor-core groups and promotion, and what "
                           "they cost a dot product and the digit network."),
                        parent),
      operand_(new QComboBox), axis_(new QComboBox), length_(new QComboBox), promote_(new QComboBox), inputs_(new QComboBox),
      bits_(new QSlider(Qt::Horizontal)), bitsLabel_(new QLabel), group_(new QSpinBox), digits_(new QSpinBox),
      lnsFractionBits_(new QSlider(Qt::Horizontal)), lnsWidth_(new QSlider(Qt::Horizontal)), lnsLabel_(new QLabel),
      message_(new QLabel), sweepChart_(new ChartPanel), swampingChart_(new ChartPanel), networkChart_(new ChartPanel),
      binnedChart_(new ChartPanel), sweepRunner_(new StudyRunner(this)), networkRunner_(new StudyRunner(this)),
      binnedRunner_(new StudyRunner(this)) {
    for (const char* f : {"fp16", "bf16", "e4m3", "e5m2", "fp32", "mxfp8-e4m3", "mxfp6-e2m3", "mxfp4", "nvfp4"})
        operand_->addItem(QString::fromLatin1(f), QString::fromLatin1(f));
    operand_->setToolTip(tr("The operands' format. Their products are kept exact, so the error below is the sums' alone."));
    for (auto axis : {study::AccumulationAxis::AccumulatorBits, study::AccumulationAxis::Length,
                      study::AccumulationAxis::GroupSize, study::AccumulationAxis::PromoteInterval})
        axis_->addItem(q(study::accumulationAxisLabel(axis)), int(axis));
    axis_->setToolTip(tr("The chart's x axis; the other parameters stay as set below."));
    bits_->setRange(3, 24);
    bits_->setValue(14);
    bits_->setPageStep(1);
    bits_->setTickPosition(QSlider::TicksBelow);
    bits_->setToolTip(tr("The accumulator's significant bits B: sums are kept in e8m(B−1). 8 is bf16, 14 the FP22 Hopper's "
                         "FP8 tensor cores keep (DeepSeek-V3), 24 float32. Arrow keys move one bit."));
    bitsLabel_->setWordWrap(true);
    fillIntBox(length_, {16, 64, 256, 1024, 4096, 16384}, 4096);
    length_->setToolTip(tr("Products per dot product (K): a layer's C·R·S or a matrix product's inner dimension."));
    group_->setRange(1, 64);
    group_->setValue(4);
    group_->setToolTip(tr("Products a tensor core aligns with its running sum at a time: 4 on V100 and T4, 8 on A100 "
                          "(Fasi et al. 2021)."));
    fillIntBox(promote_, {16, 32, 64, 128, 256, 512, 1024, 4096}, 128);
    promote_->setToolTip(tr("How often the promoted model adds its partial sum into a float32 register (DeepSeek-V3 "
                            "promotes every 128 elements of K)."));
    inputs_->addItem(tr("positive, U[0, 1)"), true);
    inputs_->addItem(tr("signed, U[−1, 1)"), false);
    inputs_->setToolTip(tr("Positive terms only grow the sum (the worst case: swamping); signed ones cancel."));
    auto* modelsBox = new QGroupBox(tr("Models"));
    auto* modelsLayout = new QVBoxLayout(modelsBox);
    for (const std::string& model : study::accumulationModels()) {
        auto* check = new QCheckBox(q(model), modelsBox);
        check->setChecked(true);
        modelsLayout->addWidget(check);
        modelChecks_.append(check);
        connect(check, &QCheckBox::toggled, this, &AccumulationPage::requestSweep);
    }
    digits_->setRange(20, 2000);
    digits_->setValue(200);
    digits_->setSingleStep(100);
    digits_->setToolTip(tr("Test digits the network classifies under each specification (the same for all). The modelled "
                           "sums run on the scalar reference: about 3 ms a digit."));
    lnsFractionBits_->setRange(0, 6);
    lnsFractionBits_->setValue(3);
    lnsFractionBits_->setPageStep(1);
    lnsFractionBits_->setTickPosition(QSlider::TicksBelow);
    lnsFractionBits_->setToolTip(tr("Fraction bits F of the LNS operands (lns: 5 integer bits): the binned accumulator "
                                    "keeps 2^F integer bins, one per remainder of the products' logs."));
    lnsWidth_->setRange(4, 32);
    lnsWidth_->setValue(16);
    lnsWidth_->setPageStep(1);
    lnsWidth_->setTickPosition(QSlider::TicksBelow);
    lnsWidth_->setToolTip(tr("The width of each bin's integer accumulator: the chart's red line. Narrower accumulators "
                             "drop the small products' low bits (their top bit stays above the largest sum)."));
    lnsLabel_->setWordWrap(true);
    message_->setWordWrap(true);
    message_->setStyleSheet(QStringLiteral("color: #b00020"));
    for (QComboBox* box : {operand_, axis_, length_, promote_, inputs_}) {
        box->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        box->setMinimumContentsLength(12);
    }

    auto* form = new QFormLayout;
    form->addRow(tr("Operands"), operand_);
    form->addRow(tr("Sweep"), axis_);
    form->addRow(tr("Accumulator"), bits_);
    form->addRow(bitsLabel_);
    form->addRow(tr("Length"), length_);
    form->addRow(tr("Group"), group_);
    form->addRow(tr("Promote every"), promote_);
    form->addRow(tr("Inputs"), inputs_);
    form->addRow(modelsBox);
    form->addRow(tr("Network digits"), digits_);
    auto* binnedBox = new QGroupBox(tr("Binned log-domain sums (NVIDIA)"));
    auto* binnedForm = new QFormLayout(binnedBox);
    binnedForm->addRow(tr("Fraction bits"), lnsFractionBits_);
    binnedForm->addRow(tr("Accumulator"), lnsWidth_);
    binnedForm->addRow(lnsLabel_);
    form->addRow(binnedBox);
    form->addRow(message_);
    QScrollArea* scroll = makeControlPanel(form);

    // The network and the binned log sums share a place: tabs, each chart keeping its full size.
    auto* tabs = new QTabWidget;
    tabs->addTab(networkChart_, tr("Network"));
    tabs->addTab(binnedChart_, tr("Binned log sums"));
    auto* bottom = new QSplitter(Qt::Horizontal);
    bottom->addWidget(swampingChart_);
    bottom->addWidget(tabs);
    bottom->setStretchFactor(0, 2);
    bottom->setStretchFactor(1, 3);  // the network's bars are named beside them
    auto* right = new QSplitter(Qt::Vertical);
    right->addWidget(sweepChart_);
    right->addWidget(bottom);
    right->setStretchFactor(0, 1);
    right->setStretchFactor(1, 1);
    auto* layout = new QHBoxLayout(this);
    layout->addWidget(scroll);
    layout->addWidget(right, 1);

    restoreSettings();

    for (QComboBox* box : {operand_, axis_, length_, promote_, inputs_})
        connect(box, &QComboBox::currentIndexChanged, this, &AccumulationPage::requestSweep);
    connect(group_, &QSpinBox::valueChanged, this, &AccumulationPage::requestSweep);
    connect(bits_, &QSlider::valueChanged, this, &AccumulationPage::bitsMoved);
    connect(lnsFractionBits_, &QSlider::valueChanged, this, &AccumulationPage::requestBinned);
    connect(lnsWidth_, &QSlider::valueChanged, this, &AccumulationPage::lnsWidthMoved);
    connect(digits_, &QSpinBox::valueChanged, this, [this] {
        saveSettings();
        if (networkRequested_) requestNetwork();
    });
    // Click a point of the sweep: its x becomes the fixed value of that parameter (bits move the slider).
    connect(sweepChart_, &ChartPanel::pointClicked, this, [this](const QString&, const QPointF& p) {
        const int x = int(std::lround(p.x()));
        switch (static_cast<study::AccumulationAxis>(axis_->currentData().toInt())) {
            case study::AccumulationAxis::AccumulatorBits: bits_->setValue(x); break;
            case study::AccumulationAxis::Length: length_->setCurrentIndex(std::max(0, length_->findData(x))); break;
            case study::AccumulationAxis::GroupSize: group_->setValue(x); break;
            case study::AccumulationAxis::PromoteInterval: promote_->setCurrentIndex(std::max(0, promote_->findData(x))); break;
        }
    });
    connect(sweepRunner_, &StudyRunner::finished, this, [this](const QString&, const std::any& result) {
        const auto& r = std::any_cast<const SweepResult&>(result);
        const study::AccumulationSweep s = sweep();
        study::ChartSpec spec = study::accumulationChart(s);
        sweepChart_->setData(r.sweep, spec);
        bitsMoved();  // the current-value line
        sweepChart_->setFindings(study::accumulationFindings(r.sweep, study::accumulationAxisLabel(s.axis)));
        swampingChart_->setData(r.swamping, study::swampingChart(s));
        swampingChart_->setFindings(study::swampingFindings(r.swamping));
    });
    connect(networkRunner_, &StudyRunner::finished, this, [this](const QString&, const std::any& result) {
        const auto& table = std::any_cast<const study::Table&>(result);
        study::ChartSpec spec = study::specAccuracyChart();
        spec.caption = tr("the embedded digit MLP on %1 test digits (the same for every specification)").arg(digits_->value()).toStdString();
        networkChart_->setData(table, spec);
        networkChart_->setFindings(study::specAccuracyFindings(table));
    });
    connect(binnedRunner_, &StudyRunner::finished, this, [this](const QString&, const std::any& result) {
        const auto& r = std::any_cast<const study::LnsResult&>(result);
        binnedChart_->setData(r.byAccumulatorBits, study::lnsAccumulatorChart(binnedSweep(lnsFractionBits_->value())));
        binnedChart_->setFindings(study::binnedWidthFindings(r.byAccumulatorBits));
        lnsWidthMoved();
    });
    for (StudyRunner* runner : {sweepRunner_, networkRunner_, binnedRunner_}) {
        ChartPanel* chart = runner == sweepRunner_ ? sweepChart_ : runner == networkRunner_ ? networkChart_ : binnedChart_;
        connect(runner, &StudyRunner::failed, this, [this, chart](const QString&, const QString& message) {
            message_->setText(message);
            Q_EMIT statusMessage(message);
            chart->setStale(tr("not updated: %1").arg(message));
        });
        connect(runner, &StudyRunner::cancelled, this, [runner, chart](const QString&) {
            if (!runner->isRunning()) chart->setStale(tr("cancelled: an earlier setting"));
        });
    }
    bitsMoved();
    requestSweep();
    requestBinned();
}

AccumulationPage::~AccumulationPage() { saveSettings(); }

QList<ChartPanel*> AccumulationPage::charts() const { return {sweepChart_, swampingChart_, networkChart_, binnedChart_}; }

void AccumulationPage::setTaskProgress(TaskProgress* progress) {
    for (StudyRunner* runner : {sweepRunner_, networkRunner_, binnedRunner_}) runner->setProgressWidget(progress);
}

void AccumulationPage::waitForIdle() {
    if (!networkRequested_) requestNetwork();  // waited for is looked at (screenshots, tests)
    for (StudyRunner* runner : {sweepRunner_, networkRunner_, binnedRunner_}) runner->waitForFinished();
}

void AccumulationPage::showEvent(QShowEvent* event) {
    InvestigationPage::showEvent(event);
    // The network runs the modelled sums on the reference (seconds): only once the page is looked at.
    if (!networkRequested_) requestNetwork();
}

study::AccumulationSweep AccumulationPage::sweep() const {
    study::AccumulationSweep s;
    s.operand = operand_->currentData().toString().toStdString();
    s.axis = static_cast<study::AccumulationAxis>(axis_->currentData().toInt());
    s.accumulatorBits = bits_->value();
    s.length = length_->currentData().toInt();
    s.groupSize = group_->value();
    s.promoteEvery = promote_->currentData().toInt();
    s.positive = inputs_->currentData().toBool();
    s.models.clear();
    for (QCheckBox* c : modelChecks_)
        if (c->isChecked()) s.models.push_back(c->text().toStdString());
    s.dots = 32;
    return s;
}

void AccumulationPage::bitsMoved() {
    const int b = bits_->value();
    bitsLabel_->setText(tr("<b>%1 bits</b>: sums in e8m%2, unit roundoff 2<sup>−%1</sup>%3")
                            .arg(b)
                            .arg(b - 1)
                            .arg(b == 8 ? tr(" (bf16)") : b == 14 ? tr(" (FP22, Hopper FP8)") : b == 24 ? tr(" (float32)") : QString()));
    const study::AccumulationSweep s = sweep();
    const double current = s.axis == study::AccumulationAxis::AccumulatorBits ? s.accumulatorBits
                           : s.axis == study::AccumulationAxis::Length        ? s.length
                           : s.axis == study::AccumulationAxis::GroupSize     ? s.groupSize
                                                                              : s.promoteEvery;
    sweepChart_->setCurrentX(current);
    // Along the bits axis the sweep itself does not change; the swamping picture and other axes do.
    if (!restoring_ && sender() == bits_) requestSweep();
}

void AccumulationPage::requestSweep() {
    if (restoring_) return;
    const study::AccumulationSweep s = sweep();
    message_->clear();
    saveSettings();
    if (s.models.empty()) {
        message_->setText(tr("Choose at least one model."));
        return;
    }
    sweepChart_->setStale(tr("updating…"));
    swampingChart_->setStale(tr("updating…"));
    sweepRunner_->request(q(s.key()), tr("Accumulation sweep"), [s](const Progress& progress) -> std::any {
        SweepResult r;
        r.sweep = study::runAccumulationSweep(s, progress);
        r.swamping = study::runSwamping(s, progress);
        return r;
    });
}

void AccumulationPage::requestNetwork() {
    networkRequested_ = true;
    const int digits = digits_->value();
    networkChart_->setStale(tr("updating…"));
    networkRunner_->request(QStringLiteral("network|%1").arg(digits), tr("Network under each specification"),
                            [digits](const Progress& progress) -> std::any {
                                const auto embedded = study::CompressionStudy::embedded();
                                study::CompressSweep options;
                                options.measureTime = false;
                                options.maxTestDigits = std::size_t(digits);
                                return study::specAccuracySweep(*embedded, embedded->dense(), networkSpecs(), options, progress);
                            });
}

void AccumulationPage::requestBinned() {
    if (restoring_) return;
    const study::LnsSweep s = binnedSweep(lnsFractionBits_->value());
    saveSettings();
    binnedChart_->setStale(tr("updating…"));
    binnedRunner_->request(q(s.key()), tr("Binned log-domain sums"),
                           [s](const Progress& progress) -> std::any { return study::runLnsSweep(s, progress); });
}

void AccumulationPage::lnsWidthMoved() {
    const int f = lnsFractionBits_->value(), width = lnsWidth_->value();
    lnsLabel_->setText(tr("%1 bins (2<sup>%2</sup>), each a %3-bit integer accumulator").arg(1 << f).arg(f).arg(width));
    binnedChart_->setCurrentX(double(width));
    saveSettings();
}

void AccumulationPage::saveSettings() const {
    if (restoring_) return;
    QSettings settings;
    settings.beginGroup(QLatin1String(kSettingsGroup));
    settings.setValue(QStringLiteral("operand"), operand_->currentData());
    settings.setValue(QStringLiteral("axis"), axis_->currentIndex());
    settings.setValue(QStringLiteral("bits"), bits_->value());
    settings.setValue(QStringLiteral("length"), length_->currentData());
    settings.setValue(QStringLiteral("group"), group_->value());
    settings.setValue(QStringLiteral("promote"), promote_->currentData());
    settings.setValue(QStringLiteral("inputs"), inputs_->currentIndex());
    settings.setValue(QStringLiteral("digits"), digits_->value());
    settings.setValue(QStringLiteral("lnsFractionBits"), lnsFractionBits_->value());
    settings.setValue(QStringLiteral("lnsWidth"), lnsWidth_->value());
    QStringList models;
    for (QCheckBox* c : modelChecks_)
        if (c->isChecked()) models << c->text();
    settings.setValue(QStringLiteral("models"), models);
}

void AccumulationPage::restoreSettings() {
    restoring_ = true;
    QSettings settings;
    settings.beginGroup(QLatin1String(kSettingsGroup));
    auto select = [](QComboBox* box, const QVariant& value) {
        const int i = box->findData(value);
        if (i >= 0) box->setCurrentIndex(i);
    };
    select(operand_, settings.value(QStringLiteral("operand"), QStringLiteral("fp16")));
    axis_->setCurrentIndex(std::clamp(settings.value(QStringLiteral("axis"), 0).toInt(), 0, axis_->count() - 1));
    bits_->setValue(settings.value(QStringLiteral("bits"), 14).toInt());
    select(length_, settings.value(QStringLiteral("length"), 4096));
    group_->setValue(settings.value(QStringLiteral("group"), 4).toInt());
    select(promote_, settings.value(QStringLiteral("promote"), 128));
    inputs_->setCurrentIndex(std::clamp(settings.value(QStringLiteral("inputs"), 0).toInt(), 0, inputs_->count() - 1));
    digits_->setValue(settings.value(QStringLiteral("digits"), 200).toInt());
    lnsFractionBits_->setValue(settings.value(QStringLiteral("lnsFractionBits"), 3).toInt());
    lnsWidth_->setValue(settings.value(QStringLiteral("lnsWidth"), 16).toInt());
    if (settings.contains(QStringLiteral("models"))) {
        const QStringList models = settings.value(QStringLiteral("models")).toStringList();
        for (QCheckBox* c : modelChecks_) c->setChecked(models.contains(c->text()));
    }
    restoring_ = false;
}

}  // namespace ks::ui
