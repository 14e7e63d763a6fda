#pragma once
// Winograd / Cook–Toom minimal filtering F(m, r): y = Aᵀ[(G g) ⊙ (Bᵀ d)] for the correlation of
// a tile d of α = m + r − 1 inputs with an r-tap filter g. The matrices are generated from α − 1
// finite interpolation points plus the point at infinity (Lavin & Gray 2016; Barabasz et al. 2020),
// in double precision:
//   Aᵀ[i][j] = a_j^i,                     Aᵀ[i][∞] = [i = m−1]
//   G[j][k]  = a_j^k / Π_{l≠j}(a_j − a_l), G[∞][k]  = [k = r−1]
//   Bᵀ[j][i] = coefficient of x^i in Π_{l≠j}(x − a_l),  Bᵀ[∞][i] = coefficient of x^i in Π_l(x − a_l)
// (Bᵀ is the transposed interpolation matrix of the linear convolution algorithm; correlation is
// the transpose of convolution.) 2-D: Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A.
#include <string>
#include <vector>

namespace ks::conv {

struct WinogradTransforms {
    int m = 0;      ///< outputs per tile (per dimension)
    int r = 0;      ///< filter taps
    int alpha = 0;  ///< tile size m + r − 1
    std::vector<double> points;  ///< the α − 1 finite points (∞ is always the last)
    std::vector<double> AT;      ///< m × α, row-major
    std::vector<double> G;       ///< α × r
    std::vector<double> BT;      ///< α × α
};

/// The usual points in order of preference: 0, 1, −1, 1/2, −1/2, 2, −2, 1/4, −1/4, 4, −4, ...
std::vector<double> defaultWinogradPoints(int count);

/// Cook–Toom construction; `finitePoints` must hold m + r − 2 distinct values
/// (std::invalid_argument otherwise). Empty = defaultWinogradPoints.
WinogradTransforms cookToom(int m, int r, std::vector<double> finitePoints = {});

/// "0, 1, -1, 1/2, -1/2, inf" style listing for descriptions.
std::string describePoints(const std::vector<double>& finitePoints);

}  // namespace ks::conv
