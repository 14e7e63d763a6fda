#include "widgets/tensor_image.hpp"

#include <QPainter>
#include <QStringList>

#include <algorithm>
#include <cmath>

namespace ks::ui {

namespace {
double largestMagnitude(const TensorD& t) {
    double m = 0;
    for (double v : t.storage())
        if (std::isfinite(v)) m = std::max(m, std::fabs(v));
    return m;
}

/// "1e-4", "0.0123": short enough for a colour bar's side.
QString shortNumber(double v) { return QString::number(v, 'g', 3); }
}  // namespace

QColor divergingColour(double v, double magnitude, const DivergingScale& scale) {
    if (!std::isfinite(v)) return QColor(255, 0, 255);  // magenta: overflow / NaN
    double s = 0;
    if (scale.kind == DivergingScale::Kind::FixedLog) {
        const double size = std::fabs(v);
        const double lo = std::log10(scale.logMin), hi = std::log10(scale.logMax);
        s = size <= scale.logMin ? 0.0 : std::clamp((std::log10(size) - lo) / (hi - lo), 0.0, 1.0);
    } else {
        s = magnitude > 0 ? std::clamp(std::fabs(v) / magnitude, 0.0, 1.0) : 0.0;
    }
    const int fade = int(std::lround(255 * (1 - s)));
    return v >= 0 ? QColor(255, fade, fade) : QColor(fade, fade, 255);
}

QImage tensorToImage(const TensorD& t, ImageStyle style, const DivergingScale& scale) {
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
            if (style == ImageStyle::Grey) {
                if (!std::isfinite(v)) {
                    image.setPixel(x, y, qRgb(255, 0, 255));
                    continue;
                }
                const int g = hi > lo ? int(std::lround(255 * (v - lo) / (hi - lo))) : 128;
                image.setPixel(x, y, qRgb(g, g, g));
            } else {
                image.setPixel(x, y, divergingColour(v, magnitude, scale).rgb());
            }
        }
    return image;
}

TensorImage::TensorImage(const QString& caption, QWidget* parent) : QWidget(parent), caption_(caption) {
    setMinimumSize(120, 120);
}

void TensorImage::setTensor(const TensorD& tensor, ImageStyle style, const QString& detail) {
    // Kept only where a new scale must redraw it (error maps); a grey picture's colours never change.
    tensor_ = style == ImageStyle::Diverging ? tensor : TensorD();
    style_ = style;
    magnitude_ = largestMagnitude(tensor);
    image_ = tensorToImage(tensor, style, scale_);
    detail_ = detail;
    stale_ = false;
    update();
}

void TensorImage::setScale(const DivergingScale& scale) {
    scale_ = scale;
    if (style_ == ImageStyle::Diverging && !tensor_.empty()) image_ = tensorToImage(tensor_, style_, scale_);
    update();
}

QStringList TensorImage::colourBarLabels() const {
    if (style_ != ImageStyle::Diverging || image_.isNull()) return {};
    const QString minus = QStringLiteral("\u2212");
    if (scale_.kind == DivergingScale::Kind::FixedLog) {
        const double middle = std::sqrt(scale_.logMin * scale_.logMax);
        return {QLatin1Char('+') + shortNumber(scale_.logMax), QLatin1Char('+') + shortNumber(middle),
                QStringLiteral("±") + shortNumber(scale_.logMin), minus + shortNumber(middle), minus + shortNumber(scale_.logMax)};
    }
    return {QLatin1Char('+') + shortNumber(magnitude_), QStringLiteral("0"), minus + shortNumber(magnitude_)};
}

void TensorImage::clear(const QString& message) {
    tensor_ = TensorD();
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
    const QStringList labels = colourBarLabels();
    // The colour bar: a strip from full red (top) through white to full blue, its labels beside it.
    int barWidth = 0;
    for (const QString& label : labels) barWidth = std::max(barWidth, fontMetrics().horizontalAdvance(label));
    if (!labels.isEmpty()) barWidth += 6 + 12 + 3 + 3;
    const QRect area = rect().adjusted(2, 2, -2 - barWidth, -captionHeight);
    if (!labels.isEmpty() && area.height() > 20) {
        const QRect strip(area.right() + 6, area.top() + fontMetrics().height() / 2, 12, area.height() - fontMetrics().height());
        for (int y = 0; y < strip.height(); ++y) {
            // Top = +full scale, bottom = −full scale, a value per row in the scale's own terms.
            const double t = 1 - 2.0 * y / std::max(1, strip.height() - 1);
            double v = t;
            if (scale_.kind == DivergingScale::Kind::FixedLog) {
                const double lo = std::log10(scale_.logMin), hi = std::log10(scale_.logMax);
                v = std::copysign(std::pow(10.0, lo + std::fabs(t) * (hi - lo)), t);
                if (std::fabs(t) < 1e-9) v = 0;
            }
            painter.setPen(divergingColour(v, 1.0, scale_));
            painter.drawLine(strip.left(), strip.top() + y, strip.right(), strip.top() + y);
        }
        painter.setPen(palette().color(QPalette::Mid));
        painter.drawRect(strip.adjusted(0, 0, -1, -1));
        painter.setPen(palette().color(QPalette::WindowText));
        for (int i = 0; i < labels.size(); ++i) {
            const int y = strip.top() + int(std::lround(double(i) * (strip.height() - 1) / std::max<qsizetype>(1, labels.size() - 1)));
            painter.drawText(QRect(strip.right() + 3, y - fontMetrics().height() / 2, barWidth, fontMetrics().height()),
                             Qt::AlignLeft | Qt::AlignVCenter, labels[i]);
        }
    }
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
