#include "charts/chart_panel.hpp"

#include <QAction>
#include <QApplication>
#include <QBuffer>
#include <QChart>
#include <QChartView>
#include <QClipboard>
#include <QFile>
#include <QFileDialog>
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

QAbstractAxis* makeAxis(bool logScale, const QString& title, double lo, double hi) {
    if (logScale) {
        auto* axis = new QLogValueAxis;
        axis->setBase(10);
        axis->setLabelFormat(QStringLiteral("%.0e"));
        axis->setMinorTickCount(0);
        if (lo > 0 && hi > 0) {
            // Whole decades around the data, at most ~16 of them so labels stay readable.
            double a = std::floor(std::log10(lo)), b = std::ceil(std::log10(hi));
            if (a == b) b += 1;
            a = std::max(a, b - 16);
            axis->setRange(std::pow(10.0, a), std::pow(10.0, b));
        }
        axis->setTitleText(title);
        return axis;
    }
    auto* axis = new QValueAxis;
    if (lo <= hi) {
        // A little room at both ends so points and markers at the extremes stay visible, but not
        // below zero for positive data (times: an axis from -10 ms reads as nonsense). A point at
        // zero (an index) keeps its room.
        const double pad = lo == hi ? std::max(1.0, std::fabs(lo) * 0.1) : 0.03 * (hi - lo);
        axis->setRange(lo > 0 ? std::max(0.0, lo - pad) : lo - pad, hi + pad);
        axis->applyNiceNumbers();
    }
    axis->setLabelFormat(QStringLiteral("%g"));
    axis->setTitleText(title);
    return axis;
}

}  // namespace

ChartPanel::ChartPanel(QWidget* parent) : QWidget(parent), view_(new QChartView(this)), toolBar_(new QToolBar(this)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    toolBar_->setIconSize(QSize(16, 16));
    toolBar_->setToolButtonStyle(Qt::ToolButtonTextOnly);
    layout->addWidget(toolBar_);
    layout->addWidget(view_, 1);
    view_->setRenderHint(QPainter::Antialiasing);
    view_->setChart(new QChart);
    applyPaletteTheme();
    view_->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(view_, &QWidget::customContextMenuRequested, this, &ChartPanel::contextMenu);

    struct Entry {
        QString text, tip, kind;
        QKeySequence key;
    };
    const Entry entries[] = {
        {tr("PNG"), tr("Export the chart as a PNG image at screen resolution (Ctrl+E)"), QStringLiteral("png"),
         QKeySequence(Qt::CTRL | Qt::Key_E)},
        {tr("PNG 2×"), tr("Export the chart as a PNG image at twice the resolution"), QStringLiteral("png2"), {}},
        {tr("SVG"), tr("Export the chart as a scalable SVG drawing"), QStringLiteral("svg"), {}},
        {tr("CSV"), tr("Export the data behind the chart as CSV"), QStringLiteral("csv"), {}},
        {tr("Copy"), tr("Copy the chart image to the clipboard (Ctrl+Shift+C)"), QStringLiteral("copy"),
         QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C)},
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
}

ChartPanel::~ChartPanel() = default;

QChart* ChartPanel::chart() const { return view_->chart(); }

void ChartPanel::applyPaletteTheme() {
    const bool dark = palette().color(QPalette::Window).lightness() < 128;
    const QChart::ChartTheme theme = dark ? QChart::ChartThemeDark : QChart::ChartThemeLight;
    if (chart()->theme() != theme) chart()->setTheme(theme);
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
    c->setTitle(q(spec_.title));
    if (table_.rowCount() == 0 || !table_.hasColumn(spec_.xColumn) || !table_.hasColumn(spec_.yColumn)) return;

    const auto& xs = table_.numbers(spec_.xColumn);
    const auto& ys = table_.numbers(spec_.yColumn);
    std::vector<std::string> groups = spec_.seriesColumn.empty() ? std::vector<std::string>{spec_.yColumn}
                                                                 : table_.distinct(spec_.seriesColumn);
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    auto usable = [&](double x, double y) {
        return std::isfinite(x) && std::isfinite(y) && (!spec_.xLog || x > 0) && (!spec_.yLog || y > 0);
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
        QXYSeries* series = spec_.scatter ? static_cast<QXYSeries*>(new QScatterSeries) : new QLineSeries;
        series->setName(q(group));
        series->replace(points);
        if (!spec_.scatter) series->setPointsVisible(points.size() <= 40);
        if (auto* scatter = qobject_cast<QScatterSeries*>(series)) scatter->setMarkerSize(8);
        if (!spec_.highlightSeries.empty() && group == spec_.highlightSeries) {
            QPen pen = series->pen();
            pen.setWidthF(3.0);
            pen.setStyle(Qt::DashLine);
            series->setPen(pen);
        }
        c->addSeries(series);
        made.push_back(series);
    }
    if (!std::isfinite(xlo)) xlo = xhi = spec_.xLog ? 1 : 0;
    if (!std::isfinite(ylo)) ylo = yhi = spec_.yLog ? 1 : 0;
    QAbstractAxis* xAxis = makeAxis(spec_.xLog, q(spec_.xLabel.empty() ? spec_.xColumn : spec_.xLabel), xlo, xhi);
    QAbstractAxis* yAxis = makeAxis(spec_.yLog, q(spec_.yLabel.empty() ? spec_.yColumn : spec_.yLabel), ylo, yhi);
    c->addAxis(xAxis, Qt::AlignBottom);
    c->addAxis(yAxis, Qt::AlignLeft);
    for (auto* s : made) {
        s->attachAxis(xAxis);
        s->attachAxis(yAxis);
    }
    c->legend()->setVisible(made.size() > 1);
    c->legend()->setAlignment(Qt::AlignRight);
    updateCurrentMarker();
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
    for (const auto& m : spec_.xMarkers) addLine(m.x, q(m.label), QColor(150, 150, 150), Qt::DotLine);
    if (spec_.currentX) addLine(*spec_.currentX, tr("current"), QColor(220, 50, 50), Qt::SolidLine);
}

QStringList ChartPanel::seriesNames() const {
    QStringList names;
    for (QAbstractSeries* s : chart()->series())
        if (s->objectName() != QLatin1String("marker")) names << s->name();
    return names;
}

QList<QPointF> ChartPanel::seriesPoints(const QString& name) const {
    for (QAbstractSeries* s : chart()->series())
        if (s->objectName() != QLatin1String("marker") && s->name() == name)
            if (auto* xy = qobject_cast<QXYSeries*>(s)) return xy->points();
    return {};
}

QImage ChartPanel::renderImage(const QSize& logicalSize, qreal scale) const {
    QImage image(logicalSize * scale, QImage::Format_ARGB32_Premultiplied);
    image.setDevicePixelRatio(scale);
    image.fill(chart()->backgroundBrush().color());
    QPainter painter(&image);
    painter.setRenderHint(QPainter::Antialiasing);
    // An explicit target rect in logical coordinates: the device pixel ratio does the scaling once.
    view_->render(&painter, QRectF(QPointF(0, 0), QSizeF(logicalSize)), view_->viewport()->rect());
    return image;
}

void ChartPanel::exportPng(const QString& path, qreal scale) const {
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    if (!renderImage(view_->size(), scale).save(&buffer, "PNG"))
        throw std::runtime_error("cannot encode the chart as PNG");
    saveAtomically(path, bytes);
}

void ChartPanel::exportSvg(const QString& path) const {
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    QSvgGenerator generator;
    generator.setOutputDevice(&buffer);
    generator.setSize(view_->size());
    generator.setViewBox(QRect(QPoint(0, 0), view_->size()));
    generator.setTitle(q(spec_.title));
    generator.setDescription(QStringLiteral("KernelScope chart"));
    {
        QPainter painter(&generator);
        view_->render(&painter, QRectF(QPointF(0, 0), QSizeF(view_->size())), view_->viewport()->rect());
    }
    saveAtomically(path, bytes);
}

void ChartPanel::exportCsv(const QString& path) const {
    saveAtomically(path, QByteArray::fromStdString(table_.toCsv()));
}

void ChartPanel::copyImage() const { QApplication::clipboard()->setImage(renderImage(view_->size(), 1.0)); }

void ChartPanel::askAndExport(const QString& kind) {
    if (kind == QLatin1String("copy")) {
        copyImage();
        return;
    }
    const QString stem = spec_.id.empty() ? QStringLiteral("chart") : q(spec_.id);
    const QString suffix = kind.startsWith(QLatin1String("png")) ? QStringLiteral("png") : kind;
    const QString filter = suffix.toUpper() + QStringLiteral(" (*.") + suffix + QLatin1Char(')');
    const QString path = QFileDialog::getSaveFileName(this, tr("Export chart"), stem + QLatin1Char('.') + suffix, filter);
    if (path.isEmpty()) return;
    try {
        if (kind == QLatin1String("png")) exportPng(path, 1.0);
        else if (kind == QLatin1String("png2")) exportPng(path, 2.0);
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
                             const QSize& size, qreal scale) {
    ChartPanel panel;
    panel.toolBar()->hide();
    panel.setAttribute(Qt::WA_DontShowOnScreen);  // laid out and painted like a window, never shown
    panel.resize(size);
    panel.setData(table, spec);
    panel.show();
    QCoreApplication::processEvents();
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    if (!panel.renderImage(panel.view_->size(), scale).save(&buffer, "PNG")) throw std::runtime_error("cannot encode the chart as PNG");
    saveAtomically(path, bytes);
}

}  // namespace ks::ui
