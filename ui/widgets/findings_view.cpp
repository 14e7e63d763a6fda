#include "widgets/findings_view.hpp"

#include <QGraphicsOpacityEffect>
#include <QLabel>
#include <QResizeEvent>
#include <QScrollBar>

namespace ks::ui {

FindingsView::FindingsView(int maxLines, QWidget* parent) : QScrollArea(parent), maxLines_(maxLines), label_(new QLabel) {
    setObjectName(QStringLiteral("findings"));
    label_->setWordWrap(true);
    label_->setTextFormat(Qt::RichText);
    label_->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    label_->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    label_->setContentsMargins(6, 2, 6, 2);
    setWidget(label_);
    setWidgetResizable(true);
    setFrameShape(QFrame::NoFrame);
    // The window's colour, not an edit field's: this is text about the chart, not an input.
    viewport()->setAutoFillBackground(false);
    label_->setAutoFillBackground(false);
    setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Fixed);
    hide();
}

void FindingsView::setFindings(const study::Findings& findings, const QString& csvName) {
    sentences_.clear();
    // Compact: the heading leads the first sentence, one paragraph per finding, no list indentation.
    const QString sourceColour = palette().color(QPalette::PlaceholderText).name();
    QString html;
    for (const auto& f : findings) {
        const QString sentence = QString::fromStdString(f.text);
        html += QStringLiteral("<p style=\"margin: 0 0 2px 0;\">") +
                (sentences_.isEmpty() ? QStringLiteral("<b>%1:</b> ").arg(tr("What this shows")) : QStringLiteral("• ")) +
                sentence.toHtmlEscaped();
        sentences_ << sentence;
        const std::string source = study::findingSource(f, csvName.toStdString());
        if (!source.empty())
            html += QStringLiteral(" <span style=\"color: %1;\">(%2)</span>")
                        .arg(sourceColour, QString::fromStdString(source).toHtmlEscaped());
        html += QStringLiteral("</p>");
    }
    label_->setText(html);
    setToolTip(findings.empty() ? QString() : tr("Written from the chart's data; scroll for more"));
    setVisible(!findings.empty());
    fitHeight();
}

QString FindingsView::text() const { return label_->text(); }

void FindingsView::setStale(bool stale) {
    if (!stale) {
        label_->setGraphicsEffect(nullptr);
        return;
    }
    auto* fade = new QGraphicsOpacityEffect(label_);
    fade->setOpacity(0.45);
    label_->setGraphicsEffect(fade);
}

QSize FindingsView::sizeHint() const { return {200, height()}; }

void FindingsView::resizeEvent(QResizeEvent* event) {
    QScrollArea::resizeEvent(event);
    fitHeight();
}

void FindingsView::fitHeight() {
    const int width = std::max(100, viewport()->width());
    const int content = label_->heightForWidth(width);
    const int natural = content > 0 ? content : label_->sizeHint().height();
    const int limit = maxLines_ > 0 ? maxLines_ * fontMetrics().lineSpacing() + 8 : natural;
    const int height = std::min(natural, limit);
    if (this->height() != height || minimumHeight() != height) setFixedHeight(height);
    setVerticalScrollBarPolicy(natural > limit ? Qt::ScrollBarAsNeeded : Qt::ScrollBarAlwaysOff);
}

}  // namespace ks::ui
