// The FFT convolution's emulated run on double lanes (numeric/fast_arithmetic.hpp), for the specs the
// float32 lanes refuse (formats of more than 11 bits of precision): conv_fft.cpp's generic definition
// with the same operations in the same order, kLanes rows or columns transformed side by side in
// branch-free loops that GCC vectorises, threaded over images' channels and output channels.
#include <algorithm>
#include <cmath>
#include <memory>
#include <numbers>
#include <stdexcept>
#include <vector>

#include "base/aligned_vector.hpp"
#include "base/parallel.hpp"
#include "conv/conv_lanes.hpp"
#include "conv/fft_lane_planes.hpp"
#include "conv/fft_radix2.hpp"
#include "numeric/fast_arithmetic.hpp"

namespace ks::conv::lanes {

namespace {

using numeric::FastEmulatedArithmetic;
constexpr std::int64_t kLanes = 8;  ///< one AVX-512 vector of doubles, two AVX2 ones

/// One transform length's stored twiddles, as Radix2Fft makes them (the inverse's sines negated: exact).
struct DoubleTwiddles {
    std::vector<double> cosine, sine, negatedSine;
    DoubleTwiddles(std::int64_t n, const FastEmulatedArithmetic& arith) {
        for (std::int64_t k = 0; k < n / 2; ++k) {
            const double angle = -2.0 * std::numbers::pi * static_cast<double>(k) / static_cast<double>(n);
            cosine.push_back(arith.store(std::cos(angle)));
            sine.push_back(arith.store(std::sin(angle)));
            negatedSine.push_back(-sine.back());
        }
    }
};

/// Radix2Fft::transform on kLanes interleaved sequences: element i of lane l at [i·kLanes + l].
void transformLanes(std::int64_t n, const DoubleTwiddles& t, bool inverse, double* re, double* im,
                    const FastEmulatedArithmetic& arith) {
    for (std::int64_t i = 1, j = 0; i < n; ++i) {  // bit-reversal permutation
        std::int64_t bit = n >> 1;
        for (; j & bit; bit >>= 1) j ^= bit;
        j ^= bit;
        if (i < j) {
            std::swap_ranges(re + i * kLanes, re + (i + 1) * kLanes, re + j * kLanes);
            std::swap_ranges(im + i * kLanes, im + (i + 1) * kLanes, im + j * kLanes);
        }
    }
    const double* sines = inverse ? t.negatedSine.data() : t.sine.data();
    for (std::int64_t len = 2; len <= n; len <<= 1) {
        const std::int64_t half = len / 2, step = n / len;
        for (std::int64_t start = 0; start < n; start += len)
            for (std::int64_t j = 0; j < half; ++j) {
                double* ra = re + (start + j) * kLanes;
                double* ia = im + (start + j) * kLanes;
                double* rb = re + (start + j + half) * kLanes;
                double* ib = im + (start + j + half) * kLanes;
                if (j == 0) {  // the twiddle 1 is exact: skipped, as the reference does
                    for (std::int64_t l = 0; l < kLanes; ++l) {
                        const double tr = rb[l], ti = ib[l];
                        rb[l] = arith.sub(ra[l], tr);
                        ib[l] = arith.sub(ia[l], ti);
                        ra[l] = arith.add(ra[l], tr);
                        ia[l] = arith.add(ia[l], ti);
                    }
                    continue;
                }
                const double wr = t.cosine[static_cast<std::size_t>(j * step)];
                const double wi = sines[j * step];
                for (std::int64_t l = 0; l < kLanes; ++l) {
                    const double tr = arith.sub(arith.mul(rb[l], wr), arith.mul(ib[l], wi));
                    const double ti = arith.add(arith.mul(rb[l], wi), arith.mul(ib[l], wr));
                    rb[l] = arith.sub(ra[l], tr);
                    ib[l] = arith.sub(ia[l], ti);
                    ra[l] = arith.add(ra[l], tr);
                    ia[l] = arith.add(ia[l], ti);
                }
            }
    }
}

/// The double lanes' 1-D transforms (LanePlanes' Transform).
struct DoubleLaneFft {
    const FastEmulatedArithmetic* arith;
    std::shared_ptr<const DoubleTwiddles> rowTwiddles, columnTwiddles;
    void operator()(std::int64_t n, bool rows, bool inverse, double* re, double* im) const {
        transformLanes(n, rows ? *rowTwiddles : *columnTwiddles, inverse, re, im, *arith);
    }
};

}  // namespace

void fftConvDouble(const ConvProblem& pr, const numeric::ComputeSpec& spec, const double* input,
                   const double* weight, const double* bias, double* output) {
    const FastEmulatedArithmetic arith(spec);  // std::invalid_argument with fastArithmeticRefusal's reason
    const std::int64_t Fh = static_cast<std::int64_t>(nextPowerOfTwo(static_cast<std::size_t>(pr.H + 2 * pr.padH)));
    const std::int64_t Fw = static_cast<std::int64_t>(nextPowerOfTwo(static_cast<std::size_t>(pr.W + 2 * pr.padW)));
    const LanePlanes<double, kLanes, DoubleLaneFft> planes(
        Fh, Fw, DoubleLaneFft{&arith, std::make_shared<const DoubleTwiddles>(Fw, arith), std::make_shared<const DoubleTwiddles>(Fh, arith)});
    const auto storedCopy = [&](const double* v, std::int64_t count) {
        std::vector<double> out(static_cast<std::size_t>(count));
        for (std::int64_t i = 0; i < count; ++i) out[static_cast<std::size_t>(i)] = arith.store(v[i]);
        return out;
    };
    const std::vector<double> x = storedCopy(input, pr.inputCount()), w = storedCopy(weight, pr.weightCount());
    const std::vector<double> b = bias ? storedCopy(bias, pr.K) : std::vector<double>{};
    const double scale = arith.store(1.0 / static_cast<double>(Fh * Fw));
    const std::int64_t plane = Fh * Fw;
    const double transformWork = 200.0 * double(plane) * std::log2(double(std::max<std::int64_t>(plane, 2)));

    // The spectrum of an h × wd block placed at (padH, padW) in a +0 plane.
    const auto spectrumOf = [&](const double* src, std::int64_t h, std::int64_t wd, std::int64_t padH,
                                std::int64_t padW, double* re, double* im, double* scratch) {
        const std::int64_t written = (padH + h) * Fw;  // the rows below are +0, not written nor read
        std::fill(re, re + written, 0.0);
        std::fill(im, im + written, 0.0);
        for (std::int64_t i = 0; i < h; ++i)
            for (std::int64_t j = 0; j < wd; ++j) re[(i + padH) * Fw + j + padW] = src[i * wd + j];
        planes.transform2d(re, im, false, scratch, padH + h);
    };

    // Every image's spectra first; then per output channel its C filter spectra and per image the sum
    // over channels, bin by bin in channel order, the inverse transform, the scaling and the bias.
    AlignedVector<double> xRe(static_cast<std::size_t>(pr.N * pr.C * plane)), xIm(xRe.size());
    parallelFor(pr.N * pr.C, transformWork * double(pr.N * pr.C), [&](std::int64_t begin, std::int64_t end) {
        AlignedVector<double> scratch(static_cast<std::size_t>(planes.scratchSize()));
        for (std::int64_t nc = begin; nc < end; ++nc)
            spectrumOf(x.data() + nc * pr.H * pr.W, pr.H, pr.W, pr.padH, pr.padW, xRe.data() + nc * plane,
                       xIm.data() + nc * plane, scratch.data());
    });
    const std::int64_t P = pr.P(), Q = pr.Q();
    const double work = (transformWork * double(pr.C + pr.N) + 100.0 * double(pr.N * pr.C * plane)) * double(pr.K);
    parallelFor(pr.K, work, [&](std::int64_t begin, std::int64_t end) {
        AlignedVector<double> wRe(static_cast<std::size_t>(pr.C * plane)), wIm(wRe.size());
        AlignedVector<double> accRe(static_cast<std::size_t>(plane)), accIm(accRe.size());
        AlignedVector<double> scratch(static_cast<std::size_t>(planes.scratchSize()));
        for (std::int64_t k = begin; k < end; ++k) {
            for (std::int64_t c = 0; c < pr.C; ++c)
                spectrumOf(w.data() + (k * pr.C + c) * pr.R * pr.S, pr.R, pr.S, 0, 0, wRe.data() + c * plane,
                           wIm.data() + c * plane, scratch.data());
            for (std::int64_t n = 0; n < pr.N; ++n) {
                std::fill(accRe.begin(), accRe.end(), 0.0);
                std::fill(accIm.begin(), accIm.end(), 0.0);
                for (std::int64_t c = 0; c < pr.C; ++c) {
                    const double* xr = xRe.data() + (n * pr.C + c) * plane;
                    const double* xi = xIm.data() + (n * pr.C + c) * plane;
                    const double* wr = wRe.data() + c * plane;
                    const double* wi = wIm.data() + c * plane;
                    for (std::int64_t i = 0; i < plane; ++i) {  // x · conj(w), then accumulated
                        const double re = arith.add(arith.mul(xr[i], wr[i]), arith.mul(xi[i], wi[i]));
                        const double im = arith.sub(arith.mul(xi[i], wr[i]), arith.mul(xr[i], wi[i]));
                        accRe[static_cast<std::size_t>(i)] = arith.add(accRe[static_cast<std::size_t>(i)], re);
                        accIm[static_cast<std::size_t>(i)] = arith.add(accIm[static_cast<std::size_t>(i)], im);
                    }
                }
                planes.transform2d(accRe.data(), accIm.data(), true, scratch.data());
                double* out = output + (n * pr.K + k) * P * Q;
                for (std::int64_t i = 0; i < P; ++i)
                    for (std::int64_t j = 0; j < Q; ++j) {
                        const double v = arith.mul(accRe[static_cast<std::size_t>(i * pr.strideH * Fw + j * pr.strideW)], scale);
                        out[i * Q + j] = bias ? arith.add(v, b[static_cast<std::size_t>(k)]) : v;
                    }
            }
        }
    });
}

}  // namespace ks::conv::lanes
