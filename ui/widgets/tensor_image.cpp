#include "widgets/tensor_image.hpp"

#include <QPainter>

#include <algorithm>
#include <cmath>

namespace ks::ui {

QImage tensorToImage(const TensorD& t, ImageStyle style) {
    if (t.rank() < 2 || t.empty()) return {};
    const bool rgb = t.rank() == 3 && t.dim(2) == 3;
    const int h = int(t.dim(0)), w = int(t.dim(1));
    QImage image(w, h, QImage::Format_RGB32);
    if (rgb) {
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) {
                auto c = [&](int ch) { return std::clamp(int(std::lround(t[(std::size_t(y) * w + x) * 3 + ch] * 255)), 0, 255); };
                image.setPixel(x, y, qRgb(c(0), c(1), c(2)));
            }
        return image;
    }
    double lo = INFINITY, hi = -INFINITY;
    for (std::size_t i = 0; i < std::size_t(h) * w; ++i)
        if (std::isfinite(t[i])) lo = std::min(lo, t[i]), hi = std::max(hi, t[i]);
    const double magnitude = std::max(std::fabs(lo), std::fabs(hi));
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            const double v = t[std::size_t(y) * w + x];
            if (!std::isfinite(v)) {
                image.setPixel(x, y, qRgb(255, 0, 255));  // magenta: overflow / NaN
                continue;
            }
            if (style == ImageStyle::Grey) {
                const int g = hi > lo ? int(std::lround(255 * (v - lo) / (hi - lo))) : 128;
                image.setPixel(x, y, qRgb(g, g, g));
            } else {
                const double s = magnitude > 0 ? std::clamp(v / magnitude, -1.0, 1.0) : 0.0;
                const int fade = int(std::lround(255 * (1 - std::fabs(s))));
                image.setPixel(x, y, s >= 0 ? qRgb(255, fade, fade) : qRgb(fade, fade, 255));
            }
        }
    return image;
}

TensorImage::TensorImage(const QString& caption, QWidget* parent) : QWidget(parent), caption_(caption) {
    setMinimumSize(120, 120);
}

void TensorImage::setTensor(const TensorD& tensor, ImageStyle style, const QString& detail) {
    image_ = tensorToImage(tensor, style);
    detail_ = detail;
    stale_ = false;
    update();
}

void TensorImage::clear(const QString& message) {
    image_ = QImage();
    detail_ = message;
    stale_ = false;
    update();
}

void TensorImage::setStale(bool stale) {
    if (stale_ == stale) return;
    stale_ = stale;
    update();
}

void TensorImage::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    const int captionHeight = fontMetrics().height() * 2 + 4;
    const QRect area = rect().adjusted(2, 2, -2, -captionHeight);
    if (!image_.isNull()) {
        QSize size = image_.size().scaled(area.size(), Qt::KeepAspectRatio);
        const QRect target(area.center() - QPoint(size.width() / 2, size.height() / 2), size);
        painter.setOpacity(stale_ ? 0.35 : 1.0);
        painter.drawImage(target, image_);  // nearest-neighbour: each element stays a visible cell
        painter.setOpacity(1.0);
        painter.setPen(palette().color(QPalette::Mid));
        painter.drawRect(target.adjusted(0, 0, -1, -1));
    }
    painter.setPen(palette().color(QPalette::WindowText));
    const QRect text(0, height() - captionHeight, width(), captionHeight);
    const QString detail = stale_ ? tr("updating…") : detail_;
    painter.drawText(text, Qt::AlignHCenter | Qt::AlignTop | Qt::TextWordWrap,
                     detail.isEmpty() ? caption_ : caption_ + QLatin1Char('\n') + detail);
}

}  // namespace ks::ui
