#pragma once
// A grid of handwritten digits with the network's prediction under each; mistakes framed in red
// with the true label beside the prediction.
#include <QImage>
#include <QList>
#include <QWidget>

namespace ks::ui {

class DigitGrid : public QWidget {
    Q_OBJECT
public:
    struct Digit {
        QImage image;  ///< grey-scale, e.g. 28×28
        int label = 0;
        int predicted = 0;
    };

    explicit DigitGrid(QWidget* parent = nullptr);
    void setDigits(QList<Digit> digits);
    void setCaption(const QString& caption);
    const QList<Digit>& digits() const { return digits_; }
    int mistakes() const;

    /// 8-bit grey pixels (rows×cols, row-major) as an image.
    static QImage greyImage(const unsigned char* pixels, int rows, int cols);

protected:
    void paintEvent(QPaintEvent* event) override;
    QSize sizeHint() const override { return {360, 300}; }
    QSize minimumSizeHint() const override { return {200, 150}; }

private:
    QList<Digit> digits_;
    QString caption_;
};

}  // namespace ks::ui
