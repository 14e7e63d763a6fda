#pragma once
// Our own FFT for the emulated path: iterative radix-2 decimation in time, every butterfly
// operation (twiddle product, sum, difference) one rounded operation of the arithmetic, the
// twiddles in the storage format. FFTW cannot do this (it computes in float or double only);
// tests check this FFT against FFTW. Sizes are powers of two: the FFT convolution chooses its
// transform size freely (any size ≥ the padded input), so that is no restriction.
#include <cmath>
#include <cstddef>
#include <numbers>
#include <stdexcept>
#include <vector>

#include "numeric/arithmetic.hpp"

namespace ks::conv {

inline bool isPowerOfTwo(std::size_t n) { return n && !(n & (n - 1)); }
inline std::size_t nextPowerOfTwo(std::size_t n) {
    std::size_t p = 1;
    while (p < n) p <<= 1;
    return p;
}

template <class V>
class Radix2Fft {
public:
    /// Twiddles e^{-2πik/n} computed in double, then stored through the arithmetic.
    template <numeric::Arithmetic Arith>
    Radix2Fft(std::size_t n, Arith& arith) : n_(n) {
        if (!isPowerOfTwo(n)) throw std::invalid_argument("radix-2 FFT size must be a power of two");
        cosTable_.resize(n / 2);
        sinTable_.resize(n / 2);
        for (std::size_t k = 0; k < n / 2; ++k) {
            const double angle = -2.0 * std::numbers::pi * static_cast<double>(k) / static_cast<double>(n);
            cosTable_[k] = arith.store(static_cast<V>(std::cos(angle)));
            sinTable_[k] = arith.store(static_cast<V>(std::sin(angle)));
        }
    }

    std::size_t size() const { return n_; }

    /// In place over re[i·stride], im[i·stride]. Forward: Σ x_j e^{-2πijk/n}; inverse: e^{+...},
    /// unscaled (as FFTW).
    template <numeric::Arithmetic Arith>
    void transform(V* re, V* im, std::size_t stride, bool inverse, Arith& arith) const {
        const std::size_t n = n_;
        for (std::size_t i = 1, j = 0; i < n; ++i) {  // bit-reversal permutation
            std::size_t bit = n >> 1;
            for (; j & bit; bit >>= 1) j ^= bit;
            j ^= bit;
            if (i < j) {
                std::swap(re[i * stride], re[j * stride]);
                std::swap(im[i * stride], im[j * stride]);
            }
        }
        for (std::size_t len = 2; len <= n; len <<= 1) {
            const std::size_t half = len / 2, step = n / len;
            for (std::size_t start = 0; start < n; start += len)
                for (std::size_t j = 0; j < half; ++j) {
                    const std::size_t a = (start + j) * stride, b = (start + j + half) * stride;
                    V tr = re[b], ti = im[b];
                    if (j != 0) {  // the twiddle 1 is exact: a kernel skips it too
                        const V wr = cosTable_[j * step];
                        const V wi = inverse ? -sinTable_[j * step] : sinTable_[j * step];
                        tr = arith.sub(arith.mul(re[b], wr), arith.mul(im[b], wi));
                        ti = arith.add(arith.mul(re[b], wi), arith.mul(im[b], wr));
                    }
                    re[b] = arith.sub(re[a], tr);
                    im[b] = arith.sub(im[a], ti);
                    re[a] = arith.add(re[a], tr);
                    im[a] = arith.add(im[a], ti);
                }
        }
    }

private:
    std::size_t n_;
    std::vector<V> cosTable_, sinTable_;
};

/// 2-D transform of a rows×cols complex array (row-major), rows then columns.
template <class V, class Arith>
void fft2d(const Radix2Fft<V>& rowFft, const Radix2Fft<V>& colFft, V* re, V* im, bool inverse, Arith& arith) {
    const std::size_t rows = colFft.size(), cols = rowFft.size();
    for (std::size_t r = 0; r < rows; ++r) rowFft.transform(re + r * cols, im + r * cols, 1, inverse, arith);
    for (std::size_t c = 0; c < cols; ++c) colFft.transform(re + c, im + c, cols, inverse, arith);
}

}  // namespace ks::conv
