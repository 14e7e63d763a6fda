#include "conv/winograd_transform.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace ks::conv {

std::vector<double> defaultWinogradPoints(int count) {
    std::vector<double> points;
    if (count > 0) points.push_back(0.0);
    for (int level = 0; static_cast<int>(points.size()) < count; ++level) {
        // level 0: ±1; level 1: ±1/2; level 2: ±2; level 3: ±1/4; level 4: ±4; ...
        double v = 1.0;
        if (level > 0) v = (level % 2 == 1) ? std::ldexp(1.0, -((level + 1) / 2)) : std::ldexp(1.0, level / 2);
        for (double p : {v, -v})
            if (static_cast<int>(points.size()) < count) points.push_back(p);
    }
    return points;
}

namespace {

/// Coefficients (lowest degree first) of Π (x − roots[i]) over i ≠ skip.
std::vector<double> productPolynomial(const std::vector<double>& roots, std::size_t skip) {
    std::vector<double> poly{1.0};
    for (std::size_t i = 0; i < roots.size(); ++i) {
        if (i == skip) continue;
        std::vector<double> next(poly.size() + 1, 0.0);
        for (std::size_t d = 0; d < poly.size(); ++d) {
            next[d + 1] += poly[d];
            next[d] -= roots[i] * poly[d];
        }
        poly = std::move(next);
    }
    return poly;
}

}  // namespace

WinogradTransforms cookToom(int m, int r, std::vector<double> finitePoints) {
    if (m < 1 || r < 1) throw std::invalid_argument("Winograd F(m, r) needs m, r >= 1");
    const int alpha = m + r - 1;
    if (finitePoints.empty()) finitePoints = defaultWinogradPoints(alpha - 1);
    if (static_cast<int>(finitePoints.size()) != alpha - 1)
        throw std::invalid_argument("Winograd F(" + std::to_string(m) + ", " + std::to_string(r) + ") needs " +
                                    std::to_string(alpha - 1) + " finite interpolation points, got " +
                                    std::to_string(finitePoints.size()));
    for (std::size_t i = 0; i < finitePoints.size(); ++i) {
        if (!std::isfinite(finitePoints[i]))
            throw std::invalid_argument("Winograd interpolation points must be finite (infinity is implied)");
        for (std::size_t j = 0; j < i; ++j)
            if (finitePoints[i] == finitePoints[j])
                throw std::invalid_argument("Winograd interpolation points must be distinct; " +
                                            describePoints({finitePoints[i]}) + " appears twice");
    }
    WinogradTransforms t;
    t.m = m;
    t.r = r;
    t.alpha = alpha;
    t.points = finitePoints;
    const auto& a = finitePoints;
    const int nf = alpha - 1;
    t.AT.assign(static_cast<std::size_t>(m * alpha), 0.0);
    t.G.assign(static_cast<std::size_t>(alpha * r), 0.0);
    t.BT.assign(static_cast<std::size_t>(alpha * alpha), 0.0);
    for (int i = 0; i < m; ++i) {
        for (int j = 0; j < nf; ++j) t.AT[i * alpha + j] = std::pow(a[j], i);
        t.AT[i * alpha + nf] = (i == m - 1) ? 1.0 : 0.0;
    }
    for (int j = 0; j < nf; ++j) {
        double f = 1.0;
        for (int l = 0; l < nf; ++l)
            if (l != j) f *= a[j] - a[l];
        for (int k = 0; k < r; ++k) t.G[j * r + k] = std::pow(a[j], k) / f;
        const auto poly = productPolynomial(a, static_cast<std::size_t>(j));  // degree α − 2
        for (std::size_t i = 0; i < poly.size(); ++i) t.BT[j * alpha + static_cast<int>(i)] = poly[i];
    }
    for (int k = 0; k < r; ++k) t.G[nf * r + k] = (k == r - 1) ? 1.0 : 0.0;
    const auto full = productPolynomial(a, a.size());  // degree α − 1
    for (std::size_t i = 0; i < full.size(); ++i) t.BT[nf * alpha + static_cast<int>(i)] = full[i];
    return t;
}

std::string describePoints(const std::vector<double>& finitePoints) {
    std::ostringstream out;
    for (std::size_t i = 0; i < finitePoints.size(); ++i) {
        const double p = finitePoints[i];
        if (i) out << ", ";
        const double inv = 1.0 / p;
        if (p != 0 && std::fabs(p) < 1 && inv == std::round(inv))
            out << (p < 0 ? "-" : "") << "1/" << std::fabs(inv);
        else
            out << p;
    }
    return out.str();
}

}  // namespace ks::conv
