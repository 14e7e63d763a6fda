#pragma once
// The chart adapter: the only place that includes Qt Charts. A ChartPanel draws a study table
// as a ChartSpec says, and exports it (PNG at the size and resolution the user chose, SVG, CSV,
// clipboard) from its toolbar, its context menu and shortcuts. Images are drawn off screen from the
// table and spec, so they never depend on the window. Writes are atomic (io::writeFileAtomically).
#include <QImage>
#include <QWidget>

#include "charts/export_options.hpp"
#include "study/chart_spec.hpp"
#include "study/findings.hpp"
#include "study/table.hpp"

class QChart;
class QChartView;
class QAction;
class QLabel;
class QXYSeries;
class QToolBar;

namespace ks::ui {

class FindingsView;

class ChartPanel : public QWidget {
    Q_OBJECT
public:
    explicit ChartPanel(QWidget* parent = nullptr);
    ~ChartPanel() override;

    void setData(const study::Table& table, const study::ChartSpec& spec);
    const study::Table& table() const { return table_; }
    const study::ChartSpec& spec() const { return spec_; }
    /// Marks the chart as not matching its inputs any more (empty: it matches): shown beside the toolbar
    /// and by fading the plot, e.g. "updating…" while the new result is computed, or "out of date: press
    /// Find" for results that are only measured on request. setData() clears it.
    void setStale(const QString& note);
    QString staleNote() const;
    /// "What this shows" under the chart (not part of its exports): sentences written from its data, each naming
    /// the rows of the chart's CSV it came from. Pages set them with each new table; none hides the view.
    void setFindings(const study::Findings& findings);
    const FindingsView* findings() const { return findings_; }
    /// The value under the mouse ("direct: x 5, y 0.0123"), beside the toolbar; empty when none.
    QString readout() const;
    /// Move the "current position" marker without rebuilding the series.
    void setCurrentX(std::optional<double> x);

    /// Names and point counts of the drawn series (for tests and the CSV).
    QStringList seriesNames() const;
    QList<QPointF> seriesPoints(const QString& name) const;
    QColor seriesColor(const QString& name) const;

    /// The chart drawn off screen at exactly options.pixels, opaque, its resolution recorded.
    static QImage renderImage(const study::Table& table, const study::ChartSpec& spec, const ExportImageOptions& options);
    QImage renderImage(const ExportImageOptions& options) const { return renderImage(table_, spec_, options); }
    // Each throws std::runtime_error naming the file and the reason; nothing half-written stays.
    void exportPng(const QString& path, const ExportImageOptions& options = ExportImageOptions::load()) const;
    void exportSvg(const QString& path, const ExportImageOptions& options = ExportImageOptions::load()) const;
    void exportCsv(const QString& path) const;
    /// The chart as seen on screen, to the clipboard.
    void copyImage() const;

    QChart* chart() const;
    /// One size for every chart, whatever Qt Charts prefers for its content (the Pareto chart asked for 137 px and
    /// was given it beside two asking for 560), so that a layout short of room shares it between charts alike.
    QSize sizeHint() const override { return {480, 400}; }
    bool hasHeightForWidth() const override { return false; }
    QToolBar* toolBar() const { return toolBar_; }

    /// Headless rendering for the CLI: same drawing code, no window.
    static void renderToPng(const study::Table& table, const study::ChartSpec& spec, const QString& path,
                            const ExportImageOptions& options = {});

Q_SIGNALS:
    /// A data point was clicked (a page moves its slider there).
    void pointClicked(const QString& series, const QPointF& point);
    void exported(const QString& path);
    void exportFailed(const QString& message);

protected:
    void changeEvent(QEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    bool eventFilter(QObject* watched, QEvent* event) override;


private:
    /// Light or dark chart theme, following the widget's palette (readable in both).
    void applyPaletteTheme();
    void rebuild();
    /// Tick labels that fit the plot: log axes one label per power of ten, or of 10^k when the axis has room
    /// for no more; horizontal value axes their data's interval, widened (1, 2, 5, 10, …) until the labels fit.
    void fitTicks();
    /// Shows the caption when the panel has room for it beside a readable plot.
    void fitCaption();
    void buildBars();
    /// Hover readout and click for a data series.
    void connectPointer(QXYSeries* series);
    /// Lay the panel out at `logical` size without showing it (for the off-screen renderings).
    void layOutOffscreen(const QSize& logical);
    /// The title and the chart as on screen, into `painter` at the figure's logical size.
    void renderFigure(QPainter& painter) const;
    /// Tighter margins than Qt Charts' defaults, the legend below the plot, the figure's colours: charts of
    /// a 1280×720 window keep their room for the data (re-applied after a theme change, which resets them).
    void applyCompactStyle();
    /// Below the plot when the names fit in one row there, else on the right (names cut to "..." help nobody).
    void placeLegend();
    /// Tight margins, with a line of room above the plot when format markers carry their names there.
    void applyMargins();
    void updateCurrentMarker();
    void askAndExport(const QString& kind);
    void contextMenu(const QPoint& position);

    study::Table table_;
    study::ChartSpec spec_;
    QChartView* view_;
    QToolBar* toolBar_;
    QLabel* staleLabel_;
    QAction* staleAction_;  ///< the toolbar's slot for staleLabel_ (shown only when there is a note)
    QLabel* readout_;
    QWidget* figure_;  ///< the title (wrapped, never cut short) above the chart view: what exports draw
    QLabel* title_;
    FindingsView* findings_;
    QLabel* caption_;
};

}  // namespace ks::ui
