#include "numeric/mx.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace ks::numeric {
namespace {

struct FloatLayout {
    int exponentBits, mantissaBits;
    bool allOnesExponentIsSpecial;  ///< E5M2: the all-ones exponent is inf/NaN
    bool allOnesCodeIsNaN;          ///< E4M3: only S.1111.111 is NaN
};

FloatLayout layoutOf(MxElement e) {
    switch (e) {
        case MxElement::E4M3: return {4, 3, false, true};
        case MxElement::E5M2: return {5, 2, true, false};
        case MxElement::E3M2: return {3, 2, false, false};
        case MxElement::E2M3: return {2, 3, false, false};
        case MxElement::E2M1: return {2, 1, false, false};
        case MxElement::Int8: break;
    }
    throw std::logic_error("MXINT8 has no float layout");
}

std::vector<double> magnitudesOf(MxElement e) {
    std::vector<double> values;
    if (e == MxElement::Int8) {
        for (int k = 0; k <= 127; ++k) values.push_back(k / 64.0);
        return values;
    }
    const FloatLayout f = layoutOf(e);
    const int bias = (1 << (f.exponentBits - 1)) - 1;
    const int exponents = 1 << f.exponentBits, mantissas = 1 << f.mantissaBits;
    for (int E = 0; E < exponents; ++E) {
        if (f.allOnesExponentIsSpecial && E == exponents - 1) break;
        for (int M = 0; M < mantissas; ++M) {
            if (f.allOnesCodeIsNaN && E == exponents - 1 && M == mantissas - 1) break;
            const double fraction = double(M) / mantissas;
            values.push_back(E == 0 ? std::ldexp(fraction, 1 - bias) : std::ldexp(1 + fraction, E - bias));
        }
    }
    return values;
}

}  // namespace

std::string mxName(MxElement e) {
    switch (e) {
        case MxElement::E4M3: return "mxfp8-e4m3";
        case MxElement::E5M2: return "mxfp8-e5m2";
        case MxElement::E3M2: return "mxfp6-e3m2";
        case MxElement::E2M3: return "mxfp6-e2m3";
        case MxElement::E2M1: return "mxfp4";
        case MxElement::Int8: return "mxint8";
    }
    return "?";
}

int mxElementEmax(MxElement e) {
    switch (e) {
        case MxElement::E4M3: return 8;
        case MxElement::E5M2: return 15;
        case MxElement::E3M2: return 4;
        case MxElement::E2M3:
        case MxElement::E2M1: return 2;
        case MxElement::Int8: return 0;
    }
    return 0;
}

const std::vector<double>& mxElementMagnitudes(MxElement e) {
    static const std::vector<double> tables[] = {magnitudesOf(MxElement::E4M3), magnitudesOf(MxElement::E5M2),
                                                 magnitudesOf(MxElement::E3M2), magnitudesOf(MxElement::E2M3),
                                                 magnitudesOf(MxElement::E2M1), magnitudesOf(MxElement::Int8)};
    return tables[static_cast<int>(e)];
}

double roundToMxElement(double v, MxElement e) {
    if (std::isnan(v)) return v;
    const std::vector<double>& grid = mxElementMagnitudes(e);
    const double size = std::fabs(v);
    double r;
    if (size >= grid.back()) {
        r = grid.back();  // saturate
    } else {
        // The first grid value ≥ |v| and the one below it; the nearer wins, a tie goes to the even index.
        const auto above = std::lower_bound(grid.begin(), grid.end(), size);
        const std::size_t hi = std::size_t(above - grid.begin());
        if (grid[hi] == size || hi == 0) {
            r = grid[hi];
        } else {
            const std::size_t lo = hi - 1;
            const double down = size - grid[lo], up = grid[hi] - size;
            r = down < up ? grid[lo] : up < down ? grid[hi] : grid[lo % 2 == 0 ? lo : hi];
        }
    }
    return std::copysign(r, v);
}

std::optional<int> mxSharedExponent(double amax, MxElement e) {
    if (!std::isfinite(amax)) return std::nullopt;
    if (amax == 0) return -127;
    const int exponent = std::ilogb(amax) - mxElementEmax(e);  // ilogb: floor(log2) exactly, subnormals included
    return std::clamp(exponent, -127, 127);
}

namespace {

template <class T>
void quantizeRows(std::span<const T> in, std::span<T> out, std::int64_t rowLength, MxElement e, int blockSize) {
    if (rowLength < 1) throw std::invalid_argument("mxQuantize: row length " + std::to_string(rowLength) + " < 1");
    if (blockSize < 1) throw std::invalid_argument("mxQuantize: block size " + std::to_string(blockSize) + " < 1");
    if (in.size() != out.size() || in.size() % std::size_t(rowLength) != 0)
        throw std::invalid_argument("mxQuantize: " + std::to_string(in.size()) + " inputs, " + std::to_string(out.size()) +
                                    " outputs and rows of " + std::to_string(rowLength) + " do not match");
    const std::size_t rows = in.size() / std::size_t(rowLength);
    for (std::size_t row = 0; row < rows; ++row)
        for (std::int64_t start = 0; start < rowLength; start += blockSize) {
            const std::size_t begin = row * std::size_t(rowLength) + std::size_t(start);
            const std::size_t end = begin + std::size_t(std::min<std::int64_t>(blockSize, rowLength - start));
            double amax = 0;
            for (std::size_t i = begin; i < end; ++i)
                amax = std::isnan(in[i]) ? double(in[i]) : std::max(amax, std::fabs(double(in[i])));
            const std::optional<int> shared = mxSharedExponent(amax, e);
            for (std::size_t i = begin; i < end; ++i) {
                if (!shared) {
                    out[i] = std::numeric_limits<T>::quiet_NaN();
                    continue;
                }
                // Scaling by a power of two is exact in double; the element times the scale is exact in T (an element
                // has at most 8 significant bits, and for float inputs the scale keeps it within float's range).
                const double element = roundToMxElement(std::ldexp(double(in[i]), -*shared), e);
                out[i] = T(std::ldexp(element, *shared));
            }
        }
}

}  // namespace

void mxQuantize(std::span<const float> in, std::span<float> out, std::int64_t rowLength, MxElement e, int blockSize) {
    quantizeRows(in, out, rowLength, e, blockSize);
}

void mxQuantize(std::span<const double> in, std::span<double> out, std::int64_t rowLength, MxElement e, int blockSize) {
    quantizeRows(in, out, rowLength, e, blockSize);
}

std::optional<MxElement> parseMxName(std::string_view name) {
    if (name == "mxfp8") return MxElement::E4M3;
    for (MxElement e : {MxElement::E4M3, MxElement::E5M2, MxElement::E3M2, MxElement::E2M3, MxElement::E2M1, MxElement::Int8})
        if (name == mxName(e)) return e;
    return std::nullopt;
}

std::vector<std::string> mxNames() {
    std::vector<std::string> out;
    for (MxElement e : {MxElement::E4M3, MxElement::E5M2, MxElement::E3M2, MxElement::E2M3, MxElement::E2M1, MxElement::Int8})
        out.push_back(mxName(e));
    return out;
}

}  // namespace ks::numeric
