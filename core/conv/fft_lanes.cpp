// The FFT convolution's emulated run on float32 lanes: conv_fft.cpp's generic definition (power-of-two
// planes, our radix-2 FFT, rows then columns; the filters' spectra; per output channel the sum over
// input channels of x · conj(w), the inverse transform, the scaling and the bias) with the same
// operations in the same order, kCombineLength rows or columns transformed side by side.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <numbers>
#include <stdexcept>
#include <vector>

#include "base/aligned_vector.hpp"
#include "base/isa.hpp"
#include "base/parallel.hpp"
#include "conv/conv_lanes.hpp"
#include "conv/fft_radix2.hpp"
#include "matmul/lane_kernels.hpp"
#include "numeric/lane_rounding.hpp"
#include "numeric/round_nearest_even.hpp"

namespace ks::conv::lanes {

namespace {

using matmul::lanes::kCombineLength;
constexpr std::int64_t L = kCombineLength;

/// One transform length's stored twiddles, as Radix2Fft makes them.
struct Twiddles {
    std::vector<float> cosine, sine;
    Twiddles(std::int64_t n, const numeric::ComputeSpec& spec) {
        for (std::int64_t k = 0; k < n / 2; ++k) {
            const double angle = -2.0 * std::numbers::pi * static_cast<double>(k) / static_cast<double>(n);
            cosine.push_back(stored(std::cos(angle), spec));
            sine.push_back(stored(std::sin(angle), spec));
        }
    }
};

/// A complex plane of Fh × Fw values (re and im apart, row-major) and the 2-D transform of conv_fft.cpp's
/// fft2d: the rows, then the columns, kCombineLength at a time through a gathered copy.
class Planes {
public:
    Planes(const numeric::LaneSpec& spec, std::int64_t fh, std::int64_t fw, const numeric::ComputeSpec& compute)
        : spec_(spec), kernels_(matmul::lanes::kernelsFor(activeIsa())), fh_(fh), fw_(fw), rowTwiddles_(fw, compute),
          columnTwiddles_(fh, compute) {
        // The forward transform of a row of +0 (re and im): every such row of a plane has it, and the
        // padded planes have many.
        AlignedVector<float> re(static_cast<std::size_t>(fw * L), 0.0f), im(re.size(), 0.0f);
        transform(fw, rowTwiddles_, false, re.data(), im.data());
        zeroRowRe_.resize(static_cast<std::size_t>(fw));
        zeroRowIm_.resize(zeroRowRe_.size());
        for (std::int64_t j = 0; j < fw; ++j) {
            zeroRowRe_[static_cast<std::size_t>(j)] = re[static_cast<std::size_t>(j * L)];
            zeroRowIm_[static_cast<std::size_t>(j)] = im[static_cast<std::size_t>(j * L)];
        }
    }

    /// In place; `scratch` holds 2·max(Fh, Fw)·kCombineLength floats. Rows from `zeroFrom` on are +0 and
    /// not read (a forward transform's padding need not be written).
    void transform2d(float* re, float* im, bool inverse, float* scratch, std::int64_t zeroFrom = -1) const {
        float* sre = scratch;
        float* sim = scratch + std::max(fh_, fw_) * L;
        if (zeroFrom < 0 || inverse) zeroFrom = fh_;
        for (std::int64_t r0 = 0; r0 < fh_; r0 += L) {
            const std::int64_t rows = std::min(L, fh_ - r0);
            if (!inverse && (r0 >= zeroFrom || allPositiveZero(re + r0 * fw_, im + r0 * fw_, std::min(rows, zeroFrom - r0) * fw_))) {
                for (std::int64_t l = 0; l < rows; ++l) {
                    std::copy(zeroRowRe_.begin(), zeroRowRe_.end(), re + (r0 + l) * fw_);
                    std::copy(zeroRowIm_.begin(), zeroRowIm_.end(), im + (r0 + l) * fw_);
                }
                continue;
            }
            for (std::int64_t j = 0; j < fw_; ++j)
                for (std::int64_t l = 0; l < L; ++l) {
                    const bool read = l < rows && r0 + l < zeroFrom;
                    sre[j * L + l] = read ? re[(r0 + l) * fw_ + j] : 0.0f;
                    sim[j * L + l] = read ? im[(r0 + l) * fw_ + j] : 0.0f;
                }
            transform(fw_, rowTwiddles_, inverse, sre, sim);
            for (std::int64_t l = 0; l < rows; ++l)
                for (std::int64_t j = 0; j < fw_; ++j) {
                    re[(r0 + l) * fw_ + j] = sre[j * L + l];
                    im[(r0 + l) * fw_ + j] = sim[j * L + l];
                }
        }
        for (std::int64_t c0 = 0; c0 < fw_; c0 += L) {
            const std::int64_t cols = std::min(L, fw_ - c0);
            for (std::int64_t i = 0; i < fh_; ++i) {
                std::fill(sre + i * L, sre + (i + 1) * L, 0.0f);
                std::fill(sim + i * L, sim + (i + 1) * L, 0.0f);
                std::copy_n(re + i * fw_ + c0, cols, sre + i * L);
                std::copy_n(im + i * fw_ + c0, cols, sim + i * L);
            }
            transform(fh_, columnTwiddles_, inverse, sre, sim);
            for (std::int64_t i = 0; i < fh_; ++i) {
                std::copy_n(sre + i * L, cols, re + i * fw_ + c0);
                std::copy_n(sim + i * L, cols, im + i * fw_ + c0);
            }
        }
    }

    const matmul::lanes::Kernels& kernels() const { return kernels_; }
    std::int64_t scratchFloats() const { return 2 * std::max(fh_, fw_) * L; }

private:
    void transform(std::int64_t n, const Twiddles& t, bool inverse, float* re, float* im) const {
        kernels_.fft(matmul::lanes::FftArgs{&spec_, n, t.cosine.data(), t.sine.data(), inverse, re, im});
    }
    static bool allPositiveZero(const float* re, const float* im, std::int64_t count) {
        for (std::int64_t i = 0; i < count; ++i)
            if (std::bit_cast<std::uint32_t>(re[i]) != 0 || std::bit_cast<std::uint32_t>(im[i]) != 0) return false;
        return true;
    }

    const numeric::LaneSpec& spec_;
    const matmul::lanes::Kernels& kernels_;
    std::int64_t fh_, fw_;
    Twiddles rowTwiddles_, columnTwiddles_;
    std::vector<float> zeroRowRe_, zeroRowIm_;
};

}  // namespace

std::optional<std::string> fftRefusal(const numeric::ComputeSpec& spec) {
    return numeric::laneAccumulatedProductRefusal(spec);
}

void fftConv(const ConvProblem& pr, const numeric::ComputeSpec& spec, const double* input, const double* weight,
             const double* bias, double* output) {
    if (auto reason = fftRefusal(spec)) throw std::invalid_argument("float32 lanes: " + *reason);
    const numeric::LaneSpec laneSpec = numeric::laneSpec(spec, numeric::EmulatedOrder::RoundedProducts);
    const std::int64_t Fh = static_cast<std::int64_t>(nextPowerOfTwo(static_cast<std::size_t>(pr.H + 2 * pr.padH)));
    const std::int64_t Fw = static_cast<std::int64_t>(nextPowerOfTwo(static_cast<std::size_t>(pr.W + 2 * pr.padW)));
    const Planes planes(laneSpec, Fh, Fw, spec);
    const std::vector<float> x = stored(input, pr.inputCount(), spec);
    const std::vector<float> w = stored(weight, pr.weightCount(), spec);
    const std::vector<float> b = bias ? stored(bias, pr.K, spec) : std::vector<float>{};
    const double inverseSize = 1.0 / static_cast<double>(Fh * Fw);
    const float scale = stored(inverseSize, spec);
    // Planes padded to whole vectors of the spectral kernel (the padding stays +0).
    const std::int64_t plane = Fh * Fw, stride = (plane + L - 1) / L * L;
    const double transformWork = 40.0 * double(plane) * std::log2(double(std::max<std::int64_t>(plane, 2)));

    // The spectrum of an h × wd block placed at (padH, padW) in a +0 plane.
    const auto spectrumOf = [&](const float* src, std::int64_t h, std::int64_t wd, std::int64_t padH, std::int64_t padW,
                                float* re, float* im, float* scratch) {
        const std::int64_t written = (padH + h) * Fw;  // the rows below are +0, not written nor read
        std::fill(re, re + written, 0.0f);
        std::fill(im, im + written, 0.0f);
        std::fill(re + plane, re + stride, 0.0f);  // the spectral kernel's padding
        std::fill(im + plane, im + stride, 0.0f);
        for (std::int64_t i = 0; i < h; ++i)
            for (std::int64_t j = 0; j < wd; ++j) re[(i + padH) * Fw + j + padW] = src[i * wd + j];
        planes.transform2d(re, im, false, scratch, padH + h);
    };

    // Every image's spectra first; then per output channel its C filter spectra (made where they are used:
    // all K·C of them would take 2·K·C planes, 134 MB for a 64 × 64 layer on 64² planes), and per image the
    // sum over channels, the inverse transform, the scaling and the bias.
    AlignedVector<float> xRe(static_cast<std::size_t>(pr.N * pr.C * stride)), xIm(xRe.size());
    parallelFor(pr.N * pr.C, transformWork * double(pr.N * pr.C), [&](std::int64_t begin, std::int64_t end) {
        AlignedVector<float> scratch(static_cast<std::size_t>(planes.scratchFloats()));
        for (std::int64_t nc = begin; nc < end; ++nc)
            spectrumOf(x.data() + nc * pr.H * pr.W, pr.H, pr.W, pr.padH, pr.padW, xRe.data() + nc * stride,
                       xIm.data() + nc * stride, scratch.data());
    });
    const std::int64_t P = pr.P(), Q = pr.Q(), PQ = P * Q, outStride = (PQ + L - 1) / L * L;
    std::vector<float> y(static_cast<std::size_t>(pr.outputCount()));
    const double work = (transformWork * double(pr.C + pr.N) + 16.0 * double(pr.N * pr.C * stride)) * double(pr.K);
    parallelFor(pr.K, work, [&](std::int64_t begin, std::int64_t end) {
        AlignedVector<float> wRe(static_cast<std::size_t>(pr.C * stride)), wIm(wRe.size());
        AlignedVector<float> accRe(static_cast<std::size_t>(stride)), accIm(accRe.size());
        AlignedVector<float> scratch(static_cast<std::size_t>(planes.scratchFloats()));
        AlignedVector<float> picked(static_cast<std::size_t>(outStride)), scaled(picked.size());
        const int start[2] = {0, 1}, column[1] = {0};
        for (std::int64_t k = begin; k < end; ++k) {
            for (std::int64_t c = 0; c < pr.C; ++c)
                spectrumOf(w.data() + (k * pr.C + c) * pr.R * pr.S, pr.R, pr.S, 0, 0, wRe.data() + c * stride,
                           wIm.data() + c * stride, scratch.data());
            for (std::int64_t n = 0; n < pr.N; ++n) {
                std::fill(accRe.begin(), accRe.end(), 0.0f);
                std::fill(accIm.begin(), accIm.end(), 0.0f);
                for (std::int64_t c = 0; c < pr.C; ++c) {
                    const std::int64_t at = (n * pr.C + c) * stride;
                    planes.kernels().spectral(matmul::lanes::SpectralArgs{&laneSpec, stride, xRe.data() + at,
                                                                          xIm.data() + at, wRe.data() + c * stride,
                                                                          wIm.data() + c * stride, accRe.data(),
                                                                          accIm.data()});
                }
                planes.transform2d(accRe.data(), accIm.data(), true, scratch.data());
                // v = mul(acc, scale) at the strided outputs, then the bias added: a 1 × 1 combine.
                for (std::int64_t i = 0; i < P; ++i)
                    for (std::int64_t j = 0; j < Q; ++j)
                        picked[static_cast<std::size_t>(i * Q + j)] = accRe[static_cast<std::size_t>(i * pr.strideH * Fw + j * pr.strideW)];
                matmul::lanes::CombineArgs args{&laneSpec, true, 1, start, column, &scale, 1, outStride,
                                                picked.data(), 0, scaled.data(), 0};
                args.term = bias ? b.data() + k : nullptr;
                args.fromFirstProduct = true;
                planes.kernels().combine(args);
                std::copy_n(scaled.data(), PQ, y.data() + (n * pr.K + k) * PQ);
            }
        }
    });
    std::copy(y.begin(), y.end(), output);
}

}  // namespace ks::conv::lanes
