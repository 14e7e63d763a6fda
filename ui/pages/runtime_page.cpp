#include "pages/runtime_page.hpp"
#include "widgets/findings_view.hpp"

#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QSpinBox>
#include <QSplitter>
#include <QStackedWidget>
#include <QTableWidget>
#include <QVBoxLayout>

#include <cmath>
#include <limits>

#include "charts/chart_panel.hpp"
#include "qt_text.hpp"
#include "study_runner.hpp"
#include "widgets/control_panel.hpp"

namespace ks::ui {

namespace {

const char* kSettingsGroup = "runtime";

/// What one Find produces: the table for the shape and the runtime-vs-size table.
struct RuntimeResult {
    study::Table find, scaling;
    study::RuntimeFind findSpec;
    study::RuntimeScaling scalingSpec;
};

QString bytesText(double bytes) {
    if (std::isnan(bytes)) return {};
    if (bytes < 1024) return QStringLiteral("%1 B").arg(bytes, 0, 'f', 0);
    if (bytes < 1024.0 * 1024) return QStringLiteral("%1 KiB").arg(bytes / 1024, 0, 'f', 1);
    return QStringLiteral("%1 MiB").arg(bytes / (1024.0 * 1024), 0, 'f', 1);
}

QSpinBox* spin(int lo, int hi, int value, const QString& tip) {
    auto* box = new QSpinBox;
    box->setRange(lo, hi);
    box->setValue(value);
    box->setToolTip(tip);
    return box;
}

}  // namespace

RuntimePage::RuntimePage(QWidget* parent)
    : InvestigationPage(tr("Runtime"),
                        tr("Every algorithm timed on one shape, like cuDNN's find, and runtime vs size."), parent),
      operation_(new QComboBox), shapeStack_(new QStackedWidget),
      batch_(spin(1, 64, 1, tr("Images in the batch (N)."))),
      channels_(spin(1, 512, 1, tr("Input channels (C): each output sums C·R·S products."))),
      height_(spin(3, 1024, 128, tr("Input height (H). The assignment's case is one channel in and out."))),
      width_(spin(3, 1024, 128, tr("Input width (W)."))),
      outChannels_(spin(1, 512, 1, tr("Output channels (K): one filter each."))),
      kernel_(spin(1, 31, 3, tr("Kernel height and width (R = S). Winograd F(m×m, 3×3) computes m×m outputs from an "
                                "(m+2)×(m+2) tile with (m+2)² multiplications instead of 9·m²; it needs 3×3 kernels."))),
      matM_(spin(1, 4096, 256, tr("Rows of A and C (M)."))), matK_(spin(1, 4096, 256, tr("Columns of A, rows of B (K)."))),
      matN_(spin(1, 4096, 256, tr("Columns of B and C (N)."))),
      rank_(spin(0, 4096, 32, tr("svd: B replaced by its rank-r truncated SVD, factored once beforehand (not timed), "
                                 "so the product costs 2·M·r·(K + N) instead of 2·M·K·N. 0: B exactly."))),
      sizes_(new QLineEdit), tolerance_(new QComboBox), findButton_(new QPushButton(tr("Find"))),
      message_(new QLabel), findings_(new FindingsView(8)), table_(new QTableWidget), findChart_(new ChartPanel), scalingChart_(new ChartPanel),
      runner_(new StudyRunner(this)) {
    // The shape editors in shapeStack_ are in the same order as study::Operation::all().
    for (const study::Operation& op : study::Operation::all()) operation_->addItem(q(op.label()), q(op.id()));
    operation_->setToolTip(tr("Which primitive to time: a 2-D convolution or a matrix product."));

    auto* convForm = new QFormLayout;
    convForm->addRow(tr("Batch N"), batch_);
    convForm->addRow(tr("Channels C"), channels_);
    convForm->addRow(tr("Height H"), height_);
    convForm->addRow(tr("Width W"), width_);
    convForm->addRow(tr("Filters K"), outChannels_);
    convForm->addRow(tr("Kernel R×R"), kernel_);
    auto* convShape = new QWidget;
    convShape->setLayout(convForm);
    auto* matForm = new QFormLayout;
    matForm->addRow(tr("M"), matM_);
    matForm->addRow(tr("K"), matK_);
    matForm->addRow(tr("N"), matN_);
    matForm->addRow(tr("svd rank"), rank_);
    auto* matShape = new QWidget;
    matShape->setLayout(matForm);
    shapeStack_->addWidget(convShape);
    shapeStack_->addWidget(matShape);

    sizes_->setToolTip(tr("Sizes for runtime vs size, comma-separated: square images of this side in the layer "
                          "above (convolution: N, C, K and kernel kept), or square matrices (matrix multiply)."));
    findButton_->setToolTip(tr("Time every algorithm on the shape (warm-up, then the median of repeats), measure its "
                               "float32 error against a double-precision reference, then time the sizes below."));
    findButton_->setDefault(true);
    for (double t : {1e-2, 1e-3, 1e-4, 1e-5, 1e-6}) tolerance_->addItem(QStringLiteral("%1").arg(t, 0, 'g'), t);
    tolerance_->addItem(tr("any"), std::numeric_limits<double>::infinity());
    tolerance_->setCurrentIndex(1);
    tolerance_->setToolTip(tr("The fastest algorithm is named among those whose float32 result is within this max "
                              "|error| of the double-precision reference: a fast but wrong method (a low-rank product, "
                              "a 3-bit log domain) is not the one to pick."));
    message_->setWordWrap(true);

    // One Cancel for all long work, in the status bar beside the progress (a second one here was one too many).
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(findButton_);
    auto* form = new QFormLayout;
    form->addRow(tr("Operation"), operation_);
    form->addRow(shapeStack_);
    form->addRow(tr("Sizes"), sizes_);
    form->addRow(tr("Max |error|"), tolerance_);
    form->addRow(buttons);
    form->addRow(message_);
    QWidget* scroll = makeControlPanel(form, findings_);

    const QStringList headers = {tr("Algorithm"), tr("Time (ms)"), tr("GFLOP/s"), tr("Workspace"), tr("Max |error|"),
                                 tr("Note")};
    table_->setColumnCount(int(headers.size()));
    table_->setHorizontalHeaderLabels(headers);
    table_->horizontalHeaderItem(2)->setToolTip(tr("Effective: the direct definition's FLOPs over the time, as cuDNN "
                                                   "rates Winograd, FFT and low-rank products."));
    table_->horizontalHeaderItem(4)->setToolTip(tr("float32 result against the double-precision reference, data "
                                                   "uniform in [−1, 1]."));
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->verticalHeader()->setVisible(false);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setToolTip(tr("Fastest first, like cudnnFindConvolutionForwardAlgorithm; algorithms that cannot run "
                          "the shape are listed last with the reason."));

    // Stacked, each as wide as the page: algorithm names under the bars and in the legend need the width,
    // and the table needs no more height than its rows.
    auto* right = new QSplitter(Qt::Vertical);
    right->addWidget(table_);
    right->addWidget(findChart_);
    right->addWidget(scalingChart_);
    right->setStretchFactor(0, 1);
    right->setStretchFactor(1, 2);
    right->setStretchFactor(2, 2);
    // Room for the header and the conv registry's six rows without scrolling, not more.
    table_->setMinimumHeight(table_->horizontalHeader()->sizeHint().height() +
                             6 * table_->verticalHeader()->defaultSectionSize() + 2 * table_->frameWidth());

    auto* layout = new QHBoxLayout(this);
    layout->addWidget(scroll);
    layout->addWidget(right, 1);

    restoreSettings();

    connect(operation_, &QComboBox::currentIndexChanged, this, &RuntimePage::operationChanged);
    connect(findButton_, &QPushButton::clicked, this, &RuntimePage::runFind);
    connect(tolerance_, &QComboBox::currentIndexChanged, this, &RuntimePage::describeResult);
    connect(operation_, &QComboBox::currentIndexChanged, this, &RuntimePage::markIfOutOfDate);
    for (QSpinBox* box : {batch_, channels_, height_, width_, outChannels_, kernel_, matM_, matK_, matN_, rank_})
        connect(box, &QSpinBox::valueChanged, this, &RuntimePage::markIfOutOfDate);
    connect(sizes_, &QLineEdit::textChanged, this, &RuntimePage::markIfOutOfDate);
    connect(runner_, &StudyRunner::finished, this, [this](const QString&, const std::any& result) {
        showResult(result);
    });
    connect(runner_, &StudyRunner::cancelled, this, [this](const QString&) {
        if (!runner_->isRunning()) message_->setText(tr("Cancelled."));
    });
    connect(runner_, &StudyRunner::failed, this, [this](const QString&, const QString& error) {
        message_->setText(error);
        Q_EMIT statusMessage(error);
    });
    connect(runner_, &StudyRunner::progressChanged, this, [this](double fraction) {
        message_->setText(tr("Timing… %1 %").arg(int(std::lround(fraction * 100))));
    });
}

RuntimePage::~RuntimePage() { saveSettings(); }

QList<ChartPanel*> RuntimePage::charts() const { return {findChart_, scalingChart_}; }

void RuntimePage::setTaskProgress(TaskProgress* progress) { runner_->setProgressWidget(progress); }

void RuntimePage::waitForIdle() {
    // Screenshots and "Export all charts" wait for the page's result: a page never shown has not
    // measured anything yet, so its first Find runs now.
    if (!shownOnce_) runFind();
    runner_->waitForFinished();
}

study::Operation RuntimePage::currentOperation() const {
    return study::Operation::byId(operation_->currentData().toString().toStdString());
}

bool RuntimePage::isRunning() const { return runner_->isRunning(); }

void RuntimePage::showEvent(QShowEvent* event) {
    InvestigationPage::showEvent(event);
    // Benchmarks are deliberate: the first one runs when the page is first looked at, not at start-up
    // (where it would compete with the other pages' work for the cores and measure that).
    if (!shownOnce_) runFind();
}

study::RuntimeFind RuntimePage::find() const {
    study::RuntimeFind f;
    f.operation = currentOperation();
    const int r = std::min({kernel_->value(), height_->value(), width_->value()});
    f.conv = conv::ConvProblem::layer(batch_->value(), channels_->value(), height_->value(), width_->value(),
                                      outChannels_->value(), r);
    f.m = matM_->value(), f.k = matK_->value(), f.n = matN_->value();
    f.svdRank = rank_->value();
    return f;
}

study::RuntimeScaling RuntimePage::scaling() const {
    study::RuntimeScaling s;
    s.base = find();
    s.base.timing.minSeconds = 0.01;  // many points: keep each short
    s.sizes.clear();
    for (const QString& part : sizes_->text().split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        bool ok = false;
        const int v = part.trimmed().toInt(&ok);
        if (ok && v > 0 && v <= 4096) s.sizes.push_back(v);
    }
    return s;
}

void RuntimePage::runFind() {
    shownOnce_ = true;  // any run counts as the first one
    const study::RuntimeFind f = find();
    const study::RuntimeScaling s = scaling();
    if (s.sizes.empty()) {
        message_->setText(tr("Sizes: give comma-separated numbers between 1 and 4096, e.g. 32,64,128."));
        return;
    }
    message_->setText(tr("Timing…"));
    saveSettings();
    // Every Find measures afresh (a benchmark is not a cached computation): the key counts the runs.
    const QString key = q(s.key()) + QStringLiteral("#") + QString::number(++runs_);
    runner_->request(key, tr("Find"), [f, s](const Progress& progress) -> std::any {
        // One progress bar for both parts: the shape's algorithms first, then every (size, algorithm).
        const double findWeight = 1.0 / double(s.sizes.size() + 1);
        RuntimeResult r;
        r.findSpec = f;
        r.scalingSpec = s;
        r.find = study::runRuntimeFind(f, Progress([&](double x) { progress.step(x * findWeight, 1.0); }, nullptr));
        progress.check();
        r.scaling = study::runRuntimeScaling(
            s, Progress([&](double x) { progress.step(findWeight + x * (1 - findWeight), 1.0); }, nullptr));
        return r;
    });
}

void RuntimePage::cancel() {
    runner_->cancel();
    message_->setText(tr("Cancelling after the current algorithm…"));
}

void RuntimePage::operationChanged() {
    shapeStack_->setCurrentIndex(operation_->currentIndex());
    QStringList sizes;
    for (std::int64_t size : currentOperation().defaultScalingSizes()) sizes << QString::number(size);
    sizes_->setText(sizes.join(QLatin1Char(',')));
}

void RuntimePage::showResult(const std::any& result) {
    const auto& r = std::any_cast<const RuntimeResult&>(result);
    fillTable(r.find);
    findChart_->setData(r.find, study::runtimeFindChart(r.findSpec));
    findings_->setFindings(study::runtimeFindings(r.find, r.findSpec.operation.everydayAlgorithm()),
                           q(study::runtimeFindChart(r.findSpec).id + ".csv"));
    scalingChart_->setData(r.scaling, study::runtimeScalingChart(r.scalingSpec));
    shownFind_ = r.find;
    shownKey_ = q(r.findSpec.key() + "\n" + r.scalingSpec.key());
    describeResult();
    markIfOutOfDate();
}

bool RuntimePage::resultsAreCurrent() const {
    return shownFind_ && shownKey_ == q(find().key() + "\n" + scaling().key());
}

void RuntimePage::markIfOutOfDate() {
    if (!shownFind_) return;
    const bool current = resultsAreCurrent();
    const QString note = current ? QString() : tr("out of date: press Find for the shape on the left");
    findChart_->setStale(note);
    findings_->setStale(!current);
    scalingChart_->setStale(note);
    table_->setEnabled(current);  // greyed: these rows belong to another shape
    table_->setToolTip(current ? tr("Fastest first, like cudnnFindConvolutionForwardAlgorithm; algorithms that cannot "
                                    "run the shape are listed last with the reason.")
                               : note);
}

void RuntimePage::describeResult() {
    if (!shownFind_) return;
    const study::Table& t = *shownFind_;
    const auto& status = t.labels("status");
    const auto& names = t.labels("algorithm");
    const auto ran = std::count(status.begin(), status.end(), std::string("ok"));
    const double tolerance = tolerance_->currentData().toDouble();
    QString text = tr("%1 of %2 algorithms ran.").arg(ran).arg(status.size());
    if (ran > 0) {
        const std::size_t fastest = 0;  // the table is fastest first
        const auto pick = study::fastestWithinError(t, tolerance);
        const QString within = std::isinf(tolerance) ? QString() : tr(" within max |error| %1").arg(tolerance_->currentText());
        if (pick) {
            text += tr(" Fastest%1: %2 (%3 ms).").arg(within, q(names[*pick])).arg(t.numbers("median_ms")[*pick], 0, 'g', 3);
            if (*pick != fastest)
                text += tr(" Faster but outside it: %1 (%2 ms, max |error| %3).")
                            .arg(q(names[fastest]))
                            .arg(t.numbers("median_ms")[fastest], 0, 'g', 3)
                            .arg(t.numbers("max_abs_error")[fastest], 0, 'g', 3);
        } else {
            text += tr(" None is%1; the fastest, %2, has max |error| %3.")
                        .arg(within, q(names[fastest]))
                        .arg(t.numbers("max_abs_error")[fastest], 0, 'g', 3);
        }
    }
    message_->setText(text);
}

void RuntimePage::fillTable(const study::Table& t) {
    table_->setRowCount(int(t.rowCount()));
    auto number = [](double v, char format, int precision) {
        return std::isnan(v) ? QString() : QString::number(v, format, precision);
    };
    for (std::size_t r = 0; r < t.rowCount(); ++r) {
        const bool ok = t.labels("status")[r] == "ok";
        QString note = q(t.labels("note")[r]);
        if (!ok) note = q(t.labels("status")[r]) + (note.isEmpty() ? QString() : QStringLiteral(" (") + note + ')');
        const QString cells[] = {q(t.labels("algorithm")[r]),
                                 number(t.numbers("median_ms")[r], 'f', 4),
                                 number(t.numbers("gflops")[r], 'f', 2),
                                 bytesText(t.numbers("workspace_bytes")[r]),
                                 number(t.numbers("max_abs_error")[r], 'e', 2),
                                 note};
        for (int c = 0; c < int(std::size(cells)); ++c) {
            auto* item = new QTableWidgetItem(cells[c]);
            if (c >= 1 && c <= 4) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            if (!ok) item->setForeground(palette().color(QPalette::Disabled, QPalette::Text));
            if (c == 5) item->setToolTip(note);
            table_->setItem(int(r), c, item);
        }
    }
    table_->resizeColumnsToContents();
}

void RuntimePage::saveSettings() const {
    QSettings settings;
    settings.beginGroup(QLatin1String(kSettingsGroup));
    settings.setValue(QStringLiteral("operation"), operation_->currentIndex());
    const std::pair<const char*, QSpinBox*> boxes[] = {{"batch", batch_},       {"channels", channels_},
                                                       {"height", height_},     {"width", width_},
                                                       {"filters", outChannels_}, {"kernel", kernel_},
                                                       {"m", matM_},            {"k", matK_},
                                                       {"n", matN_},            {"rank", rank_}};
    for (const auto& [name, box] : boxes) settings.setValue(QLatin1String(name), box->value());
    settings.setValue(QStringLiteral("sizes"), sizes_->text());
    settings.setValue(QStringLiteral("tolerance"), tolerance_->currentIndex());
}

void RuntimePage::restoreSettings() {
    QSettings settings;
    settings.beginGroup(QLatin1String(kSettingsGroup));
    operation_->setCurrentIndex(settings.value(QStringLiteral("operation"), 0).toInt());
    operationChanged();
    const std::pair<const char*, QSpinBox*> boxes[] = {{"batch", batch_},       {"channels", channels_},
                                                       {"height", height_},     {"width", width_},
                                                       {"filters", outChannels_}, {"kernel", kernel_},
                                                       {"m", matM_},            {"k", matK_},
                                                       {"n", matN_},            {"rank", rank_}};
    for (const auto& [name, box] : boxes) box->setValue(settings.value(QLatin1String(name), box->value()).toInt());
    if (settings.contains(QStringLiteral("sizes"))) sizes_->setText(settings.value(QStringLiteral("sizes")).toString());
    const int tolerance = settings.value(QStringLiteral("tolerance"), 1).toInt();
    if (tolerance >= 0 && tolerance < tolerance_->count()) tolerance_->setCurrentIndex(tolerance);
}

}  // namespace ks::ui
