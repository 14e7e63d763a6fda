#pragma once
// Pictures of matrices: a grey-scale image of values, or a diverging heat map of signed errors
// (blue below zero, red above, white at zero), scaled to fit, with a caption.
#include <QImage>
#include <QWidget>

#include "base/tensor.hpp"

class QLabel;

namespace ks::ui {

enum class ImageStyle {
    Grey,       ///< min → black, max → white
    Diverging,  ///< symmetric around zero: −m blue, 0 white, +m red
};

/// How a diverging picture maps a value's size to colour. Scaled to the picture's own largest |value|, an error map
/// at 1 bit and one at 9 bits look alike (each is full red and blue somewhere); on the fixed logarithmic scale the
/// same colour is the same error in every picture.
struct DivergingScale {
    enum class Kind {
        PictureMaximum,  ///< |v| / max |v| of this picture, linear
        FixedLog,        ///< log10 |v| between log10 logMin (white) and log10 logMax (full colour)
    };
    Kind kind = Kind::PictureMaximum;
    double logMin = 1e-8, logMax = 1;
};

/// A diverging colour: red above zero, blue below, white at zero (or at |v| ≤ logMin on the log scale), full at
/// |v| = magnitude (linear) or ≥ logMax (log); magenta for a non-finite value.
QColor divergingColour(double v, double magnitude, const DivergingScale& scale);

/// A 2-D tensor (H×W) or an RGB image (H×W×3, values in [0, 1]) as an image, one pixel per element.
QImage tensorToImage(const TensorD& tensor, ImageStyle style, const DivergingScale& scale = {});

class TensorImage : public QWidget {
    Q_OBJECT
public:
    explicit TensorImage(const QString& caption, QWidget* parent = nullptr);
    void setTensor(const TensorD& tensor, ImageStyle style, const QString& detail = {});
    /// The colour scale of diverging pictures (redrawn at once); a colour bar beside the picture shows it.
    void setScale(const DivergingScale& scale);
    const DivergingScale& scale() const { return scale_; }
    /// The colour bar's labels, top to bottom (empty for grey pictures): "+0.0123", "0", "−0.0123", or the log
    /// scale's "+1", "+1e-4", "0", "−1e-4", "−1".
    QStringList colourBarLabels() const;
    void clear(const QString& message = {});
    /// A picture whose inputs changed and whose new one is being computed: drawn faded, captioned so.
    void setStale(bool stale);
    bool isStale() const { return stale_; }
    const QImage& image() const { return image_; }
    QString detail() const { return detail_; }

protected:
    void paintEvent(QPaintEvent* event) override;
    QSize sizeHint() const override { return {200, 200}; }

private:
    QString caption_, detail_;
    TensorD tensor_;
    ImageStyle style_ = ImageStyle::Grey;
    DivergingScale scale_;
    double magnitude_ = 0;  ///< the picture's largest finite |value|
    QImage image_;
    bool stale_ = false;
};

}  // namespace ks::ui
