#include "matmul/matmul_problem.hpp"

#include <algorithm>
#include <stdexcept>

namespace ks::matmul {

MatmulProblem MatmulProblem::fromShapes(const Shape& a, const Shape& b, std::optional<std::int64_t> rankA,
                                        std::optional<std::int64_t> rankB) {
    if (a.size() != 2)
        throw std::invalid_argument("matmul: A must be a matrix (2-D), got shape " + shapeToString(a));
    if (b.size() != 2)
        throw std::invalid_argument("matmul: B must be a matrix (2-D), got shape " + shapeToString(b));
    if (a[1] != b[0])
        throw std::invalid_argument("matmul: shapes do not match: A is " + shapeToString(a) + " and B is " +
                                    shapeToString(b) + "; A's columns (" + std::to_string(a[1]) +
                                    ") must equal B's rows (" + std::to_string(b[0]) + ")");
    MatmulProblem p{a[0], a[1], b[1], rankA, rankB};
    p.validate();
    return p;
}

void MatmulProblem::validate() const {
    if (m <= 0 || k <= 0 || n <= 0)
        throw std::invalid_argument("matmul: every dimension must be positive, got " + toString());
    if (rankA && *rankA <= 0)
        throw std::invalid_argument("matmul: rank of A must be positive, got " + std::to_string(*rankA));
    if (rankB && *rankB <= 0)
        throw std::invalid_argument("matmul: rank of B must be positive, got " + std::to_string(*rankB));
}

double MatmulProblem::factoredFlops() const {
    const double M = double(m), K = double(k), N = double(n);
    // A rank above min(rows, cols) is clipped to it by the factorisation.
    const double ra = rankA ? double(std::min(*rankA, std::min(m, k))) : 0.0;
    const double rb = rankB ? double(std::min(*rankB, std::min(k, n))) : 0.0;
    if (rankA && rankB) {
        // La (M×ra) · [Ra (ra×K) · Lb (K×rb)] · Rb (rb×N): the middle product first, then the cheaper side.
        const double middle = 2 * ra * K * rb;
        const double leftFirst = 2 * M * ra * rb + 2 * M * rb * N;
        const double rightFirst = 2 * ra * rb * N + 2 * M * ra * N;
        return middle + std::min(leftFirst, rightFirst);
    }
    if (rankB) return 2 * M * K * rb + 2 * M * rb * N;  // (A·Lb)·Rb
    if (rankA) return 2 * ra * K * N + 2 * M * ra * N;  // La·(Ra·B)
    return denseFlops();
}

std::string MatmulProblem::toString() const {
    std::string s = "(" + std::to_string(m) + "×" + std::to_string(k) + ")·(" + std::to_string(k) + "×" +
                    std::to_string(n) + ")";
    if (rankA) s += " rank_a=" + std::to_string(*rankA);
    if (rankB) s += " rank_b=" + std::to_string(*rankB);
    return s;
}

}  // namespace ks::matmul
