// The FFT convolution's emulated run on float32 lanes: conv_fft.cpp's generic definition (power-of-two
// planes, our radix-2 FFT, rows then columns; the filters' spectra; per output channel the sum over
// input channels of x · conj(w), the inverse transform, the scaling and the bias) with the same
// operations in the same order, kCombineLength rows or columns transformed side by side.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <numbers>
#include <stdexcept>
#include <vector>

#include "base/aligned_vector.hpp"
#include "base/isa.hpp"
#include "base/parallel.hpp"
#include "conv/conv_lanes.hpp"
#include "conv/fft_lane_planes.hpp"
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

/// The float32 lanes' 1-D transforms of kCombineLength interleaved sequences (LanePlanes' Transform).
struct FloatLaneFft {
    const numeric::LaneSpec* spec;
    const matmul::lanes::Kernels* kernels;
    std::shared_ptr<const Twiddles> rowTwiddles, columnTwiddles;
    void operator()(std::int64_t n, bool rows, bool inverse, float* re, float* im) const {
        const Twiddles& t = rows ? *rowTwiddles : *columnTwiddles;
        kernels->fft(matmul::lanes::FftArgs{spec, n, t.cosine.data(), t.sine.data(), inverse, re, im});
    }
};

using Planes = LanePlanes<float, L, FloatLaneFft>;

Planes makePlanes(const numeric::LaneSpec& spec, std::int64_t fh, std::int64_t fw, const numeric::ComputeSpec& compute) {
    return Planes(fh, fw, FloatLaneFft{&spec, &matmul::lanes::kernelsFor(activeIsa()), std::make_shared<const Twiddles>(fw, compute),
                                       std::make_shared<const Twiddles>(fh, compute)});
}

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
    const Planes planes = makePlanes(laneSpec, Fh, Fw, spec);
    const matmul::lanes::Kernels& kernels = matmul::lanes::kernelsFor(activeIsa());
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
        AlignedVector<float> scratch(static_cast<std::size_t>(planes.scratchSize()));
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
        AlignedVector<float> scratch(static_cast<std::size_t>(planes.scratchSize()));
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
                    kernels.spectral(matmul::lanes::SpectralArgs{&laneSpec, stride, xRe.data() + at,
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
                kernels.combine(args);
                std::copy_n(scaled.data(), PQ, y.data() + (n * pr.K + k) * PQ);
            }
        }
    });
    std::copy(y.begin(), y.end(), output);
}

}  // namespace ks::conv::lanes
