#include "numeric/error_metrics.hpp"

#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace ks::numeric {

namespace {

template <class T, class R>
ErrorMetrics compute(std::span<const T> result, std::span<const R> reference) {
    if (result.size() != reference.size())
        throw std::invalid_argument("error metrics: result has " + std::to_string(result.size()) +
                                    " elements, reference " + std::to_string(reference.size()));
    ErrorMetrics m;
    long double sumSq = 0, refSq = 0, sumAbs = 0;
    for (std::size_t i = 0; i < result.size(); ++i) {
        const double x = static_cast<double>(result[i]);
        const double r = static_cast<double>(reference[i]);
        if (!std::isfinite(r)) {
            ++m.referenceNonFinite;
            continue;
        }
        if (!std::isfinite(x)) {
            ++m.nonFinite;
            continue;
        }
        const double d = std::fabs(x - r);
        ++m.count;
        sumAbs += d;
        sumSq += static_cast<long double>(d) * d;
        refSq += static_cast<long double>(r) * r;
        if (d > m.maxAbs) m.maxAbs = d;
        if (r != 0 && d / std::fabs(r) > m.maxRelative) m.maxRelative = d / std::fabs(r);
    }
    if (m.count) {
        m.meanAbs = static_cast<double>(sumAbs / m.count);
        m.meanSquared = static_cast<double>(sumSq / m.count);
        m.relativeFrobenius = static_cast<double>(refSq > 0 ? std::sqrt(sumSq / refSq) : std::sqrt(sumSq));
    }
    return m;
}

}  // namespace

ErrorMetrics errorMetrics(std::span<const double> result, std::span<const double> reference) {
    return compute(result, reference);
}
ErrorMetrics errorMetrics(std::span<const float> result, std::span<const double> reference) {
    return compute(result, reference);
}
ErrorMetrics errorMetrics(std::span<const float> result, std::span<const float> reference) {
    return compute(result, reference);
}

std::string toString(const ErrorMetrics& m) {
    char buf[320];
    std::snprintf(buf, sizeof buf,
                  "rel.frob %.3e  max.abs %.3e  mean.abs %.3e  mse %.3e  max.rel %.3e  compared %zu  non-finite %zu",
                  m.relativeFrobenius, m.maxAbs, m.meanAbs, m.meanSquared, m.maxRelative, m.count, m.nonFinite);
    std::string s = buf;
    if (m.referenceNonFinite) {
        std::snprintf(buf, sizeof buf, "  reference non-finite %zu", m.referenceNonFinite);
        s += buf;
    }
    return s;
}

}  // namespace ks::numeric
