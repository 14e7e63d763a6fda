#include "pages/low_rank_page.hpp"

#include <QBuffer>
#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QImage>
#include <QImageReader>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QSlider>
#include <QSplitter>
#include <QVBoxLayout>

#include "charts/chart_panel.hpp"
#include "io/file_util.hpp"
#include "io/npy.hpp"
#include "io/ppm.hpp"
#include "qt_text.hpp"
#include "study_runner.hpp"
#include "widgets/control_panel.hpp"
#include "widgets/tensor_image.hpp"

namespace ks::ui {

namespace {

const char* kSettingsGroup = "lowrank";

QString kindLabel(study::RankInputKind kind) {
    switch (kind) {
    case study::RankInputKind::Photo: return QObject::tr("Photo (pixels × RGB)");
    case study::RankInputKind::Mnist: return QObject::tr("MNIST batch (512 × 784)");
    case study::RankInputKind::Gaussian: return QObject::tr("Gaussian (512 × 512)");
    case study::RankInputKind::Activation: return QObject::tr("Activation relu(fc1) (512 × 512)");
    case study::RankInputKind::Weights: return QObject::tr("Weights fc2 (128 × 512)");
    }
    return {};
}

QString imageViewLabel(study::ImageMatrix view) {
    switch (view) {
    case study::ImageMatrix::PixelsByChannel: return QObject::tr("pixels × RGB (rank ≤ 3)");
    case study::ImageMatrix::Grey: return QObject::tr("grey picture, H × W");
    case study::ImageMatrix::Red: return QObject::tr("red channel, H × W");
    case study::ImageMatrix::Green: return QObject::tr("green channel, H × W");
    case study::ImageMatrix::Blue: return QObject::tr("blue channel, H × W");
    }
    return {};
}

/// No photo the page analyses comes near this; a larger file is refused before it is read.
constexpr std::uint64_t kMaxImageFileBytes = std::uint64_t{256} << 20;

/// An image file as H × W × 3 in [0, 1]; empty optional and *error on failure. Read by the core's readFile first,
/// so that a FIFO or a device named like an image is refused instead of blocking or filling memory.
std::optional<TensorD> imageTensor(const QString& path, QString* error) {
    QByteArray bytes;
    try {
        const std::string data = io::readFile(QFile::encodeName(path).toStdString(), kMaxImageFileBytes);
        bytes = QByteArray(data.data(), qsizetype(data.size()));
    } catch (const std::exception& e) {
        *error = q(e.what());
        return std::nullopt;
    }
    QBuffer buffer(&bytes);
    QImageReader reader(&buffer);  // the format from the content, as the file reader decided it
    QImage image = reader.read();
    if (image.isNull()) {
        *error = QObject::tr("%1: cannot read the image (%2)").arg(QFileInfo(path).fileName(), reader.errorString());
        return std::nullopt;
    }
    image = image.convertToFormat(QImage::Format_RGB888);
    TensorD t({image.height(), image.width(), 3});
    for (int y = 0; y < image.height(); ++y) {
        const uchar* line = image.constScanLine(y);
        for (int x = 0; x < 3 * image.width(); ++x) t[std::size_t(y) * std::size_t(3 * image.width()) + std::size_t(x)] = line[x] / 255.0;
    }
    return t;
}

}  // namespace

LowRankPage::LowRankPage(QWidget* parent)
    : InvestigationPage(tr("Low rank"), tr("Error and speed-up of SVD low-rank approximations as the rank falls."), parent),
      input_(new QComboBox), imageView_(new QComboBox), open_(new QPushButton(tr("Open image/matrix…"))), description_(new QLabel),
      slider_(new QSlider(Qt::Horizontal)), rankLabel_(new QLabel), message_(new QLabel), errorChart_(new ChartPanel),
      spectrumChart_(new ChartPanel), speedupChart_(new ChartPanel), original_(new TensorImage(tr("Original"))),
      reconstruction_(new TensorImage(tr("Rank-r approximation"))), analysisRunner_(new StudyRunner(this)),
      pictureRunner_(new StudyRunner(this)), speedupRunner_(new StudyRunner(this)) {
    for (auto kind : study::rankInputKinds()) input_->addItem(kindLabel(kind), q(study::rankInputName(kind)));
    input_->setToolTip(tr("The matrix to approximate. The assignment's five kinds: a photo whose pixels are rows of "
                          "(R, G, B) — rank ≤ 3; a batch of 512 handwritten digits; a Gaussian random matrix (no "
                          "structure, so no knee); the first layer's activations of the trained network; and the "
                          "trained fc2 weight. Or open your own image or .npy matrix."));
    for (study::ImageMatrix view : study::imageMatrixViews())
        imageView_->addItem(imageViewLabel(view), q(study::imageMatrixName(view)));
    imageView_->setToolTip(tr("Which matrix an image is. The assignment's: its pixels as rows of (R, G, B), a "
                              "matrix of rank at most 3. The picture itself: an H × W matrix of grey levels (Rec. 601 "
                              "luma) or of one channel, whose rank goes up to min(H, W) — the usual \"low-rank "
                              "image\"."));
    imageView_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    imageView_->setMinimumContentsLength(18);
    input_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    input_->setMinimumContentsLength(18);
    open_->setToolTip(tr("Study your own image (.png, .jpg: its pixels become rows of RGB) or matrix (.npy, "
                         "float32/float64, 2-D; a 3-D H×W×C array is treated as an image)."));
    description_->setWordWrap(true);
    slider_->setRange(1, 1);
    slider_->setPageStep(8);
    slider_->setToolTip(tr("Rank r of the approximation A_r = U_r·Σ_r·V_rᵀ: keep the r largest singular values of "
                           "the singular value decomposition A = U·Σ·Vᵀ. By Eckart–Young no rank-r matrix is closer to "
                           "A, and the error ‖A − A_r‖_F is √(σ²_{r+1} + … ). Stored as two factors, A_r costs "
                           "r·(rows + cols) numbers instead of rows·cols. Arrow keys: ±1, Page Up/Down: ±8."));
    rankLabel_->setWordWrap(true);
    rankLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    message_->setWordWrap(true);
    message_->setTextFormat(Qt::PlainText);  // messages quote file names and names from files: never HTML
    message_->setStyleSheet(QStringLiteral("color: #b00020"));

    auto* form = new QFormLayout;
    form->addRow(tr("Input"), input_);
    form->addRow(tr("Image as"), imageView_);
    form->addRow(open_);
    form->addRow(description_);
    form->addRow(tr("Rank"), slider_);
    form->addRow(rankLabel_);
    form->addRow(message_);
    QScrollArea* scroll = makeControlPanel(form);

    auto* top = new QSplitter(Qt::Horizontal);
    top->addWidget(errorChart_);
    top->addWidget(spectrumChart_);
    auto* pictures = new QWidget;
    auto* pictureRow = new QHBoxLayout(pictures);
    pictureRow->addWidget(original_);
    pictureRow->addWidget(reconstruction_);
    auto* bottom = new QSplitter(Qt::Horizontal);
    bottom->addWidget(speedupChart_);
    bottom->addWidget(pictures);
    bottom->setStretchFactor(0, 1);
    bottom->setStretchFactor(1, 1);
    bottom->setSizes({500, 500});
    auto* right = new QSplitter(Qt::Vertical);
    right->addWidget(top);
    right->addWidget(bottom);

    auto* layout = new QHBoxLayout(this);
    layout->addWidget(scroll);
    layout->addWidget(right, 1);

    // A user's image can hold millions of pixels: keep few analyses and pictures in memory.
    analysisRunner_->setCacheLimit(8);
    pictureRunner_->setCacheLimit(16);
    // The speed-up depends on the input's shape only (timed lightly: it runs beside the UI).
    speedupSweep_.timing.minRepeats = 5;
    speedupSweep_.timing.minSeconds = 0.05;

    QSettings settings;
    settings.beginGroup(QLatin1String(kSettingsGroup));
    const int index = input_->findData(settings.value(QStringLiteral("input"), QStringLiteral("photo")));
    input_->setCurrentIndex(index >= 0 ? index : 0);
    const int view = imageView_->findData(settings.value(QStringLiteral("imageView"), QStringLiteral("pixels")));
    imageView_->setCurrentIndex(view >= 0 ? view : 0);
    wantedRank_ = settings.value(QStringLiteral("rank"), 0).toInt();

    connect(input_, &QComboBox::currentIndexChanged, this, &LowRankPage::requestAnalysis);
    connect(imageView_, &QComboBox::currentIndexChanged, this, [this] {
        wantedRank_ = 0;
        requestAnalysis();
    });
    connect(open_, &QPushButton::clicked, this, &LowRankPage::openDialog);
    connect(slider_, &QSlider::valueChanged, this, &LowRankPage::sliderMoved);
    connect(analysisRunner_, &StudyRunner::finished, this, [this](const QString& key, const std::any& result) {
        showAnalysis(key, std::any_cast<std::shared_ptr<const study::RankAnalysis>>(result));
    });
    connect(pictureRunner_, &StudyRunner::finished, this, [this](const QString&, const std::any& result) {
        const auto& [image, rank] = std::any_cast<const std::pair<TensorD, std::int64_t>&>(result);
        if (!analysis_ || rank != slider_->value()) return;  // an older rank's picture
        const bool isImage = analysis_->input().isImage() && image.rank() == 3 && image.dim(2) == 3;
        reconstruction_->setTensor(image, ImageStyle::Grey,
                                   tr("rank %1 of %2%3").arg(rank).arg(analysis_->fullRank())
                                       .arg(isImage || analysis_->input().isImage() ? QString() : tr(", as a matrix")));
    });
    connect(speedupRunner_, &StudyRunner::finished, this, [this](const QString& key, const std::any& result) {
        if (key != speedupKeyWanted_) return;  // another input's shape
        speedup_ = std::any_cast<study::SpeedupResult>(result);
        const study::Table chartTable = study::speedupChartTable(speedup_->table);
        speedupChart_->setData(chartTable, study::rankSpeedupChart(speedupSweep_, slider_->value()));
        speedupChart_->setFindings(study::citingRowsOf(study::speedupFindings(speedup_->table, speedup_->flopBreakEvenRank),
                                                       speedup_->table, chartTable, "rank"));
        sliderMoved(slider_->value());
    });
    for (StudyRunner* runner : {analysisRunner_, pictureRunner_, speedupRunner_})
        connect(runner, &StudyRunner::failed, this, [this, runner](const QString&, const QString& message) {
            showError(message);
            if (runner == analysisRunner_)
                for (ChartPanel* chart : {errorChart_, spectrumChart_}) chart->setStale(tr("not updated: %1").arg(message));
        });

    requestAnalysis();
}

void LowRankPage::requestSpeedup() {
    // The input as B (k × n) of a product with a batch of 512 rows, A·B with B factored offline: the speed-up of
    // this matrix's own shape (it was always 512×512·512×128). Started after the SVD, whose time is taken alone.
    if (!analysis_) return;
    study::SpeedupSweep sweep = speedupSweep_;
    sweep.m = 512;
    sweep.k = analysis_->rows();
    sweep.n = analysis_->cols();
    const QString key = q("speedup|" + sweep.key());
    if (key == speedupKeyWanted_) return;
    speedupSweep_ = sweep;
    speedupKeyWanted_ = key;
    speedup_.reset();
    speedupChart_->setStale(tr("updating…"));
    speedupRunner_->request(key, tr("Timing the factored product"),
                            [sweep](const Progress& progress) -> std::any { return study::runSpeedupSweep(sweep, progress); });
}

LowRankPage::~LowRankPage() {
    for (StudyRunner* runner : {analysisRunner_, pictureRunner_, speedupRunner_}) runner->cancel();
    saveSettings();
}

QList<ChartPanel*> LowRankPage::charts() const { return {errorChart_, spectrumChart_, speedupChart_}; }

void LowRankPage::setTaskProgress(TaskProgress* progress) {
    analysisRunner_->setProgressWidget(progress);
    speedupRunner_->setProgressWidget(progress);
}

void LowRankPage::waitForIdle() {
    // The analysis, once shown, asks for a picture and the timings: wait for those after it.
    analysisRunner_->waitForFinished();
    pictureRunner_->waitForFinished();
    speedupRunner_->waitForFinished();
}

QStringList LowRankPage::openableSuffixes() const {
    return {QStringLiteral("png"), QStringLiteral("jpg"), QStringLiteral("jpeg"), QStringLiteral("npy")};
}

bool LowRankPage::openFile(const QString& path, QString* error) {
    QString problem;
    const QFileInfo info(path);
    const QString suffix = info.suffix().toLower();
    std::shared_ptr<const study::RankInput> input;
    std::shared_ptr<const TensorD> raw;
    try {
        TensorD tensor;
        if (suffix == QLatin1String("npy")) {
            tensor = io::readNpy(path.toStdString()).toDouble();
        } else if (openableSuffixes().contains(suffix)) {
            auto image = imageTensor(path, &problem);
            if (!image) throw std::runtime_error(problem.toStdString());
            tensor = std::move(*image);
        } else {
            throw std::runtime_error(tr("%1: the low-rank page opens .png, .jpg and .npy files").arg(info.fileName()).toStdString());
        }
        input = std::make_shared<const study::RankInput>(study::rankInputFromTensor(info.fileName().toStdString(), tensor));
        if (input->isImage()) raw = std::make_shared<const TensorD>(std::move(tensor));  // kept instead of `input`
    } catch (const std::exception& e) {
        problem = q(e.what());
    }
    if (!input) {
        if (error) *error = problem;
        showError(problem);
        return false;
    }
    const QString key = QStringLiteral("file:%1:%2").arg(info.absoluteFilePath()).arg(info.lastModified().toMSecsSinceEpoch());
    if (raw) {
        userImages_.insert(key, UserImage{input->name, raw});
        userInputs_.remove(key);
    } else {
        userInputs_.insert(key, input);
        userImages_.remove(key);
    }
    int index = input_->findData(key);
    if (index < 0) {
        input_->addItem(tr("File: %1").arg(info.fileName()), key);
        index = input_->count() - 1;
    }
    wantedRank_ = 0;
    if (input_->currentIndex() == index) requestAnalysis();
    else input_->setCurrentIndex(index);
    return true;
}

void LowRankPage::openDialog() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open image or matrix"), QString(),
                                                      tr("Images and matrices (*.png *.jpg *.jpeg *.npy)"));
    if (path.isEmpty()) return;
    QString error;
    openFile(path, &error);
}

std::size_t LowRankPage::heldUserNumbers() const {
    std::size_t n = 0;
    for (const auto& input : userInputs_) n += input->matrix.size();
    for (const auto& image : userImages_) n += image.pixels->size();
    return n;
}

bool LowRankPage::currentInputIsImage() const {
    const QString key = input_->currentData().toString();
    return key == QString::fromStdString(study::rankInputName(study::RankInputKind::Photo)) || userImages_.contains(key);
}

QString LowRankPage::analysisKeyWanted() const {
    const QString key = input_->currentData().toString();
    return currentInputIsImage() ? key + QStringLiteral("|") + imageView_->currentData().toString() : key;
}

void LowRankPage::requestAnalysis() {
    const QString key = input_->currentData().toString();
    const bool image = currentInputIsImage();
    imageView_->setEnabled(image);
    const study::ImageMatrix view = study::parseImageMatrix(imageView_->currentData().toString().toStdString());
    std::function<study::RankInput()> make;
    if (const auto it = userImages_.constFind(key); it != userImages_.constEnd()) {
        const std::shared_ptr<const TensorD> raw = it.value().pixels;
        const std::string name = it.value().name;
        make = [raw, name, view] { return study::imageRankInput(name, *raw, view); };
    } else if (const auto user = userInputs_.constFind(key); user != userInputs_.constEnd()) {
        const std::shared_ptr<const study::RankInput> input = user.value();
        make = [input] { return *input; };
    } else {
        const study::RankInputKind kind = study::parseRankInputKind(key.toStdString());
        if (image && view != study::ImageMatrix::PixelsByChannel)  // the photo itself as an H × W matrix
            make = [view] { return study::imageRankInput("photo", io::embeddedPhoto(), view); };
        else
            make = [kind] { return study::makeRankInput(kind, 1); };
    }
    message_->clear();
    for (ChartPanel* chart : {errorChart_, spectrumChart_}) chart->setStale(tr("updating…"));
    for (TensorImage* picture : {original_, reconstruction_}) picture->setStale(true);
    analysisRunner_->request(analysisKeyWanted(), tr("Singular value decomposition"), [make](const Progress& progress) -> std::any {
        progress.check();
        return std::shared_ptr<const study::RankAnalysis>(std::make_shared<study::RankAnalysis>(make()));
    });
    saveSettings();
}

void LowRankPage::showAnalysis(const QString& key, std::shared_ptr<const study::RankAnalysis> analysis) {
    if (key != analysisKeyWanted()) return;  // the user has moved on
    analysis_ = std::move(analysis);
    analysisKey_ = key;
    description_->setText(tr("%1<br>‖A‖_F = %2; SVD took %3 ms")
                              .arg(q(analysis_->input().description).toHtmlEscaped())
                              .arg(analysis_->frobeniusNorm(), 0, 'g', 4)
                              .arg(analysis_->decompositionSeconds() * 1e3, 0, 'f', 1));
    const std::vector<const study::RankAnalysis*> one{analysis_.get()};
    {
        QSignalBlocker block(slider_);
        slider_->setRange(1, int(analysis_->fullRank()));
        slider_->setPageStep(std::max(1, int(analysis_->fullRank() / 16)));
        const int wanted = wantedRank_ > 0 ? wantedRank_ : std::max(1, int(analysis_->fullRank() / 8));
        slider_->setValue(std::clamp(wanted, 1, int(analysis_->fullRank())));
        wantedRank_ = 0;
    }
    const study::Table errors = study::rankErrorTable(one);
    const std::string caption = study::describeInputs(one);
    errorChart_->setData(errors, study::rankErrorChart(slider_->value(), caption));
    errorChart_->setFindings(
        study::rankFindings(errors, {{analysis_->input().name, analysis_->rows(), analysis_->cols()}}));
    spectrumChart_->setData(study::spectrumTable(one), study::rankSpectrumChart(caption));
    if (analysis_->input().isImage()) {
        original_->setTensor(analysis_->image(), ImageStyle::Grey, q(analysis_->input().name));
    } else {
        original_->setTensor(analysis_->input().matrix, ImageStyle::Grey,
                             tr("%1 × %2 matrix").arg(analysis_->rows()).arg(analysis_->cols()));
    }
    sliderMoved(slider_->value());
    requestSpeedup();
}

void LowRankPage::sliderMoved(int rank) {
    errorChart_->setCurrentX(double(rank));
    speedupChart_->setCurrentX(double(rank));
    if (!analysis_) return;
    QString speed;
    if (speedup_ && rank <= std::min(speedupSweep_.k, speedupSweep_.n))
        speed = tr("<br>Factored (%1×%2)·(%2×%3) at rank %4: %5× fewer FLOPs")
                    .arg(speedupSweep_.m).arg(speedupSweep_.k).arg(speedupSweep_.n).arg(rank)
                    .arg(study::flopModelSpeedup(speedupSweep_.k, speedupSweep_.n, rank), 0, 'g', 3);
    rankLabel_->setText(tr("<b>rank %1</b> of %2: relative error %3, energy kept %4 %<br>storage %5 of %6 numbers%7")
                            .arg(rank).arg(analysis_->fullRank())
                            .arg(analysis_->relativeError(rank), 0, 'g', 3)
                            .arg(100.0 * analysis_->energyKept(rank), 0, 'f', 2)
                            .arg(qlonglong(rank) * (analysis_->rows() + analysis_->cols()))
                            .arg(qlonglong(analysis_->rows()) * analysis_->cols())
                            .arg(speed));
    requestPicture();
    saveSettings();
}

void LowRankPage::requestPicture() {
    if (!analysis_) return;
    const std::shared_ptr<const study::RankAnalysis> analysis = analysis_;
    const std::int64_t rank = slider_->value();
    pictureRunner_->request(analysisKey_ + QStringLiteral("|%1").arg(rank), tr("Rank-%1 picture").arg(rank),
                            [analysis, rank](const Progress&) -> std::any {
                                TensorD picture = analysis->input().isImage() ? analysis->reconstructImage(rank)
                                                                              : analysis->reconstruct(rank);
                                return std::pair<TensorD, std::int64_t>(std::move(picture), rank);
                            });
}

void LowRankPage::showError(const QString& message) {
    message_->setText(message);
    Q_EMIT statusMessage(message);
}

void LowRankPage::saveSettings() const {
    QSettings settings;
    settings.beginGroup(QLatin1String(kSettingsGroup));
    // Only the built-in inputs are remembered: a user's file may be gone next time.
    if (const QString key = input_->currentData().toString(); !userInputs_.contains(key) && !userImages_.contains(key))
        settings.setValue(QStringLiteral("input"), input_->currentData());
    settings.setValue(QStringLiteral("imageView"), imageView_->currentData());
    if (analysis_) settings.setValue(QStringLiteral("rank"), slider_->value());
}

}  // namespace ks::ui
