#pragma once
// What a chart shows, as plain data: which columns are x and y, how rows group into series, the
// axes' scales and the points to mark. The GUI and the CLI hand the same spec to ui's chart adapter,
// so every curve on screen can be reproduced headless.
#include <optional>
#include <string>
#include <vector>

namespace ks::study {

struct Marker {
    double x = 0;
    std::string label;  ///< e.g. "fp16"
};

/// The limits of a quantity itself (an accuracy lies in [0, 1], a relative error of a truncation in
/// [0, 1], a time is never negative): an axis never reaches past them, however its ticks fall.
struct AxisBounds {
    std::optional<double> min, max;
};

struct ChartSpec {
    std::string id;     ///< file name stem when exported, e.g. "precision-conv"
    std::string title;
    /// Every parameter the figure depends on, in words ("sums in fp32, round to nearest even, uniform
    /// inputs, 3 trials, seed 1, conv N=1 C=16 …"): drawn under the title and written at the head of the
    /// CSV, so that a figure can be reproduced from its files alone.
    std::string caption;
    std::string xColumn, yColumn;
    std::string seriesColumn;  ///< label column whose values name the series; empty: one series
    std::string xLabel, yLabel;
    bool xLog = false, yLog = false;
    bool scatter = false;  ///< points instead of lines
    std::vector<std::string> scatterSeries;  ///< these series as points only (settings of a sweep: no order to join)
    /// A horizontal bar per row, first row on top, named beside it by seriesColumn (algorithm names on a
    /// numeric axis from −2 to 6 read as nonsense); yColumn is the bar's length, on the bottom axis; whiskers
    /// from yLowColumn to yHighColumn when both are given. xLabel names the rows.
    bool bars = false;
    std::string yLowColumn, yHighColumn;
    /// Series names in a fixed order (e.g. an operation's registry): a series' colour is its place here,
    /// so one algorithm keeps one colour on every chart and in every run. Empty: colours by drawing order.
    std::vector<std::string> colorKeys;
    AxisBounds xBounds, yBounds;
    bool xIntegers = false;   ///< x takes whole values (bits, ranks): ticks on whole numbers, the data's range
    bool yLogIfWide = false;  ///< y on a log axis when its positive data span more than two decades
    std::vector<Marker> xMarkers;           ///< vertical reference lines (e.g. named formats)
    std::optional<double> currentX;         ///< the slider's position
    std::string highlightSeries;            ///< drawn thicker (e.g. the baseline)
};

}  // namespace ks::study
