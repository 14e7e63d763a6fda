#include "pages/layers_page.hpp"

#include <algorithm>

#include <QAction>
#include <QClipboard>
#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeyEvent>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QSpinBox>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include "charts/chart_panel.hpp"
#include "conv/conv_registry.hpp"
#include "io/file_util.hpp"
#include "io/mnist.hpp"
#include "io/printable.hpp"
#include "models/layer_table_model.hpp"
#include "nn/model_io.hpp"
#include "numeric/compute_spec.hpp"
#include "qt_text.hpp"
#include "study_runner.hpp"
#include "widgets/control_panel.hpp"

namespace ks::ui {

namespace {

const char* kSettingsGroup = "layers";
/// Chosen in the algorithm box for "the fastest algorithm per Conv node" (nn::fastestConvAlgorithms).
const char* kFind = "find";

/// The first `count` embedded test digits of a stratified subset (every class in proportion), normalised.
struct Digits {
    nn::MatrixF images;
    std::vector<std::uint8_t> labels;
};
Digits testDigits(std::size_t count) {
    static const io::DigitSet test = io::embeddedSplit().test;
    const auto mask = io::stratifiedTestMask(test.labels, std::min(count, test.count()));
    std::vector<std::size_t> keep;
    for (std::size_t i = 0; i < mask.size(); ++i)
        if (mask[i]) keep.push_back(i);
    const io::DigitSet subset = test.subset(keep);
    return {nn::toMatrix(subset.normalisedImages()), subset.labels};
}

}  // namespace

LayersPage::LayersPage(QWidget* parent)
    : InvestigationPage(tr("Layers"),
                        tr("Any digit network layer by layer — your own ONNX model too: what each layer costs, and the error "
                           "its output carries under a number format, a conv algorithm and a rank."),
                        parent),
      modelLabel_(new QLabel), openButton_(new QPushButton(tr("Open model…"))),
      embeddedButton_(new QPushButton(tr("Embedded MLP"))), embeddedCnnButton_(new QPushButton(tr("Embedded CNN"))),
      compute_(new QComboBox), convAlgorithm_(new QComboBox), rank_(new QSpinBox), digits_(new QSpinBox), summary_(new QLabel),
      message_(new QLabel), saveTable_(new QPushButton(tr("Save table as CSV…"))), table_(new QTableView), model_(new LayerTableModel(this)), errorChart_(new ChartPanel),
      timeChart_(new ChartPanel), runner_(new StudyRunner(this)) {
    modelLabel_->setWordWrap(true);
    modelLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    openButton_->setToolTip(tr("An ONNX model of a CNN or MLP (PyTorch's torch.onnx.export), or a weight file the Network "
                               "page reads. Its input must be 28×28 digits (784 values), normalised as (x/255 − 0.1307)/0.3081."));
    for (const char* spec : {"native", "fp16", "bf16", "fp16/fp32", "bf16/fp32", "e4m3/fp32", "e5m2/fp32", "e4m3", "e5m2",
                             "mxfp8-e4m3/fp32", "mxfp4/fp32", "nvfp4/fp32", "hopper-fp8", "volta-fp16-tc", "fp16:sr"})
        compute_->addItem(QString::fromLatin1(spec), QString::fromLatin1(spec));
    compute_->setCurrentIndex(compute_->findData(QStringLiteral("e4m3/fp32")));  // FP8 storage, float32 sums: today's question
    compute_->setToolTip(tr("The arithmetic every Conv and Linear layer runs in (storage / accumulation, as in "
                            "`kernelscope-cli formats`); native is float32."));
    for (const conv::ConvAlgorithm* a : conv::convAlgorithms())
        convAlgorithm_->addItem(q(a->name()), q(a->name()));
    convAlgorithm_->addItem(tr("fastest per layer"), QString::fromLatin1(kFind));
    convAlgorithm_->setToolTip(tr("The algorithm of every Conv layer, or the fastest for each one (timed on 64 digits). "
                                  "An algorithm that cannot run a layer (Winograd on a 5×5 kernel) says so."));
    rank_->setRange(0, 4096);
    rank_->setSpecialValueText(tr("full"));
    rank_->setToolTip(tr("Every Conv and Linear layer truncated to this rank by SVD (a Conv's K × C·R·S matrix becomes an "
                         "R×S conv to r channels and a 1×1 conv); full keeps them as they are."));
    digits_->setRange(50, 2000);
    digits_->setSingleStep(50);
    digits_->setValue(500);
    digits_->setToolTip(tr("Embedded test digits the network classifies (a stratified subset)."));
    for (QLabel* l : {summary_, message_}) l->setWordWrap(true);
    message_->setStyleSheet(QStringLiteral("color: #b00020"));
    table_->setModel(model_);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setAlternatingRowColors(true);
    table_->verticalHeader()->hide();
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    auto* copy = new QAction(tr("Copy rows"), table_);
    copy->setShortcut(QKeySequence::Copy);
    copy->setShortcutContext(Qt::WidgetShortcut);
    table_->addAction(copy);
    table_->setContextMenuPolicy(Qt::ActionsContextMenu);
    connect(copy, &QAction::triggered, this, [this] { QGuiApplication::clipboard()->setText(selectedRowsText()); });
    table_->installEventFilter(this);
    saveTable_->setEnabled(false);
    saveTable_->setToolTip(tr("Every column of the layer table, with the network and the setting at its head (pandas: "
                              "read_csv(path, comment=\"#\")). Ctrl+C on the table copies its selected rows."));

    auto* buttons = new QHBoxLayout;
    buttons->addWidget(embeddedButton_);
    buttons->addWidget(embeddedCnnButton_);
    auto* form = new QFormLayout;
    form->addRow(modelLabel_);
    form->addRow(openButton_);
    form->addRow(buttons);
    form->addRow(tr("Compute"), compute_);
    form->addRow(tr("Conv algorithm"), convAlgorithm_);
    form->addRow(tr("Rank"), rank_);
    form->addRow(tr("Test digits"), digits_);
    form->addRow(summary_);
    form->addRow(saveTable_);
    form->addRow(message_);

    auto* charts = new QSplitter(Qt::Horizontal);
    charts->addWidget(errorChart_);
    charts->addWidget(timeChart_);
    auto* right = new QSplitter(Qt::Vertical);
    right->addWidget(table_);
    right->addWidget(charts);
    right->setStretchFactor(0, 1);
    right->setStretchFactor(1, 1);
    auto* layout = new QHBoxLayout(this);
    layout->addWidget(makeControlPanel(form));
    layout->addWidget(right, 1);

    restoreSettings();
    connect(openButton_, &QPushButton::clicked, this, [this] {
        QSettings settings;
        const QString path = QFileDialog::getOpenFileName(this, tr("Open a model"), settings.value(QStringLiteral("paths/models")).toString(),
                                                          tr("ONNX models (*.onnx);;Weight files (*.pt *.pth *.safetensors *.npz);;All files (*)"));
        if (path.isEmpty()) return;
        settings.setValue(QStringLiteral("paths/models"), QFileInfo(path).absolutePath());
        QString error;
        openFile(path, &error);
    });
    connect(saveTable_, &QPushButton::clicked, this, [this] {
        QSettings settings;
        const QString path = QFileDialog::getSaveFileName(this, tr("Save the layer table"),
                                                          QDir(settings.value(QStringLiteral("paths/tables")).toString())
                                                              .filePath(QStringLiteral("layers.csv")),
                                                          tr("CSV files (*.csv)"));
        if (path.isEmpty()) return;
        settings.setValue(QStringLiteral("paths/tables"), QFileInfo(path).absolutePath());
        QString error;
        if (saveTable(path, &error)) Q_EMIT statusMessage(tr("Saved %1").arg(QFileInfo(path).fileName()));
    });
    connect(embeddedButton_, &QPushButton::clicked, this, [this] { openEmbedded(QStringLiteral("embedded")); });
    connect(embeddedCnnButton_, &QPushButton::clicked, this, [this] { openEmbedded(QStringLiteral("embedded-cnn")); });
    for (QComboBox* box : {compute_, convAlgorithm_})
        connect(box, &QComboBox::currentIndexChanged, this, [this] {
            saveSettings();
            request();
        });
    for (QSpinBox* box : {rank_, digits_})
        connect(box, &QSpinBox::valueChanged, this, [this] {
            saveSettings();
            request();
        });
    connect(runner_, &StudyRunner::finished, this, [this](const QString& key, const std::any& result) {
        if (key.startsWith(key_ + QLatin1Char('|'))) showResult(std::any_cast<const study::LayerTableResult&>(result));
    });
    connect(runner_, &StudyRunner::failed, this, [this](const QString&, const QString& error) { showProblem(error); });
    connect(runner_, &StudyRunner::cancelled, this, [this](const QString&) {
        if (!runner_->isRunning()) message_->setText(tr("Cancelled: change a setting to run again."));
    });
    openEmbedded(QStringLiteral("embedded-cnn"));
}

LayersPage::~LayersPage() = default;  // the runner (a child) cancels and waits for its job itself

QList<ChartPanel*> LayersPage::charts() const { return {errorChart_, timeChart_}; }
void LayersPage::setTaskProgress(TaskProgress* progress) { runner_->setProgressWidget(progress); }
void LayersPage::waitForIdle() { runner_->waitForFinished(); }
QStringList LayersPage::openableSuffixes() const { return {QStringLiteral("onnx")}; }

bool LayersPage::openFile(const QString& path, QString* error) {
    const std::string file = QFileInfo(path).fileName().toStdString();
    try {
        auto graph = std::make_shared<const nn::Graph>(nn::loadGraph(path.toStdString()));
        if (graph->inputFeatures() != 784)
            throw nn::ModelError(file + ": the network takes " + graph->inputShape().toString() +
                                 " inputs; this page runs it on 28×28 digits (784 values)");
        setGraph(std::move(graph), q(io::printable(file)), QStringLiteral("file:") + QFileInfo(path).absoluteFilePath());
        Q_EMIT statusMessage(tr("Opened %1").arg(q(io::printable(file))));
        return true;
    } catch (const std::exception& e) {
        std::string text = e.what();
        if (text.find(file) == std::string::npos) text = file + ": " + text;
        const QString shown = q(io::printable(text));
        showProblem(shown);
        if (error) *error = shown;
        return false;
    }
}

void LayersPage::openEmbedded(const QString& source) {
    try {
        auto graph = std::make_shared<const nn::Graph>(nn::loadGraph(source.toStdString()));
        setGraph(std::move(graph), source == QLatin1String("embedded") ? tr("Embedded pretrained MLP") : tr("Embedded pretrained CNN"),
                 source);
    } catch (const std::exception& e) {
        showProblem(q(e.what()));
    }
}

void LayersPage::setGraph(std::shared_ptr<const nn::Graph> graph, const QString& name, const QString& key) {
    graph_ = std::move(graph);
    name_ = name;
    key_ = key;
    modelLabel_->setText(QStringLiteral("<b>%1</b><br>%2").arg(name.toHtmlEscaped(), q(graph_->describe()).toHtmlEscaped()));
    result_.reset();
    model_->setTable({});
    message_->clear();
    request();
}

void LayersPage::request() {
    if (!graph_) return;
    const QString spec = compute_->currentData().toString(), algorithm = convAlgorithm_->currentData().toString();
    const int rank = rank_->value(), digits = digits_->value();
    const QString key = QStringLiteral("%1|%2|%3|%4|%5").arg(key_, spec, algorithm).arg(rank).arg(digits);
    message_->setText(tr("Computing…"));
    for (ChartPanel* chart : charts()) chart->setStale(tr("updating…"));
    const std::shared_ptr<const nn::Graph> graph = graph_;
    runner_->request(key, tr("Layers of %1").arg(name_), [graph, spec, algorithm, rank, digits](const Progress& progress) -> std::any {
        const nn::Graph run = rank > 0 ? graph->withRanks({{"all", rank}}) : *graph;
        const Digits d = testDigits(std::size_t(digits));
        study::LayerTableOptions options;
        options.spec = numeric::parseComputeSpec(spec.toStdString());
        options.timingRepeats = 3;
        if (algorithm == QLatin1String(kFind))
            options.run.convAlgorithmByNode = nn::fastestConvAlgorithms(run, std::min<std::int64_t>(64, d.images.rows()));
        else
            options.run.inference.convAlgorithm = algorithm.toStdString();
        const std::vector<std::uint8_t> labels = run.outputFeatures() == 10 ? d.labels : std::vector<std::uint8_t>{};
        return study::layerTable(run, d.images, labels, options, progress);
    });
}

void LayersPage::showResult(const study::LayerTableResult& r) {
    result_ = r;
    saveTable_->setEnabled(true);
    message_->clear();
    model_->setTable(r.layers);
    const QString spec = compute_->currentData().toString();
    QString text = tr("Whole network on %1 digits: float32 %2 ms").arg(digits_->value()).arg(r.float32Ms, 0, 'f', 1);
    if (spec != QLatin1String("native")) text += tr(", %1 %2 ms").arg(spec).arg(r.specMs, 0, 'f', 1);
    text += tr(". Output error %1, top-1 agreement with float32 %2 %.").arg(r.outputRelError, 0, 'e', 2).arg(r.top1Agreement * 100, 0, 'f', 1);
    if (r.float32Accuracy)
        text += tr(" Accuracy: float32 %1 %, %2 %3 %.").arg(*r.float32Accuracy * 100, 0, 'f', 1).arg(spec).arg(*r.specAccuracy * 100, 0, 'f', 1);
    summary_->setText(text);
    const std::string caption = settingCaption();
    const study::Table products = study::productRows(r.layers);
    errorChart_->setData(products, study::layerErrorChart(caption));
    timeChart_->setData(products, study::layerTimeChart(caption));
}

bool LayersPage::eventFilter(QObject* watched, QEvent* event) {
    if (watched == table_ && event->type() == QEvent::KeyPress && static_cast<QKeyEvent*>(event)->matches(QKeySequence::Copy)) {
        QGuiApplication::clipboard()->setText(selectedRowsText());
        return true;
    }
    return InvestigationPage::eventFilter(watched, event);
}

std::string LayersPage::settingCaption() const {
    return name_.toStdString() + ", " + compute_->currentData().toString().toStdString() + ", conv " +
           convAlgorithm_->currentText().toStdString() +
           (rank_->value() > 0 ? ", rank " + std::to_string(rank_->value()) : std::string()) + ", " +
           std::to_string(digits_->value()) + " test digits";
}

bool LayersPage::saveTable(const QString& path, QString* error) {
    if (!result_) return false;
    try {
        const std::string csv = result_->layers.toCsv({"Layers of " + settingCaption(), graph_->describe()});
        io::writeFileAtomically(path.toStdString(), csv);
        return true;
    } catch (const std::exception& e) {
        const QString text = q(io::printable(e.what()));
        showProblem(text);
        if (error) *error = text;
        return false;
    }
}

QString LayersPage::selectedRowsText() const {
    QList<int> rows;
    for (const QModelIndex& index : table_->selectionModel()->selectedRows()) rows << index.row();
    if (rows.isEmpty())
        for (int r = 0; r < model_->rowCount(); ++r) rows << r;
    std::sort(rows.begin(), rows.end());
    QStringList lines, header;
    for (int c = 0; c < model_->columnCount(); ++c) header << model_->headerData(c, Qt::Horizontal).toString();
    lines << header.join(QLatin1Char('\t'));
    for (int r : rows) {
        QStringList cells;
        for (int c = 0; c < model_->columnCount(); ++c) cells << model_->index(r, c).data().toString();
        lines << cells.join(QLatin1Char('\t'));
    }
    return lines.join(QLatin1Char('\n')) + QLatin1Char('\n');
}

void LayersPage::showProblem(const QString& text) {
    message_->setText(text);
    Q_EMIT statusMessage(text);
}

void LayersPage::saveSettings() const {
    QSettings settings;
    settings.beginGroup(QLatin1String(kSettingsGroup));
    settings.setValue(QStringLiteral("compute"), compute_->currentData());
    settings.setValue(QStringLiteral("convAlgorithm"), convAlgorithm_->currentData());
    settings.setValue(QStringLiteral("rank"), rank_->value());
    settings.setValue(QStringLiteral("digits"), digits_->value());
}

void LayersPage::restoreSettings() {
    QSettings settings;
    settings.beginGroup(QLatin1String(kSettingsGroup));
    const auto restore = [&](QComboBox* box, const char* key) {
        const int i = box->findData(settings.value(QLatin1String(key)));
        if (i >= 0) box->setCurrentIndex(i);
    };
    restore(compute_, "compute");
    restore(convAlgorithm_, "convAlgorithm");
    rank_->setValue(settings.value(QStringLiteral("rank"), 0).toInt());
    digits_->setValue(settings.value(QStringLiteral("digits"), 500).toInt());
}

}  // namespace ks::ui
