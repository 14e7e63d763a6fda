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

/// A 2-D tensor (H×W) or an RGB image (H×W×3, values in [0, 1]) as an image, one pixel per element.
QImage tensorToImage(const TensorD& tensor, ImageStyle style);

class TensorImage : public QWidget {
    Q_OBJECT
public:
    explicit TensorImage(const QString& caption, QWidget* parent = nullptr);
    void setTensor(const TensorD& tensor, ImageStyle style, const QString& detail = {});
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
    QImage image_;
    bool stale_ = false;
};

}  // namespace ks::ui
