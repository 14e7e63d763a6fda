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

struct ChartSpec {
    std::string id;     ///< file name stem when exported, e.g. "precision-conv"
    std::string title;
    std::string xColumn, yColumn;
    std::string seriesColumn;  ///< label column whose values name the series; empty: one series
    std::string xLabel, yLabel;
    bool xLog = false, yLog = false;
    bool scatter = false;  ///< points instead of lines
    std::vector<Marker> xMarkers;           ///< vertical reference lines (e.g. named formats)
    std::optional<double> currentX;         ///< the slider's position
    std::string highlightSeries;            ///< drawn thicker (e.g. the baseline)
};

}  // namespace ks::study
