#include "widgets/digit_grid.hpp"

#include <QPainter>

#include <algorithm>
#include <cmath>

namespace ks::ui {

DigitGrid::DigitGrid(QWidget* parent) : QWidget(parent) {
    setToolTip(tr("Test digits with the compressed network's prediction under each. A red frame marks a mistake; "
                  "the true label follows the arrow."));
}

void DigitGrid::setDigits(QList<Digit> digits) {
    digits_ = std::move(digits);
    update();
}

void DigitGrid::setCaption(const QString& caption) {
    caption_ = caption;
    update();
}

int DigitGrid::mistakes() const {
    return int(std::count_if(digits_.begin(), digits_.end(), [](const Digit& d) { return d.label != d.predicted; }));
}

QImage DigitGrid::greyImage(const unsigned char* pixels, int rows, int cols) {
    return QImage(pixels, cols, rows, cols, QImage::Format_Grayscale8).copy();
}

void DigitGrid::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().base());
    const int captionHeight = fontMetrics().height() + 4;
    p.setPen(palette().text().color());
    p.drawText(QRect(0, 0, width(), captionHeight), Qt::AlignCenter, caption_);
    if (digits_.isEmpty()) return;
    const QRect area = rect().adjusted(4, captionHeight, -4, -4);
    const int n = int(digits_.size());
    // The column count that makes the cells largest for this aspect ratio.
    const int textHeight = fontMetrics().height();
    int bestColumns = 1, bestCell = 0;
    for (int columns = 1; columns <= n; ++columns) {
        const int rows = (n + columns - 1) / columns;
        const int cell = std::min(area.width() / columns, area.height() / rows - textHeight);
        if (cell > bestCell) bestCell = cell, bestColumns = columns;
    }
    const int cell = std::max(8, bestCell);
    const int columns = bestColumns;
    const QColor mistake(200, 30, 30);
    for (int i = 0; i < n; ++i) {
        const Digit& d = digits_[i];
        const int x = area.left() + (i % columns) * cell, y = area.top() + (i / columns) * (cell + textHeight);
        const QRect image(x + 2, y + 2, cell - 4, cell - 4);
        p.drawImage(image, d.image);
        const bool wrong = d.label != d.predicted;
        if (wrong) {
            p.setPen(QPen(mistake, 2));
            p.drawRect(image.adjusted(-1, -1, 1, 1));
        }
        p.setPen(wrong ? mistake : palette().text().color());
        QFont f = font();
        f.setBold(wrong);
        p.setFont(f);
        p.drawText(QRect(x, y + cell - 2, cell, textHeight + 2), Qt::AlignCenter,
                   wrong ? QStringLiteral("%1→%2").arg(d.predicted).arg(d.label) : QString::number(d.predicted));
    }
}

}  // namespace ks::ui
