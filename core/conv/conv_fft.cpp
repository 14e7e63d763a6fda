// fft: convolution theorem. The correlation y = x ⋆ w equals the circular correlation of the
// zero-padded input with the zero-padded kernel when the transform size F ≥ the padded input
// (outputs p ≤ Hp − R never wrap), so F = padded input size rounded up to a fast size:
//   Y[n][k] = IFFT( Σ_c FFT(x[n][c]) · conj(FFT(w[k][c])) )      (sum over channels in frequency)
// then subsampled for stride. float32: FFTW real-to-complex / complex-to-real with measured plans,
// cached per size behind a mutex (FFTW's planner is not thread-safe; execution is), the filters'
// spectra (conjugated, with the 1/F² scale folded in) computed once in the plan. Double and emulated:
// our radix-2 FFT (fft_radix2.hpp) with every butterfly operation in the arithmetic.
#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <map>
#include <mutex>

#include "conv/conv_kernel_util.hpp"
#include "conv/conv_registry.hpp"
#include "conv/fft_radix2.hpp"
#include "conv/parallel.hpp"

namespace ks::conv {

namespace {

/// Smallest n ≥ x whose only prime factors are 2, 3, 5, 7 (FFTW's fast sizes).
std::int64_t fastFftSize(std::int64_t x) {
    for (std::int64_t n = std::max<std::int64_t>(x, 1);; ++n) {
        std::int64_t m = n;
        for (std::int64_t f : {2, 3, 5, 7})
            while (m % f == 0) m /= f;
        if (m == 1) return n;
    }
}

// ---------------------------------------------------------------- float32: FFTW

struct FloatBuffer {
    float* data = nullptr;
    std::size_t count = 0;
    FloatBuffer() = default;
    explicit FloatBuffer(std::size_t n) : data(static_cast<float*>(fftwf_malloc(sizeof(float) * std::max<std::size_t>(n, 1)))), count(n) {
        if (!data) throw std::bad_alloc();  // not cleared: every user writes all it reads
    }
    FloatBuffer(const FloatBuffer&) = delete;
    FloatBuffer& operator=(const FloatBuffer&) = delete;
    FloatBuffer(FloatBuffer&& o) noexcept : data(o.data), count(o.count) { o.data = nullptr; }
    FloatBuffer& operator=(FloatBuffer&& o) noexcept {
        std::swap(data, o.data);
        std::swap(count, o.count);
        return *this;
    }
    ~FloatBuffer() {
        if (data) fftwf_free(data);
    }
};

/// Floats per plane rounded up to 64 bytes, so every plane in a buffer has fftwf_malloc's alignment
/// (FFTW's new-array execute functions require the alignment the plan was made with).
std::size_t alignedCount(std::size_t floats) { return (floats + 15) / 16 * 16; }

struct FftwPlans {
    fftwf_plan forward = nullptr;   ///< r2c, Fh×Fw real → Fh×(Fw/2+1) complex
    fftwf_plan backward = nullptr;  ///< c2r
};

std::mutex& plannerMutex() {
    static std::mutex m;
    return m;
}

/// Plans for one transform size, created once (FFTW_MEASURE) and kept until the program exits.
FftwPlans plansFor(std::int64_t fh, std::int64_t fw) {
    std::lock_guard lock(plannerMutex());
    // destroyed at exit (after the mutex, which was constructed first), so no plan outlives the program
    struct PlanCache {
        std::map<std::pair<std::int64_t, std::int64_t>, FftwPlans> plans;
        ~PlanCache() {
            for (auto& [size, p] : plans) {
                fftwf_destroy_plan(p.forward);
                fftwf_destroy_plan(p.backward);
            }
        }
    };
    static PlanCache instance;
    auto& cache = instance.plans;
    auto it = cache.find({fh, fw});
    if (it != cache.end()) return it->second;
    const std::size_t realCount = static_cast<std::size_t>(fh * fw);
    const std::size_t specCount = static_cast<std::size_t>(fh * (fw / 2 + 1) * 2);
    FloatBuffer real(realCount), spec(specCount);
    FftwPlans p;
    const int h = static_cast<int>(fh), w = static_cast<int>(fw);
    p.forward = fftwf_plan_dft_r2c_2d(h, w, real.data, reinterpret_cast<fftwf_complex*>(spec.data), FFTW_MEASURE);
    p.backward = fftwf_plan_dft_c2r_2d(h, w, reinterpret_cast<fftwf_complex*>(spec.data), real.data, FFTW_MEASURE);
    if (!p.forward || !p.backward) throw std::runtime_error("FFTW could not plan a " + std::to_string(fh) + "x" +
                                                            std::to_string(fw) + " transform");
    cache[{fh, fw}] = p;
    return p;
}

struct FftGeometry {
    std::int64_t Hp, Wp, Fh, Fw, bins;
    FftGeometry(const ConvProblem& p, bool powerOfTwo) : Hp(p.H + 2 * p.padH), Wp(p.W + 2 * p.padW) {
        Fh = powerOfTwo ? static_cast<std::int64_t>(nextPowerOfTwo(static_cast<std::size_t>(Hp))) : fastFftSize(Hp);
        Fw = powerOfTwo ? static_cast<std::int64_t>(nextPowerOfTwo(static_cast<std::size_t>(Wp))) : fastFftSize(Wp);
        bins = Fh * (Fw / 2 + 1);
    }
    /// ~2.5·n·log2(n) for a real transform of n points
    double transformFlops() const {
        const double n = double(Fh * Fw);
        return 2.5 * n * std::log2(std::max(n, 2.0));
    }
    std::size_t realStride() const { return alignedCount(static_cast<std::size_t>(Fh * Fw)); }
    std::size_t specStride() const { return alignedCount(static_cast<std::size_t>(bins * 2)); }
};

/// Copies plane (h×w) into the top-left of real (Fh×Fw) at offset (padH, padW); the rest zero.
void padPlane(const float* plane, std::int64_t h, std::int64_t w, std::int64_t padH, std::int64_t padW,
              const FftGeometry& g, float* real) {
    std::fill(real, real + g.Fh * g.Fw, 0.0f);
    for (std::int64_t i = 0; i < h; ++i) std::copy(plane + i * w, plane + (i + 1) * w, real + (i + padH) * g.Fw + padW);
}

class FftPlan final : public ConvPlan {
public:
    FftPlan(const ConvProblem& problem, const float* weight) : problem_(problem), g_(problem, false) {
        plans_ = plansFor(g_.Fh, g_.Fw);
        const ConvProblem& p = problem_;
        weightSpectra_ = FloatBuffer(static_cast<std::size_t>(p.K * p.C) * g_.specStride());
        const float scale = 1.0f / static_cast<float>(g_.Fh * g_.Fw);
        parallelFor(p.K * p.C, double(p.K * p.C) * g_.transformFlops(), [&](std::int64_t begin, std::int64_t end) {
            FloatBuffer real(g_.realStride());
            for (std::int64_t kc = begin; kc < end; ++kc) {
                padPlane(weight + kc * p.R * p.S, p.R, p.S, 0, 0, g_, real.data);
                float* spec = weightSpectra_.data + static_cast<std::size_t>(kc) * g_.specStride();
                fftwf_execute_dft_r2c(plans_.forward, real.data, reinterpret_cast<fftwf_complex*>(spec));
                for (std::int64_t b = 0; b < g_.bins; ++b) {  // conjugate (correlation) and scale
                    spec[2 * b] *= scale;
                    spec[2 * b + 1] *= -scale;
                }
            }
        });
        inputSpectra_ = FloatBuffer(static_cast<std::size_t>(p.C) * g_.specStride());
    }

    void execute(const float* input, const float* bias, float* output) override {
        const ConvProblem& p = problem_;
        const std::int64_t P = p.P(), Q = p.Q();
        const std::size_t specStride = g_.specStride();
        for (std::int64_t n = 0; n < p.N; ++n) {
            parallelFor(p.C, double(p.C) * g_.transformFlops(), [&](std::int64_t begin, std::int64_t end) {
                FloatBuffer real(g_.realStride());
                for (std::int64_t c = begin; c < end; ++c) {
                    padPlane(input + (n * p.C + c) * p.H * p.W, p.H, p.W, p.padH, p.padW, g_, real.data);
                    fftwf_execute_dft_r2c(plans_.forward, real.data,
                                          reinterpret_cast<fftwf_complex*>(inputSpectra_.data + c * specStride));
                }
            });
            parallelFor(p.K, double(p.K) * (g_.transformFlops() + 8.0 * double(p.C * g_.bins)), [&](std::int64_t begin, std::int64_t end) {
                FloatBuffer real(g_.realStride()), acc(specStride);
                for (std::int64_t k = begin; k < end; ++k) {
                    accumulateProducts(k, acc.data);
                    fftwf_execute_dft_c2r(plans_.backward, reinterpret_cast<fftwf_complex*>(acc.data), real.data);
                    float* out = output + (n * p.K + k) * P * Q;
                    const float b = bias ? bias[k] : 0.0f;
                    for (std::int64_t i = 0; i < P; ++i) {
                        const float* row = real.data + i * p.strideH * g_.Fw;
                        for (std::int64_t j = 0; j < Q; ++j) out[i * Q + j] = row[j * p.strideW] + b;
                    }
                }
            });
        }
    }

private:
    /// acc = Σ_c X[c] · W'[k][c] over the spectrum bins (complex, interleaved).
    void accumulateProducts(std::int64_t k, float* __restrict acc) const {
        const std::size_t stride = g_.specStride();
        const std::int64_t count = g_.bins * 2;
        std::fill(acc, acc + count, 0.0f);
        for (std::int64_t c = 0; c < problem_.C; ++c) {
            const float* __restrict x = inputSpectra_.data + c * stride;
            const float* __restrict w = weightSpectra_.data + static_cast<std::size_t>(k * problem_.C + c) * stride;
            for (std::int64_t i = 0; i < count; i += 2) {
                const float xr = x[i], xi = x[i + 1], wr = w[i], wi = w[i + 1];
                acc[i] += xr * wr - xi * wi;
                acc[i + 1] += xr * wi + xi * wr;
            }
        }
    }

    ConvProblem problem_;
    FftGeometry g_;
    FftwPlans plans_;
    FloatBuffer weightSpectra_, inputSpectra_;
};

// ---------------------------------------------------------------- double / emulated: radix-2

template <class Arith>
void fftConvGeneric(const ConvProblem& pr, const double* x, const double* w, const double* bias, double* y,
                    Arith& arith) {
    using V = double;
    std::vector<V> xs, ws, bs;
    x = detail::storeOperands(arith, x, pr.inputCount(), xs);
    w = detail::storeOperands(arith, w, pr.weightCount(), ws);
    bias = detail::storeOperands(arith, bias, pr.K, bs);
    const FftGeometry g(pr, true);
    const Radix2Fft<V> rowFft(static_cast<std::size_t>(g.Fw), arith), colFft(static_cast<std::size_t>(g.Fh), arith);
    const auto plane = static_cast<std::size_t>(g.Fh * g.Fw);
    const auto spectrumOf = [&](const V* src, std::int64_t h, std::int64_t wd, std::int64_t padH, std::int64_t padW,
                                V* re, V* im) {
        std::fill(re, re + plane, V(0));
        std::fill(im, im + plane, V(0));
        for (std::int64_t i = 0; i < h; ++i)
            for (std::int64_t j = 0; j < wd; ++j) re[(i + padH) * g.Fw + j + padW] = src[i * wd + j];
        fft2d(rowFft, colFft, re, im, false, arith);
    };
    // the filters' spectra, once
    std::vector<V> wRe(plane * static_cast<std::size_t>(pr.K * pr.C)), wIm(wRe.size());
    for (std::int64_t kc = 0; kc < pr.K * pr.C; ++kc)
        spectrumOf(w + kc * pr.R * pr.S, pr.R, pr.S, 0, 0, wRe.data() + kc * plane, wIm.data() + kc * plane);
    std::vector<V> xRe(plane * static_cast<std::size_t>(pr.C)), xIm(xRe.size()), accRe(plane), accIm(plane);
    const V scale = arith.store(V(1) / static_cast<V>(g.Fh * g.Fw));
    const std::int64_t P = pr.P(), Q = pr.Q();
    for (std::int64_t n = 0; n < pr.N; ++n) {
        for (std::int64_t c = 0; c < pr.C; ++c)
            spectrumOf(x + (n * pr.C + c) * pr.H * pr.W, pr.H, pr.W, pr.padH, pr.padW, xRe.data() + c * plane,
                       xIm.data() + c * plane);
        for (std::int64_t k = 0; k < pr.K; ++k) {
            std::fill(accRe.begin(), accRe.end(), V(0));
            std::fill(accIm.begin(), accIm.end(), V(0));
            for (std::int64_t c = 0; c < pr.C; ++c) {
                const V* xr = xRe.data() + c * plane;
                const V* xi = xIm.data() + c * plane;
                const V* wr = wRe.data() + (k * pr.C + c) * plane;
                const V* wi = wIm.data() + (k * pr.C + c) * plane;
                for (std::size_t b = 0; b < plane; ++b) {  // x · conj(w), then accumulate
                    const V pr_ = arith.add(arith.mul(xr[b], wr[b]), arith.mul(xi[b], wi[b]));
                    const V pi_ = arith.sub(arith.mul(xi[b], wr[b]), arith.mul(xr[b], wi[b]));
                    accRe[b] = arith.add(accRe[b], pr_);
                    accIm[b] = arith.add(accIm[b], pi_);
                }
            }
            fft2d(rowFft, colFft, accRe.data(), accIm.data(), true, arith);
            V* out = y + (n * pr.K + k) * P * Q;
            for (std::int64_t i = 0; i < P; ++i)
                for (std::int64_t j = 0; j < Q; ++j) {
                    const V v = arith.mul(accRe[static_cast<std::size_t>(i * pr.strideH * g.Fw + j * pr.strideW)], scale);
                    out[i * Q + j] = bias ? arith.add(v, bias[k]) : v;
                }
        }
    }
}

class FftConv final : public ConvAlgorithm {
public:
    std::string name() const override { return "fft"; }
    std::string description() const override {
        return "Convolution theorem: FFTW real-to-complex transforms of the padded input (size rounded up to "
               "2^a3^b5^c7^d), products summed over input channels in the frequency domain, one inverse "
               "transform per output channel; any kernel, stride (subsampled) and padding.";
    }
    std::optional<std::string> supports(const ConvProblem& p) const override {
        const FftGeometry g(p, false);
        if (g.Fh > (1 << 20) || g.Fw > (1 << 20)) return std::string("transform larger than 2^20 per dimension");
        return std::nullopt;
    }
    std::size_t workspaceBytes(const ConvProblem& p) const override {
        const FftGeometry g(p, false);
        const auto threads = static_cast<std::size_t>(convThreads());
        return (static_cast<std::size_t>(p.K * p.C + p.C) * g.specStride() +
                threads * (g.realStride() + g.specStride())) * sizeof(float);
    }

protected:
    std::unique_ptr<ConvPlan> doPlan(const ConvProblem& problem, const float* weight) const override {
        return std::make_unique<FftPlan>(problem, weight);
    }
    void doRun(const ConvProblem& p, const double* x, const double* w, const double* b, double* y) const override {
        numeric::NativeArithmetic<double> arith;
        fftConvGeneric(p, x, w, b, y, arith);
    }
    void doRun(const ConvProblem& p, const double* x, const double* w, const double* b, double* y,
               numeric::EmulatedArithmetic& arith) const override {
        fftConvGeneric(p, x, w, b, y, arith);
    }
};

}  // namespace

std::unique_ptr<ConvAlgorithm> makeFftConv() { return std::make_unique<FftConv>(); }

}  // namespace ks::conv
