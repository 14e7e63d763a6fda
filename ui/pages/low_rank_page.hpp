#pragma once
// Low rank: how well a matrix is approximated by rank r (Eckart–Young), its singular spectrum, and
// what a factored operand saves in a product. One SVD per input (in the background, cached); the
// rank slider then only moves markers and recomputes the rank-r picture.
#include <QHash>
#include <memory>
#include <optional>

#include "pages/investigation_page.hpp"
#include "study/rank_study.hpp"

class QComboBox;
class QLabel;
class QPushButton;
class QSlider;

namespace ks::ui {

class StudyRunner;
class TensorImage;

class LowRankPage : public InvestigationPage {
    Q_OBJECT
public:
    explicit LowRankPage(QWidget* parent = nullptr);
    ~LowRankPage() override;

    QList<ChartPanel*> charts() const override;
    void setTaskProgress(TaskProgress* progress) override;
    void waitForIdle() override;
    QStringList openableSuffixes() const override;
    /// .png/.jpg/.jpeg (an image, pixels × RGB) or .npy (a matrix, or H × W × C image). On failure the
    /// page keeps its input, rank and charts and *error says what is wrong with the file.
    bool openFile(const QString& path, QString* error) override;

    QComboBox* inputBox() const { return input_; }
    /// How an image is studied (study::ImageMatrix): pixels × RGB, or the H × W picture grey or per channel.
    QComboBox* imageViewBox() const { return imageView_; }
    QSlider* rankSlider() const { return slider_; }
    QLabel* rankLabel() const { return rankLabel_; }
    QLabel* messageLabel() const { return message_; }
    /// Numbers held for the files the user opened (each image once, as read; each matrix once).
    std::size_t heldUserNumbers() const;
    ChartPanel* errorChart() const { return errorChart_; }
    ChartPanel* spectrumChart() const { return spectrumChart_; }
    ChartPanel* speedupChart() const { return speedupChart_; }
    TensorImage* originalImage() const { return original_; }
    TensorImage* reconstructionImage() const { return reconstruction_; }
    /// The analysis shown now (null until the first SVD is done).
    std::shared_ptr<const study::RankAnalysis> analysis() const { return analysis_; }

private:
    void openDialog();
    void requestAnalysis();
    /// The input box's key, and for images the view: what the shown analysis must have been made of.
    QString analysisKeyWanted() const;
    bool currentInputIsImage() const;
    void showAnalysis(const QString& key, std::shared_ptr<const study::RankAnalysis> analysis);
    void sliderMoved(int rank);
    void requestPicture();
    void requestSpeedup();
    void showError(const QString& message);
    void saveSettings() const;

    QComboBox* input_;
    QComboBox* imageView_;
    QPushButton* open_;
    QLabel* description_;
    QSlider* slider_;
    QLabel* rankLabel_;
    QLabel* message_;
    ChartPanel* errorChart_;
    ChartPanel* spectrumChart_;
    ChartPanel* speedupChart_;
    TensorImage* original_;
    TensorImage* reconstruction_;
    StudyRunner* analysisRunner_;
    StudyRunner* pictureRunner_;
    StudyRunner* speedupRunner_;
    study::SpeedupSweep speedupSweep_;
    std::optional<study::SpeedupResult> speedup_;
    /// Matrices the user opened (.npy), by their key in the input box.
    QHash<QString, std::shared_ptr<const study::RankInput>> userInputs_;
    /// Images the user opened, by their key: only as read (H × W × C); each view's matrix is made from it when
    /// analysed, so that a large photo is held once, not also as its pixels × channels copy.
    struct UserImage {
        std::string name;
        std::shared_ptr<const TensorD> pixels;
    };
    QHash<QString, UserImage> userImages_;
    std::shared_ptr<const study::RankAnalysis> analysis_;
    QString analysisKey_;
    int wantedRank_ = 0;
    QString speedupKeyWanted_;  ///< the timing of the shape shown; older results are dropped
};

}  // namespace ks::ui
