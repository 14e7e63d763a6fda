#pragma once
// "What this shows": the findings written from a chart's data (study/findings.hpp), under the chart (or, on a
// page whose charts need every pixel, in its control column). A few lines tall at most under a chart (it scrolls
// beyond), hidden when the data give nothing to say, faded while the chart waits for new data. Selectable, so a
// sentence can be copied into a write-up.
#include <QScrollArea>
#include <QStringList>

#include "study/findings.hpp"

class QLabel;

namespace ks::ui {

class FindingsView : public QScrollArea {
    Q_OBJECT
public:
    /// `maxLines`: the most lines shown before it scrolls; 0: as tall as its text (in a column that scrolls itself).
    explicit FindingsView(int maxLines = 2, QWidget* parent = nullptr);

    /// The findings, each with the rows of `csvName` it came from; none: the view hides.
    void setFindings(const study::Findings& findings, const QString& csvName);
    /// The sentences shown, without their sources (for tests).
    QStringList sentences() const { return sentences_; }
    /// The text as shown, sources included.
    QString text() const;
    void setStale(bool stale);

    /// Its own fitted height (a scroll area's default hint is much taller, and layouts share room by hints).
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override { return sizeHint(); }

protected:
    void resizeEvent(QResizeEvent* event) override;

private:
    void fitHeight();

    int maxLines_;
    QLabel* label_;
    QStringList sentences_;
};

}  // namespace ks::ui
