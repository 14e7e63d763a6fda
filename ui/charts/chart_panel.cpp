#include "charts/chart_panel.hpp"
#include "widgets/findings_view.hpp"

#include <QAction>
#include <QAreaSeries>
#include <QApplication>
#include <QBuffer>
#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QClipboard>
#include <QFile>
#include <QFileDialog>
#include <QGraphicsLayout>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QMenu>
#include <QPainter>
#include <QScatterSeries>
#include <QSvgGenerator>
#include <QToolBar>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "io/file_util.hpp"
#include "qt_text.hpp"

namespace ks::ui {

namespace {

constexpr int kMaxPointsPerSeries = 4000;  // Qt Charts slows past ~10k points; decimate evenly

/// The core's atomic write, not QSaveFile, so that the GUI holds to the CLI's rules: no writing through a symbolic
/// link, over a FIFO, a device or a read-only file, no temporary file left by a killed process.
void saveAtomically(const QString& path, const QByteArray& bytes) {
    io::writeFileAtomically(QFile::encodeName(path).toStdString(),
                            std::string_view(bytes.constData(), std::size_t(bytes.size())));
}

/// Distinguishable on light and dark backgrounds, and none of them the red of the "current" marker.
const QColor kKeyedColors[] = {QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e), QColor(0x2c, 0xa0, 0x2c),
                               QColor(0x94, 0x67, 0xbd), QColor(0x8c, 0x56, 0x4b), QColor(0xe3, 0x77, 0xc2),
                               QColor(0x7f, 0x7f, 0x7f), QColor(0xbc, 0xbd, 0x22), QColor(0x17, 0xbe, 0xcf),
                               QColor(0xae, 0xc7, 0xe8), QColor(0xff, 0xbb, 0x78), QColor(0x98, 0xdf, 0x8a)};

/// The series' colour by its place in spec.colorKeys; none when the spec has no keys or lacks the name.
std::optional<QColor> keyedColor(const study::ChartSpec& spec, const std::string& name) {
    const auto it = std::find(spec.colorKeys.begin(), spec.colorKeys.end(), name);
    if (it == spec.colorKeys.end()) return std::nullopt;
    return kKeyedColors[std::size_t(it - spec.colorKeys.begin()) % std::size(kKeyedColors)];
}

/// A "nice" tick interval (1, 2, 2.5 or 5 times a power of ten) giving about `ticks` intervals over `span`.
/// The tick interval a value axis was made with, before fitTicks widened it for its labels.
constexpr const char* kNaturalStep = "ksNaturalStep";

/// The next wider step of the 1, 2, 5 sequence.
double widerStep(double step) {
    const double magnitude = std::pow(10.0, std::floor(std::log10(step) + 1e-9));
    const double r = step / magnitude;
    return (r < 1.5 ? 2 : r < 4 ? 5 : 10) * magnitude;
}

double niceStep(double span, int ticks) {
    const double raw = span / ticks;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    const double r = raw / magnitude;
    return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 2.5 ? 2.5 : r <= 5 ? 5 : 10) * magnitude;
}

/// Whether the positive finite values span more than `decades` powers of ten.
bool spansDecades(const std::vector<double>& values, double decades) {
    double lo = INFINITY, hi = 0;
    for (double v : values)
        if (std::isfinite(v) && v > 0) lo = std::min(lo, v), hi = std::max(hi, v);
    return hi > 0 && hi / lo > std::pow(10.0, decades);
}

struct AxisRequest {
    bool log = false;
    bool integers = false;
    QString title;
    double lo = 0, hi = 0;  ///< the drawn data's range
    study::AxisBounds bounds;
};

QAbstractAxis* makeAxis(const AxisRequest& r) {
    const double boundLo = r.bounds.min.value_or(-INFINITY), boundHi = r.bounds.max.value_or(INFINITY);
    if (r.log) {
        auto* axis = new QLogValueAxis;
        axis->setBase(10);
        axis->setLabelFormat(QStringLiteral("%.0e"));
        axis->setMinorTickCount(0);
        if (r.lo > 0 && r.hi > 0) {
            // The data's range and a little room, not whole decades (a ratio up to 1.5 on an axis to
            // 10 wastes half the plot); widened to the nearest power of ten only when no tick (a
            // power of ten) would fall inside; at most ~16 decades so labels stay readable.
            double a = std::max(r.lo / 1.25, boundLo > 0 ? boundLo : 0.0), b = std::min(r.hi * 1.25, boundHi);
            if (std::floor(std::log10(b)) < std::ceil(std::log10(a))) {
                // no power of ten inside [a, b]: take in the nearer one
                const double below = std::pow(10.0, std::floor(std::log10(a))), above = std::pow(10.0, std::ceil(std::log10(b)));
                if (a / below <= above / b || above > boundHi) a = below;
                else b = above;
            }
            a = std::max(a, b * 1e-16);
            if (b / a < 100 && r.lo >= 1) {
                // Within two decades of whole numbers (sizes 32…256): ticks at powers of two, which a
                // power-of-ten axis would leave with one label.
                axis->setBase(2);
                axis->setLabelFormat(QStringLiteral("%g"));
                a = std::min(a, std::exp2(std::floor(std::log2(r.lo))));
                b = std::max(b, std::exp2(std::ceil(std::log2(r.hi))));
            }
            axis->setRange(a, b);
        }
        axis->setTitleText(r.title);
        return axis;
    }
    auto* axis = new QValueAxis;
    double lo = r.lo, hi = r.hi;
    if (lo <= hi) {
        // Room at both ends so points and markers at the extremes stay visible (half a step for whole
        // numbers, whose ticks sit on the points), but never below zero for positive data (a time on an
        // axis from −10 ms reads as nonsense) nor past the quantity's bounds.
        double step;
        if (r.integers) {
            step = std::max(1.0, std::ceil(niceStep(std::max(hi - lo, 1.0), 10)));
            lo -= 0.5, hi += 0.5;
        } else {
            const double pad = lo == hi ? std::max(std::fabs(lo) * 0.1, 1e-300) : 0.03 * (hi - lo);
            const double padded = lo - pad;
            lo = lo > 0 && padded < 0 ? 0.0 : padded;
            hi += pad;
            step = niceStep(hi - lo, 6);
            lo = std::floor(lo / step) * step;
            hi = std::ceil(hi / step) * step;
        }
        lo = std::max(lo, boundLo);
        hi = std::min(hi, boundHi);
        if (!(lo < hi)) hi = lo + step;
        axis->setRange(lo, hi);
        axis->setTickType(QValueAxis::TicksDynamic);
        axis->setTickAnchor(0.0);
        axis->setTickInterval(step);
        axis->setProperty(kNaturalStep, step);  // fitTicks widens it when the labels do not fit
    }
    axis->setLabelFormat(QStringLiteral("%g"));
    axis->setTitleText(r.title);
    return axis;
}

}  // namespace

ChartPanel::ChartPanel(QWidget* parent)
    : QWidget(parent), view_(new QChartView), toolBar_(new QToolBar(this)), staleLabel_(new QLabel(this)),
      readout_(new QLabel(this)),
      figure_(new QWidget(this)), title_(new QLabel), findings_(new FindingsView(2, this)), caption_(new QLabel) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    toolBar_->setIconSize(QSize(16, 16));
    toolBar_->setToolButtonStyle(Qt::ToolButtonTextOnly);
    layout->addWidget(toolBar_);
    layout->addWidget(figure_, 1);
    layout->addWidget(findings_);
    // The title as a wrapped label above the view: Qt Charts cuts a long title to one line with "...".
    auto* figureLayout = new QVBoxLayout(figure_);
    figureLayout->setContentsMargins(0, 0, 0, 0);
    figureLayout->setSpacing(0);
    for (QLabel* label : {title_, caption_}) {
        label->setWordWrap(true);
        label->setAlignment(Qt::AlignHCenter);
        label->setTextFormat(Qt::PlainText);
        figureLayout->addWidget(label);
    }
    title_->setObjectName(QStringLiteral("chartTitle"));
    title_->setContentsMargins(6, 4, 6, 0);
    QFont titleFont = title_->font();
    titleFont.setBold(true);
    title_->setFont(titleFont);
    caption_->setObjectName(QStringLiteral("chartCaption"));
    caption_->setContentsMargins(6, 0, 6, 0);
    QFont captionFont = caption_->font();
    if (captionFont.pointSizeF() > 8) captionFont.setPointSizeF(captionFont.pointSizeF() - 1);
    caption_->setFont(captionFont);
    figureLayout->addWidget(view_, 1);
    figure_->setAutoFillBackground(true);
    view_->setFrameShape(QFrame::NoFrame);
    view_->setRenderHint(QPainter::Antialiasing);
    view_->setChart(new QChart);
    applyPaletteTheme();
    view_->installEventFilter(this);
    // Tick density follows the plot's laid-out size (queued: the base is changed outside Qt Charts' layout pass).
    connect(chart(), &QChart::plotAreaChanged, this, &ChartPanel::fitTicks, Qt::QueuedConnection);
    view_->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(view_, &QWidget::customContextMenuRequested, this, &ChartPanel::contextMenu);

    struct Entry {
        QString text, tip, kind;
        QKeySequence key;
    };
    const Entry entries[] = {
        {tr("PNG"), tr("Export the chart as a PNG image at the chosen size (Ctrl+E)"), QStringLiteral("png"),
         QKeySequence(Qt::CTRL | Qt::Key_E)},
        {tr("SVG"), tr("Export the chart as a scalable SVG drawing"), QStringLiteral("svg"), {}},
        {tr("CSV"), tr("Export the data behind the chart as CSV"), QStringLiteral("csv"), {}},
        {tr("Copy"), tr("Copy the chart image to the clipboard (Ctrl+Shift+C)"), QStringLiteral("copy"),
         QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C)},
        {tr("Size…"), tr("The size and resolution of exported images (remembered)"), QStringLiteral("size"), {}},
    };
    for (const auto& e : entries) {
        QAction* action = toolBar_->addAction(e.text);
        action->setToolTip(e.tip);
        action->setObjectName(QStringLiteral("export_") + e.kind);
        if (!e.key.isEmpty()) {
            action->setShortcut(e.key);
            action->setShortcutContext(Qt::WidgetWithChildrenShortcut);
        }
        const QString kind = e.kind;
        connect(action, &QAction::triggered, this, [this, kind] { askAndExport(kind); });
        addAction(action);
    }
    auto* spacer = new QWidget(toolBar_);
    spacer->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    toolBar_->addWidget(spacer);
    readout_->setObjectName(QStringLiteral("readout"));
    readout_->setToolTip(tr("The point under the mouse; click a point to move the page's slider there"));
    toolBar_->addWidget(readout_);
    staleLabel_->setObjectName(QStringLiteral("staleNote"));
    staleLabel_->setStyleSheet(QStringLiteral("QLabel { background: #fff3cd; color: #664d03; padding: 1px 6px; }"));
    staleAction_ = toolBar_->addWidget(staleLabel_);
    staleAction_->setVisible(false);
}

void ChartPanel::setStale(const QString& note) {
    staleLabel_->setText(note);
    staleAction_->setVisible(!note.isEmpty());
    chart()->setOpacity(note.isEmpty() ? 1.0 : 0.45);  // faded: visibly not current
    findings_->setStale(!note.isEmpty());
}

void ChartPanel::setFindings(const study::Findings& findings) {
    findings_->setFindings(findings, q(spec_.id + ".csv"));
}

QString ChartPanel::staleNote() const { return staleLabel_->text(); }

QString ChartPanel::readout() const { return readout_->text(); }

void ChartPanel::connectPointer(QXYSeries* series) {
    connect(series, &QXYSeries::hovered, this, [this, series](const QPointF& p, bool entered) {
        readout_->setText(entered ? QStringLiteral("%1: x %2, y %3").arg(series->name()).arg(p.x(), 0, 'g', 4).arg(p.y(), 0, 'g', 4)
                                  : QString());
    });
    connect(series, &QXYSeries::clicked, this, [this, series](const QPointF& p) { Q_EMIT pointClicked(series->name(), p); });
}

ChartPanel::~ChartPanel() = default;

QChart* ChartPanel::chart() const { return view_->chart(); }

void ChartPanel::applyPaletteTheme() {
    const bool dark = palette().color(QPalette::Window).lightness() < 128;
    const QChart::ChartTheme theme = dark ? QChart::ChartThemeDark : QChart::ChartThemeLight;
    if (chart()->theme() != theme) chart()->setTheme(theme);
    applyCompactStyle();
}

void ChartPanel::applyCompactStyle() {
    QChart* c = chart();
    // One solid background (a theme may give a gradient, whose color() is black): the title above the
    // plot, the chart and the exported image's fill are all this colour.
    const QBrush brush = c->backgroundBrush();
    const QColor background = brush.gradient() && !brush.gradient()->stops().isEmpty()
                                  ? brush.gradient()->stops().front().second
                                  : brush.color();
    c->setBackgroundBrush(background);
    applyMargins();
    c->layout()->setContentsMargins(0, 0, 0, 0);
    c->setBackgroundRoundness(0);
    placeLegend();
    QPalette p = figure_->palette();
    p.setColor(QPalette::Window, c->backgroundBrush().color());
    p.setColor(QPalette::WindowText, c->titleBrush().color());
    figure_->setPalette(p);
    title_->setPalette(p);
    caption_->setPalette(p);
}

namespace {
/// Axis titles in the window's text size rather than the theme's larger one; tick labels a point smaller.
void styleAxes(QChart* chart) {
    const QFont base = QApplication::font();
    for (QAbstractAxis* axis : chart->axes()) {
        QFont title = base;
        title.setBold(false);
        axis->setTitleFont(title);
        QFont labels = base;
        if (labels.pointSizeF() > 8) labels.setPointSizeF(labels.pointSizeF() - 1);
        axis->setLabelsFont(labels);
    }
}
}  // namespace

void ChartPanel::applyMargins() {
    const int top = spec_.xMarkers.empty() ? 2 : QFontMetrics(QApplication::font()).height() + 2;
    const QMargins margins(4, top, 8, 2);
    if (chart()->margins() != margins) chart()->setMargins(margins);
}

void ChartPanel::placeLegend() {
    QLegend* legend = chart()->legend();
    const QFontMetrics metrics(legend->font());
    int row = 0;  // the legend's width as one row: each marker, its name and some spacing
    for (QLegendMarker* m : legend->markers())
        if (m->isVisible()) row += metrics.horizontalAdvance(m->label()) + metrics.height() + 16;
    const Qt::Alignment wanted = row <= view_->width() - 24 ? Qt::AlignBottom : Qt::AlignRight;
    if (legend->alignment() != wanted) legend->setAlignment(wanted);
}

void ChartPanel::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    fitCaption();
    placeLegend();
}

void ChartPanel::fitCaption() {
    // The caption (every parameter, in small type) under the title while the plot keeps room for its ticks and
    // axis titles; in a short panel it gives way (the title's tooltip still says it). Exports, drawn at their own
    // size, keep it.
    if (spec_.caption.empty()) {
        caption_->setVisible(false);
        return;
    }
    const int width = std::max(1, figure_->width());
    const int needed = title_->heightForWidth(width) + caption_->heightForWidth(width) + 15 * fontMetrics().lineSpacing();
    caption_->setVisible(figure_->height() >= needed || figure_->height() <= 0);
}

bool ChartPanel::eventFilter(QObject* watched, QEvent* event) {
    // The plot's own size, which changes without the panel's when the findings below it appear or grow.
    if (watched == view_ && event->type() == QEvent::Resize) placeLegend();
    return QWidget::eventFilter(watched, event);
}

void ChartPanel::fitTicks() {
    const QRectF plot = chart()->plotArea();
    for (QAbstractAxis* a : chart()->axes()) {
        if (auto* value = qobject_cast<QValueAxis*>(a)) {
            // Qt Charts cuts every label of a crowded axis to "..." (a time axis of 0.0125, 0.015, … on a
            // small chart): widen the interval until the labels fit, starting from the one the data chose.
            const double natural = value->property(kNaturalStep).toDouble();
            // Horizontal axes only: vertical labels stack, and their width is the margin's to fit.
            if (!(natural > 0) || value->tickType() != QValueAxis::TicksDynamic || value->orientation() == Qt::Vertical)
                continue;
            const QFontMetrics metrics(value->labelsFont());
            const double room = plot.width();
            if (room <= 0) continue;
            double step = natural;
            for (int widen = 0; widen < 12; ++widen, step = widerStep(step)) {
                int count = 0;
                double widest = 0;
                for (double v = std::ceil(value->min() / step - 1e-9) * step; v <= value->max() + step * 1e-9 && count < 1000;
                     v += step, ++count)
                    widest = std::max<double>(widest, metrics.horizontalAdvance(QString::asprintf("%g", std::fabs(v) < step * 1e-9 ? 0.0 : v)));
                const double perLabel = widest + metrics.horizontalAdvance(QStringLiteral("  "));  // its width and a gap
                if (count * perLabel <= room) break;
            }
            if (step != value->tickInterval()) value->setTickInterval(step);
            continue;
        }
        auto* axis = qobject_cast<QLogValueAxis*>(a);
        if (!axis || axis->min() <= 0 || axis->max() <= axis->min()) continue;
        const double decimalBase = std::log10(axis->base());
        if (std::abs(decimalBase - std::round(decimalBase)) > 1e-9) continue;  // powers of two: few ticks by design
        // A tick label per power of ten over seventeen decades crowds a short axis, and Qt Charts then cuts every
        // label to "...": take every 10th, 100th, ... power instead, as many as the axis has room for.
        const QFontMetrics metrics(axis->labelsFont());
        const bool vertical = axis->orientation() == Qt::Vertical;
        const double room = vertical ? plot.height() : plot.width();
        const double perLabel = vertical ? 1.6 * metrics.height() : 1.4 * metrics.horizontalAdvance(QStringLiteral("1e-10"));
        if (room <= 0) continue;
        const int fits = std::max(2, int(room / perLabel));
        const double decades = std::log10(axis->max() / axis->min());
        const double step = std::max(1.0, std::ceil(decades / fits));
        if (std::abs(step - std::round(decimalBase)) > 1e-9) axis->setBase(std::pow(10.0, step));
    }
}

void ChartPanel::renderFigure(QPainter& painter) const {
    figure_->render(&painter, QPoint(), QRegion(), QWidget::DrawWindowBackground | QWidget::DrawChildren);
}

void ChartPanel::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) {
        const QChart::ChartTheme before = chart()->theme();
        applyPaletteTheme();
        if (chart()->theme() != before) rebuild();  // a theme resets series pens: draw them again
    }
}

void ChartPanel::setData(const study::Table& table, const study::ChartSpec& spec) {
    table_ = table;
    spec_ = spec;
    setStale({});
    rebuild();
}

void ChartPanel::setCurrentX(std::optional<double> x) {
    spec_.currentX = x;
    updateCurrentMarker();
}

void ChartPanel::rebuild() {
    QChart* c = chart();
    c->removeAllSeries();
    for (QAbstractAxis* axis : c->axes()) {
        c->removeAxis(axis);
        delete axis;
    }
    c->setTitle({});
    readout_->clear();
    title_->setText(q(spec_.title));
    title_->setVisible(!spec_.title.empty());
    caption_->setText(q(spec_.caption));
    title_->setToolTip(q(spec_.caption));  // the parameters, also when the caption gives way to the plot
    fitCaption();
    if (table_.rowCount() == 0 || !table_.hasColumn(spec_.xColumn) || !table_.hasColumn(spec_.yColumn)) return;
    if (spec_.bars) {
        buildBars();
        return;
    }

    const auto& xs = table_.numbers(spec_.xColumn);
    const auto& ys = table_.numbers(spec_.yColumn);
    std::vector<std::string> groups = spec_.seriesColumn.empty() ? std::vector<std::string>{spec_.yColumn}
                                                                 : table_.distinct(spec_.seriesColumn);
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    const bool yLog = spec_.yLog || (spec_.yLogIfWide && spansDecades(ys, 2));
    auto usable = [&](double x, double y) {
        return std::isfinite(x) && std::isfinite(y) && (!spec_.xLog || x > 0) && (!yLog || y > 0);
    };
    std::vector<QXYSeries*> made;
    for (const auto& group : groups) {
        QList<QPointF> points;
        for (std::size_t r = 0; r < xs.size(); ++r) {
            if (!spec_.seriesColumn.empty() && table_.labels(spec_.seriesColumn)[r] != group) continue;
            if (!usable(xs[r], ys[r])) continue;  // e.g. zero error on a log axis, or overflow
            points.append(QPointF(xs[r], ys[r]));
        }
        if (points.size() > kMaxPointsPerSeries) {
            QList<QPointF> thinned;
            const double stride = double(points.size()) / kMaxPointsPerSeries;
            for (int i = 0; i < kMaxPointsPerSeries; ++i) thinned.append(points[int(i * stride)]);
            thinned.append(points.back());
            points = thinned;
        }
        for (const auto& p : points) {
            xlo = std::min(xlo, p.x()), xhi = std::max(xhi, p.x());
            ylo = std::min(ylo, p.y()), yhi = std::max(yhi, p.y());
        }
        const bool points_only = spec_.scatter || std::find(spec_.scatterSeries.begin(), spec_.scatterSeries.end(), group) !=
                                                      spec_.scatterSeries.end();
        // A line joins its points from left to right, never in the order a sweep happened to measure them.
        if (!points_only)
            std::stable_sort(points.begin(), points.end(), [](const QPointF& a, const QPointF& b) { return a.x() < b.x(); });
        QXYSeries* series = points_only ? static_cast<QXYSeries*>(new QScatterSeries) : new QLineSeries;
        series->setName(q(group));
        series->replace(points);
        if (!points_only) series->setPointsVisible(points.size() <= 40);
        if (auto* scatter = qobject_cast<QScatterSeries*>(series)) scatter->setMarkerSize(8);
        {
            // Keyed series keep their colour everywhere; others take the same palette in drawing order (the
            // themes' own five colours repeat from the sixth series, and one of them is near black on a dark background).
            const QColor color = keyedColor(spec_, group).value_or(kKeyedColors[made.size() % std::size(kKeyedColors)]);
            series->setColor(color);
            if (auto* scatter = qobject_cast<QScatterSeries*>(series)) scatter->setBorderColor(color.darker(130));
        }
        if (!spec_.highlightSeries.empty() && group == spec_.highlightSeries) {
            QPen pen = series->pen();
            pen.setWidthF(3.0);
            pen.setStyle(Qt::DashLine);
            series->setPen(pen);
        }
        c->addSeries(series);
        connectPointer(series);
        made.push_back(series);
    }
    if (!std::isfinite(xlo)) xlo = xhi = spec_.xLog ? 1 : 0;
    if (!std::isfinite(ylo)) ylo = yhi = yLog ? 1 : 0;
    QAbstractAxis* xAxis = makeAxis({spec_.xLog, spec_.xIntegers && !spec_.xLog,
                                     q(spec_.xLabel.empty() ? spec_.xColumn : spec_.xLabel), xlo, xhi, spec_.xBounds});
    QAbstractAxis* yAxis = makeAxis({yLog, false, q(spec_.yLabel.empty() ? spec_.yColumn : spec_.yLabel), ylo, yhi, spec_.yBounds});
    c->addAxis(xAxis, Qt::AlignBottom);
    c->addAxis(yAxis, Qt::AlignLeft);
    for (auto* s : made) {
        s->attachAxis(xAxis);
        s->attachAxis(yAxis);
    }
    c->legend()->setVisible(made.size() > 1);
    styleAxes(c);
    placeLegend();
    fitTicks();  // at the plot's present size; again when its new layout changes it
    updateCurrentMarker();
}

void ChartPanel::buildBars() {
    QChart* c = chart();
    const auto& ys = table_.numbers(spec_.yColumn);
    const bool whiskers = !spec_.yLowColumn.empty() && table_.hasColumn(spec_.yLowColumn) &&
                          !spec_.yHighColumn.empty() && table_.hasColumn(spec_.yHighColumn);
    std::vector<double> extent = ys;  // the medians and the whiskers' ends decide the scale
    if (whiskers)
        for (const std::string* column : {&spec_.yLowColumn, &spec_.yHighColumn})
            extent.insert(extent.end(), table_.numbers(*column).begin(), table_.numbers(*column).end());
    const bool yLog = spec_.yLog || (spec_.yLogIfWide && spansDecades(extent, 2));
    struct Bar {
        QString name;
        double y, low, high;
    };
    std::vector<Bar> bars;  // rows that have a value to draw, in table order (e.g. fastest first)
    for (std::size_t r = 0; r < ys.size(); ++r) {
        if (!std::isfinite(ys[r]) || (yLog && ys[r] <= 0)) continue;
        const QString name = spec_.seriesColumn.empty() ? QString::number(r) : q(table_.labels(spec_.seriesColumn)[r]);
        double low = ys[r], high = ys[r];
        if (whiskers) {
            const double l = table_.numbers(spec_.yLowColumn)[r], h = table_.numbers(spec_.yHighColumn)[r];
            if (std::isfinite(l) && (!yLog || l > 0)) low = std::min(low, l);
            if (std::isfinite(h)) high = std::max(high, h);
        }
        bars.push_back({name, ys[r], low, high});
    }
    double ylo = INFINITY, yhi = -INFINITY;
    for (const Bar& b : bars) ylo = std::min(ylo, b.low), yhi = std::max(yhi, b.high);
    if (bars.empty()) ylo = yhi = yLog ? 1 : 0;
    if (!yLog) ylo = std::min(ylo, 0.0);  // linear bars stand on zero
    QAbstractAxis* yAxis = makeAxis({yLog, false, q(spec_.yLabel.empty() ? spec_.yColumn : spec_.yLabel), ylo, yhi, spec_.yBounds});
    const double base = yLog ? qobject_cast<QLogValueAxis*>(yAxis)->min() : 0.0;

    // Horizontal bars: the names sit beside them at their full width (under vertical bars Qt Charts cuts
    // them to the bar's width), the fastest on top.
    QAbstractAxis* valueAxis = yAxis;
    auto* categoryAxis = new QCategoryAxis;
    categoryAxis->setTitleText(q(spec_.xLabel.empty() ? spec_.xColumn : spec_.xLabel));
    categoryAxis->setStartValue(-0.5);
    const std::size_t n = bars.size();
    auto position = [n](std::size_t i) { return double(n - 1 - i); };
    for (std::size_t i = n; i-- > 0;) categoryAxis->append(bars[i].name, position(i) + 0.5);
    categoryAxis->setRange(-0.5, std::max(0.5, double(n) - 0.5));
    categoryAxis->setLabelsPosition(QCategoryAxis::AxisLabelsPositionCenter);
    categoryAxis->setGridLineVisible(false);
    c->addAxis(valueAxis, Qt::AlignBottom);
    c->addAxis(categoryAxis, Qt::AlignLeft);

    constexpr double kHalfWidth = 0.35, kCap = 0.12;
    for (std::size_t i = 0; i < n; ++i) {
        const Bar& b = bars[i];
        const double y = position(i);
        auto* upper = new QLineSeries;
        auto* lower = new QLineSeries;
        upper->append({QPointF(base, y + kHalfWidth), QPointF(b.y, y + kHalfWidth)});
        lower->append({QPointF(base, y - kHalfWidth), QPointF(b.y, y - kHalfWidth)});
        auto* bar = new QAreaSeries(upper, lower);
        upper->setParent(bar);
        lower->setParent(bar);
        bar->setName(b.name);
        const QColor color = keyedColor(spec_, b.name.toStdString()).value_or(kKeyedColors[i % std::size(kKeyedColors)]);
        bar->setColor(color);
        bar->setBorderColor(color.darker(130));
        c->addSeries(bar);
        bar->attachAxis(valueAxis);
        bar->attachAxis(categoryAxis);
        if (whiskers && b.high > b.low) {  // the spread of the repeats, as an I-beam on its side
            auto* whisker = new QLineSeries;
            whisker->setObjectName(QStringLiteral("whisker"));
            whisker->setName(b.name + tr(" (fastest to slowest)"));
            whisker->append({QPointF(b.low, y - kCap), QPointF(b.low, y + kCap), QPointF(b.low, y), QPointF(b.high, y),
                             QPointF(b.high, y - kCap), QPointF(b.high, y + kCap)});
            QPen pen(palette().color(QPalette::WindowText));
            pen.setWidthF(1.2);
            whisker->setPen(pen);
            c->addSeries(whisker);
            whisker->attachAxis(valueAxis);
            whisker->attachAxis(categoryAxis);
        }
    }
    c->legend()->setVisible(false);  // the names are on the axis
    styleAxes(c);
}

void ChartPanel::updateCurrentMarker() {
    QChart* c = chart();
    // Reference lines are series named with a leading marker glyph, so a rebuild removes them with the rest.
    for (QAbstractSeries* s : c->series())
        if (s->objectName() == QLatin1String("marker")) {
            c->removeSeries(s);
            delete s;
        }
    if (c->axes(Qt::Horizontal).isEmpty() || c->axes(Qt::Vertical).isEmpty()) return;
    QAbstractAxis* xAxis = c->axes(Qt::Horizontal).front();
    QAbstractAxis* yAxis = c->axes(Qt::Vertical).front();
    auto yRange = [&]() -> std::pair<double, double> {
        if (auto* l = qobject_cast<QLogValueAxis*>(yAxis)) return {l->min(), l->max()};
        auto* v = qobject_cast<QValueAxis*>(yAxis);
        return {v->min(), v->max()};
    }();
    auto addLine = [&](double x, const QString& name, const QColor& color, Qt::PenStyle style) {
        auto* line = new QLineSeries;
        line->setObjectName(QStringLiteral("marker"));
        line->setName(name);
        line->append(x, yRange.first);
        line->append(x, yRange.second);
        QPen pen(color);
        pen.setStyle(style);
        pen.setWidthF(1.5);
        line->setPen(pen);
        c->addSeries(line);
        line->attachAxis(xAxis);
        line->attachAxis(yAxis);
        for (QLegendMarker* m : c->legend()->markers(line)) m->setVisible(false);
    };
    for (const auto& m : spec_.xMarkers) {
        addLine(m.x, q(m.label), QColor(150, 150, 150), Qt::DotLine);
        // Named where it stands (a dotted line nobody can name is no help): the name above its top end.
        auto* line = static_cast<QLineSeries*>(c->series().back());
        line->setPointLabelsFormat(q(m.label));  // no @ placeholders: the name itself
        line->setPointLabelsVisible(true);
        line->setPointLabelsClipping(false);
        line->setPointLabelsColor(QColor(110, 110, 110));
        line->setPointConfiguration(0, QXYSeries::PointConfiguration::LabelVisibility, false);
    }
    applyMargins();  // room above the plot for those names
    if (spec_.currentX) addLine(*spec_.currentX, tr("current"), QColor(220, 50, 50), Qt::SolidLine);
}

namespace {
/// Reference lines and whiskers are drawing aids, not data series.
bool isDataSeries(const QAbstractSeries* s) {
    return s->objectName() != QLatin1String("marker") && s->objectName() != QLatin1String("whisker");
}
}  // namespace

QStringList ChartPanel::seriesNames() const {
    QStringList names;
    for (QAbstractSeries* s : chart()->series())
        if (isDataSeries(s)) names << s->name();
    return names;
}

QList<QPointF> ChartPanel::seriesPoints(const QString& name) const {
    for (QAbstractSeries* s : chart()->series()) {
        if (!isDataSeries(s) || s->name() != name) continue;
        if (auto* xy = qobject_cast<QXYSeries*>(s)) return xy->points();
        if (auto* bar = qobject_cast<QAreaSeries*>(s)) {  // a (horizontal) bar: (its row, its value)
            const QList<QPointF> upper = bar->upperSeries()->points(), lower = bar->lowerSeries()->points();
            return {QPointF((upper.front().y() + lower.front().y()) / 2, upper.back().x())};
        }
    }
    return {};
}

QColor ChartPanel::seriesColor(const QString& name) const {
    for (QAbstractSeries* s : chart()->series()) {
        if (!isDataSeries(s) || s->name() != name) continue;
        if (auto* xy = qobject_cast<QXYSeries*>(s)) return xy->color();
        if (auto* bar = qobject_cast<QAreaSeries*>(s)) return bar->color();
    }
    return {};
}

void ChartPanel::layOutOffscreen(const QSize& logical) {
    toolBar_->hide();
    setAttribute(Qt::WA_DontShowOnScreen);  // laid out and painted like a window, never shown
    resize(logical);
    show();
    // Qt Charts lays out through posted events; user input is not ours to handle here. The legend's place
    // depends on the laid-out plot's width, so it is chosen again once that is known, and laid out again.
    QCoreApplication::processEvents(QEventLoop::ExcludeUserInputEvents);
    placeLegend();
    fitTicks();
    QCoreApplication::processEvents(QEventLoop::ExcludeUserInputEvents);
}

QImage ChartPanel::renderImage(const study::Table& table, const study::ChartSpec& spec, const ExportImageOptions& options) {
    ChartPanel panel;
    panel.setData(table, spec);
    panel.layOutOffscreen(options.logicalSize().toSize());
    QImage image(options.pixels, QImage::Format_RGB32);  // no alpha channel: opaque everywhere
    image.setDevicePixelRatio(options.scale());
    const int dotsPerMeter = int(std::lround(options.dpi / 0.0254));
    image.setDotsPerMeterX(dotsPerMeter);
    image.setDotsPerMeterY(dotsPerMeter);
    image.fill(panel.chart()->backgroundBrush().color());
    QPainter painter(&image);
    painter.setRenderHint(QPainter::Antialiasing);
    panel.renderFigure(painter);  // in logical coordinates: the device pixel ratio does the scaling once
    return image;
}

void ChartPanel::exportPng(const QString& path, const ExportImageOptions& options) const {
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    if (!renderImage(options).save(&buffer, "PNG")) throw std::runtime_error("cannot encode the chart as PNG");
    saveAtomically(path, bytes);
}

void ChartPanel::exportSvg(const QString& path, const ExportImageOptions& options) const {
    ChartPanel panel;
    panel.setData(table_, spec_);
    const QSize logical = options.logicalSize().toSize();
    panel.layOutOffscreen(logical);
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    QSvgGenerator generator;
    generator.setOutputDevice(&buffer);
    generator.setSize(logical);
    generator.setViewBox(QRect(QPoint(0, 0), logical));
    generator.setTitle(q(spec_.title));
    generator.setDescription(QStringLiteral("KernelScope chart"));
    {
        QPainter painter(&generator);
        painter.fillRect(QRect(QPoint(0, 0), logical), panel.chart()->backgroundBrush().color());
        panel.renderFigure(painter);
    }
    saveAtomically(path, bytes);
}

void ChartPanel::exportCsv(const QString& path) const {
    // The figure's title and parameters as comment lines (pandas: read_csv(path, comment="#")).
    saveAtomically(path, QByteArray::fromStdString(table_.toCsv({spec_.title, spec_.caption})));
}

void ChartPanel::copyImage() const {
    QImage image(figure_->size(), QImage::Format_RGB32);
    image.fill(chart()->backgroundBrush().color());
    QPainter painter(&image);
    painter.setRenderHint(QPainter::Antialiasing);
    renderFigure(painter);
    painter.end();
    QApplication::clipboard()->setImage(image);
}

void ChartPanel::askAndExport(const QString& kind) {
    if (kind == QLatin1String("copy")) {
        copyImage();
        return;
    }
    if (kind == QLatin1String("size")) {
        ExportOptionsDialog dialog(ExportImageOptions::load(), nullptr, this);
        if (dialog.exec() == QDialog::Accepted) dialog.options().save();
        return;
    }
    const QString stem = spec_.id.empty() ? QStringLiteral("chart") : q(spec_.id);
    const QString suffix = kind.startsWith(QLatin1String("png")) ? QStringLiteral("png") : kind;
    const QString filter = suffix.toUpper() + QStringLiteral(" (*.") + suffix + QLatin1Char(')');
    const QString path = QFileDialog::getSaveFileName(this, tr("Export chart"), stem + QLatin1Char('.') + suffix, filter);
    if (path.isEmpty()) return;
    try {
        if (kind == QLatin1String("png")) exportPng(path);
        else if (kind == QLatin1String("svg")) exportSvg(path);
        else exportCsv(path);
        Q_EMIT exported(path);
    } catch (const std::exception& e) {
        Q_EMIT exportFailed(q(e.what()));
    }
}

void ChartPanel::contextMenu(const QPoint& position) {
    QMenu menu(this);
    for (QAction* a : actions()) menu.addAction(a);
    menu.exec(view_->mapToGlobal(position));
}

void ChartPanel::renderToPng(const study::Table& table, const study::ChartSpec& spec, const QString& path,
                             const ExportImageOptions& options) {
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    if (!renderImage(table, spec, options).save(&buffer, "PNG")) throw std::runtime_error("cannot encode the chart as PNG");
    saveAtomically(path, bytes);
}

}  // namespace ks::ui
