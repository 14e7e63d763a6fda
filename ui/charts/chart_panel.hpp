#pragma once
// The chart adapter: the only place that includes Qt Charts. A ChartPanel draws a study table
// as a ChartSpec says, and exports it (PNG at screen or 2× resolution, SVG, CSV, clipboard) from
// its toolbar, its context menu and shortcuts. Writes are atomic (io::writeFileAtomically).
#include <QImage>
#include <QWidget>

#include "study/chart_spec.hpp"
#include "study/table.hpp"

class QChart;
class QChartView;
class QToolBar;

namespace ks::ui {

class ChartPanel : public QWidget {
    Q_OBJECT
public:
    explicit ChartPanel(QWidget* parent = nullptr);
    ~ChartPanel() override;

    void setData(const study::Table& table, const study::ChartSpec& spec);
    const study::Table& table() const { return table_; }
    const study::ChartSpec& spec() const { return spec_; }
    /// Move the "current position" marker without rebuilding the series.
    void setCurrentX(std::optional<double> x);

    /// Names and point counts of the drawn series (for tests and the CSV).
    QStringList seriesNames() const;
    QList<QPointF> seriesPoints(const QString& name) const;

    QImage renderImage(const QSize& logicalSize, qreal scale = 1.0) const;
    // Each throws std::runtime_error naming the file and the reason; nothing half-written stays.
    void exportPng(const QString& path, qreal scale = 1.0) const;
    void exportSvg(const QString& path) const;
    void exportCsv(const QString& path) const;
    void copyImage() const;

    QChart* chart() const;
    QToolBar* toolBar() const { return toolBar_; }

    /// Headless rendering for the CLI: same drawing code, no window.
    static void renderToPng(const study::Table& table, const study::ChartSpec& spec, const QString& path,
                            const QSize& size = QSize(900, 560), qreal scale = 1.0);

Q_SIGNALS:
    void exported(const QString& path);
    void exportFailed(const QString& message);

protected:
    void changeEvent(QEvent* event) override;

private:
    /// Light or dark chart theme, following the widget's palette (readable in both).
    void applyPaletteTheme();
    void rebuild();
    void updateCurrentMarker();
    void askAndExport(const QString& kind);
    void contextMenu(const QPoint& position);

    study::Table table_;
    study::ChartSpec spec_;
    QChartView* view_;
    QToolBar* toolBar_;
};

}  // namespace ks::ui
