#pragma once
// The one median and quantile of the project (studies, timings, benchmarks), with one convention:
// NaNs are left out, and a quantile of nothing is NaN (never 0, which reads as a measurement).
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace ks {

/// The q-quantile (0 ≤ q ≤ 1) by linear interpolation between order statistics (numpy's default, type 7):
/// the median of an even count is the mean of the middle two. NaNs ignored; NaN when none is left.
inline double quantile(std::vector<double> values, double q) {
    std::erase_if(values, [](double x) { return std::isnan(x); });
    if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
    std::sort(values.begin(), values.end());
    const double position = std::clamp(q, 0.0, 1.0) * double(values.size() - 1);
    const auto lower = static_cast<std::size_t>(std::floor(position));
    const double fraction = position - double(lower);
    if (fraction == 0) return values[lower];  // no interpolation: 0 · (∞ − x) would be NaN
    return values[lower] + fraction * (values[lower + 1] - values[lower]);
}

inline double median(std::vector<double> values) { return quantile(std::move(values), 0.5); }

}  // namespace ks
