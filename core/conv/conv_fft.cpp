// fft: convolution theorem. The correlation y = x ⋆ w equals the circular correlation of the
// zero-padded input with the zero-padded kernel when the transform size F ≥ the padded input
// (outputs p ≤ Hp − R never wrap), so F = padded input size rounded up to a length FFTW transforms fast (fastFftSize):
// for a valid correlation that is the input size (rounded up), not input + kernel − 1.
//   Y[n][k] = IFFT( Σ_c FFT(x[n][c]) · conj(FFT(w[k][c])) )      (sum over channels in frequency)
// then subsampled for stride. Double and emulated: our radix-2 FFT (fft_radix2.hpp) with every
// butterfly operation in the arithmetic.
//
// float32: FFTW, the 2-D transforms done as row and column passes of our own so that both threads
// work on every transform and the frequency-domain work happens between the column passes:
//   1. rows (split over threads): copy each input row into the zero-padded plane, real-to-complex
//      transform of the rows;
//   2. columns (split over threads): forward column transforms of every input channel, then per
//      output channel the products Σ_c X·W' over those columns and the inverse column transforms;
//   3. rows (split over threads): complex-to-real transforms of only the rows the output needs, then
//      subsample + bias into the output.
// Plans (FFTW_MEASURE, one per pass and thread chunk) are made with the plan's own buffers, under
// a mutex (FFTW's planner is not thread-safe; execution is); FFTW keeps its measurements (wisdom)
// for the process, so planning a size again is quick. The filters' spectra (conjugated, the 1/F²
// scale folded in) are computed once, in the plan.
#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <mutex>
#include <vector>

#ifdef __AVX2__
#include <immintrin.h>
#endif

#include "base/isa.hpp"
#include "base/parallel.hpp"
#include "conv/conv_kernel_util.hpp"
#include "conv/conv_lanes.hpp"
#include "conv/conv_registry.hpp"
#include "conv/fft_radix2.hpp"
#include "numeric/fast_arithmetic.hpp"
#include "numeric/scaled_format.hpp"

namespace ks::conv {

namespace {

/// The transform length for x points: the smallest n ≥ x that FFTW transforms fast. Tiny lengths:
/// any n = 2^a3^b5^c7^d. Otherwise n even, 3 and 5 at most squared, no 7: measured (float r2c 2-D,
/// AVX2), odd lengths cost 2-4x more per point (135: 4.5 ns against 144: 2.2 ns), 270 = 2·3³·5 and
/// 280 = 2³·5·7 1.5x more than the longer 288 = 2⁵·3² (3.0-3.4 against 2.0-2.2 ns), 256: 1.8 ns.
std::int64_t fastFftSize(std::int64_t x) {
    for (std::int64_t n = std::max<std::int64_t>(x, 1);; ++n) {
        std::int64_t m = n;
        int count[4] = {};
        const std::int64_t primes[4] = {2, 3, 5, 7};
        for (int i = 0; i < 4; ++i)
            while (m % primes[i] == 0) m /= primes[i], ++count[i];
        if (m != 1) continue;
        if (n <= 16 || (count[0] >= 1 && count[1] <= 2 && count[2] <= 2 && count[3] == 0)) return n;
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

std::mutex& plannerMutex() {
    static std::mutex m;
    return m;
}

struct FftGeometry {
    std::int64_t Hp, Wp, Fh, Fw, bins;
    FftGeometry(const ConvProblem& p, bool powerOfTwo) : Hp(p.H + 2 * p.padH), Wp(p.W + 2 * p.padW) {
        Fh = powerOfTwo ? static_cast<std::int64_t>(nextPowerOfTwo(static_cast<std::size_t>(Hp))) : fastFftSize(Hp);
        Fw = powerOfTwo ? static_cast<std::int64_t>(nextPowerOfTwo(static_cast<std::size_t>(Wp))) : fastFftSize(Wp);
        bins = Fh * (Fw / 2 + 1);
    }
    std::int64_t rowBins() const { return Fw / 2 + 1; }
    /// ~2.5·n·log2(n) for a real transform of n points
    double transformFlops() const {
        const double n = double(Fh * Fw);
        return 2.5 * n * std::log2(std::max(n, 2.0));
    }
    std::size_t realStride() const { return alignedCount(static_cast<std::size_t>(Fh * Fw)); }
    std::size_t specStride() const { return alignedCount(static_cast<std::size_t>(bins * 2)); }
};

/// acc (+)= x · w over `count` complex numbers (interleaved re, im); assign instead of add when !accumulate.
void multiplyComplex(const float* __restrict x, const float* __restrict w, float* __restrict acc, std::int64_t count,
                     bool accumulate) {
    std::int64_t i = 0;
#if defined(__AVX2__) && defined(__FMA__)
    for (; i + 4 <= count; i += 4) {
        const __m256 xv = _mm256_loadu_ps(x + 2 * i), wv = _mm256_loadu_ps(w + 2 * i);
        const __m256 xSwapped = _mm256_permute_ps(xv, 0xB1);  // (im, re) pairs
        // even lanes xr·wr − xi·wi, odd lanes xi·wr + xr·wi
        __m256 prod = _mm256_fmaddsub_ps(xv, _mm256_moveldup_ps(wv), _mm256_mul_ps(xSwapped, _mm256_movehdup_ps(wv)));
        if (accumulate) prod = _mm256_add_ps(prod, _mm256_loadu_ps(acc + 2 * i));
        _mm256_storeu_ps(acc + 2 * i, prod);
    }
#endif
    for (; i < count; ++i) {
        const float xr = x[2 * i], xi = x[2 * i + 1], wr = w[2 * i], wi = w[2 * i + 1];
        const float re = xr * wr - xi * wi, im = xr * wi + xi * wr;
        acc[2 * i] = accumulate ? acc[2 * i] + re : re;
        acc[2 * i + 1] = accumulate ? acc[2 * i + 1] + im : im;
    }
}

/// [begin, end) of part `part` of `parts` equal parts of `count`.
std::pair<std::int64_t, std::int64_t> chunkOf(std::int64_t count, std::int64_t part, std::int64_t parts) {
    return {count * part / parts, count * (part + 1) / parts};
}

class FftPlan final : public ConvPlan {
public:
    FftPlan(const ConvProblem& problem, const float* weight)
        : p_(problem), g_(problem, false), chunks_(std::max(1, threadCount())) {
        const ConvProblem& p = p_;
        const std::size_t specStride = g_.specStride();
        inputReal_ = FloatBuffer(g_.realStride());
        outputReal_ = FloatBuffer(g_.realStride());
        inputSpectra_ = FloatBuffer(static_cast<std::size_t>(p.C) * specStride);
        accSpectra_ = FloatBuffer(static_cast<std::size_t>(p.K) * specStride);
        weightSpectra_ = FloatBuffer(static_cast<std::size_t>(p.K * p.C) * specStride);
        // rows of the inverse transform the output reads: 0, strideH, ..., (P − 1)·strideH
        inverseRows_ = (p.P() - 1) * p.strideH + 1;
        makePlans();

        // the filters' spectra through the same passes, conjugated (correlation) and scaled
        const float scale = 1.0f / static_cast<float>(g_.Fh * g_.Fw);
        for (std::int64_t kc = 0; kc < p.K * p.C; ++kc) {
            float* spec = weightSpectra_.data + static_cast<std::size_t>(kc) * specStride;
            parallelFor(chunks_, 2.0 * g_.transformFlops(), [&](std::int64_t begin, std::int64_t end) {
                for (std::int64_t t = begin; t < end; ++t) forwardRows(t, weight + kc * p.R * p.S, p.R, p.S, 0, 0, spec);
            });
            parallelFor(chunks_, 2.0 * g_.transformFlops(), [&](std::int64_t begin, std::int64_t end) {
                for (std::int64_t t = begin; t < end; ++t)
                    if (columnForward_[t]) {
                        fftwf_complex* columns = asComplex(spec + 2 * columns_[t].first);
                        fftwf_execute_dft(columnForward_[t], columns, columns);
                    }
            });
            for (std::int64_t b = 0; b < g_.bins; ++b) {
                spec[2 * b] *= scale;
                spec[2 * b + 1] *= -scale;
            }
        }
    }

    ~FftPlan() override {
        std::lock_guard lock(plannerMutex());
        for (auto* plans : {&rowForward_, &columnForward_, &columnBackward_, &rowBackward_})
            for (fftwf_plan plan : *plans)
                if (plan) fftwf_destroy_plan(plan);
    }

    void execute(const float* input, const float* bias, float* output) override {
        const ConvProblem& p = p_;
        const std::int64_t P = p.P(), Q = p.Q();
        const std::size_t specStride = g_.specStride();
        // FLOP estimates of the three passes, for parallelFor's is-it-worth-waking-a-thread test
        const double halfTransform = 0.5 * g_.transformFlops();
        const double rowWork = double(p.C) * halfTransform, columnWork = double(p.C + p.K) * halfTransform + 8.0 * double(p.K * p.C * g_.bins);
        for (std::int64_t n = 0; n < p.N; ++n) {
            parallelFor(chunks_, rowWork, [&](std::int64_t begin, std::int64_t end) {
                for (std::int64_t t = begin; t < end; ++t)
                    for (std::int64_t c = 0; c < p.C; ++c)
                        forwardRows(t, input + (n * p.C + c) * p.H * p.W, p.H, p.W, p.padH, p.padW,
                                    inputSpectra_.data + static_cast<std::size_t>(c) * specStride);
            });
            if (p.C * p.K == 1) {
                parallelFor(chunks_, columnWork, [&](std::int64_t begin, std::int64_t end) {
                    for (std::int64_t t = begin; t < end; ++t) frequencyColumns(t);
                });
            } else {
                // channels: the products Σ_c X_c·W'_kc over whole contiguous planes, threads over k
                // (over a column chunk they would be Fh short strided runs per (k, c) pair)
                parallelFor(chunks_, double(p.C) * halfTransform, [&](std::int64_t begin, std::int64_t end) {
                    for (std::int64_t t = begin; t < end; ++t) columnTransforms(t, columnForward_[t], inputSpectra_.data, p.C);
                });
                parallelFor(p.K, 8.0 * double(p.K * p.C * g_.bins), [&](std::int64_t begin, std::int64_t end) {
                    for (std::int64_t k = begin; k < end; ++k)
                        for (std::int64_t c = 0; c < p.C; ++c)
                            multiplyComplex(inputSpectra_.data + c * specStride,
                                            weightSpectra_.data + static_cast<std::size_t>(k * p.C + c) * specStride,
                                            accSpectra_.data + k * specStride, g_.bins, c > 0);
                });
                parallelFor(chunks_, double(p.K) * halfTransform, [&](std::int64_t begin, std::int64_t end) {
                    for (std::int64_t t = begin; t < end; ++t) columnTransforms(t, columnBackward_[t], accSpectra_.data, p.K);
                });
            }
            parallelFor(chunks_, double(p.K) * halfTransform, [&](std::int64_t begin, std::int64_t end) {
                for (std::int64_t t = begin; t < end; ++t) {
                    const auto [r0, r1] = rows_[t];
                    if (r0 == r1) continue;
                    // output rows i whose inverse row i·strideH lies in [r0, r1)
                    const std::int64_t i0 = detail::ceilDiv(r0, p.strideH), i1 = detail::ceilDiv(r1, p.strideH);
                    for (std::int64_t k = 0; k < p.K; ++k) {
                        float* acc = accSpectra_.data + static_cast<std::size_t>(k) * specStride;
                        fftwf_execute_dft_c2r(rowBackward_[t], asComplex(acc + 2 * r0 * g_.rowBins()), outputReal_.data + r0 * g_.Fw);
                        float* out = output + (n * p.K + k) * P * Q;
                        const float b = bias ? bias[k] : 0.0f;
                        for (std::int64_t i = i0; i < i1; ++i) {
                            const float* row = outputReal_.data + i * p.strideH * g_.Fw;
                            float* outRow = out + i * Q;
                            if (p.strideW == 1)
                                for (std::int64_t j = 0; j < Q; ++j) outRow[j] = row[j] + b;
                            else
                                for (std::int64_t j = 0; j < Q; ++j) outRow[j] = row[j * p.strideW] + b;
                        }
                    }
                }
            });
        }
    }

private:
    static fftwf_complex* asComplex(float* p) { return reinterpret_cast<fftwf_complex*>(p); }

    /// One plan per pass and chunk, each made on the very buffers (and offsets) it will run on, so
    /// the new-array executes for other channels (planes 64-byte aligned) keep the planned alignment.
    void makePlans() {
        std::lock_guard lock(plannerMutex());
        const int fh = static_cast<int>(g_.Fh), fw = static_cast<int>(g_.Fw);
        const int rowBins = static_cast<int>(g_.rowBins());
        for (std::int64_t t = 0; t < chunks_; ++t) {
            rows_.push_back(chunkOf(inverseRows_, t, chunks_));
            inputRows_.push_back(chunkOf(g_.Fh, t, chunks_));
            columns_.push_back(chunkOf(g_.rowBins(), t, chunks_));
            const auto [in0, in1] = inputRows_[t];
            const auto [c0, c1] = columns_[t];
            const auto [r0, r1] = rows_[t];
            const auto check = [&](fftwf_plan plan) {
                if (!plan) throw std::runtime_error("FFTW could not plan a " + std::to_string(fh) + "x" + std::to_string(fw) + " transform");
                return plan;
            };
            rowForward_.push_back(in1 > in0 ? check(fftwf_plan_many_dft_r2c(1, &fw, static_cast<int>(in1 - in0),
                                      inputReal_.data + in0 * g_.Fw, nullptr, 1, fw,
                                      asComplex(inputSpectra_.data + 2 * in0 * g_.rowBins()), nullptr, 1, rowBins, FFTW_MEASURE))
                                            : nullptr);
            columnForward_.push_back(c1 > c0 ? check(fftwf_plan_many_dft(1, &fh, static_cast<int>(c1 - c0),
                                         asComplex(inputSpectra_.data + 2 * c0), nullptr, rowBins, 1,
                                         asComplex(inputSpectra_.data + 2 * c0), nullptr, rowBins, 1, FFTW_FORWARD, FFTW_MEASURE))
                                             : nullptr);
            columnBackward_.push_back(c1 > c0 ? check(fftwf_plan_many_dft(1, &fh, static_cast<int>(c1 - c0),
                                          asComplex(accSpectra_.data + 2 * c0), nullptr, rowBins, 1,
                                          asComplex(accSpectra_.data + 2 * c0), nullptr, rowBins, 1, FFTW_BACKWARD, FFTW_MEASURE))
                                              : nullptr);
            rowBackward_.push_back(r1 > r0 ? check(fftwf_plan_many_dft_c2r(1, &fw, static_cast<int>(r1 - r0),
                                       asComplex(accSpectra_.data + 2 * r0 * g_.rowBins()), nullptr, 1, rowBins,
                                       outputReal_.data + r0 * g_.Fw, nullptr, 1, fw, FFTW_MEASURE))
                                           : nullptr);
        }
    }

    /// Pass 1 for chunk t: rows [in0, in1) of the zero-padded plane (plane h×w placed at (padH, padW))
    /// transformed into the same rows of spec.
    void forwardRows(std::int64_t t, const float* plane, std::int64_t h, std::int64_t w, std::int64_t padH,
                     std::int64_t padW, float* spec) {
        const auto [in0, in1] = inputRows_[t];
        if (in0 == in1) return;
        for (std::int64_t i = in0; i < in1; ++i) {
            float* row = inputReal_.data + i * g_.Fw;
            const std::int64_t src = i - padH;
            if (src < 0 || src >= h) {
                std::fill(row, row + g_.Fw, 0.0f);
                continue;
            }
            std::fill(row, row + padW, 0.0f);
            std::copy(plane + src * w, plane + (src + 1) * w, row + padW);
            std::fill(row + padW + w, row + g_.Fw, 0.0f);
        }
        fftwf_execute_dft_r2c(rowForward_[t], inputReal_.data + in0 * g_.Fw, asComplex(spec + 2 * in0 * g_.rowBins()));
    }

    /// The column transforms of chunk t (`plan`: forward or backward) on `planes` consecutive spectra.
    void columnTransforms(std::int64_t t, fftwf_plan plan, float* spectra, std::int64_t planes) {
        if (!plan) return;
        for (std::int64_t i = 0; i < planes; ++i) {
            fftwf_complex* columns = asComplex(spectra + static_cast<std::size_t>(i) * g_.specStride() + 2 * columns_[t].first);
            fftwf_execute_dft(plan, columns, columns);
        }
    }

    /// Pass 2 for chunk t when C = K = 1: columns [c0, c1) of the spectrum
    /// transformed, multiplied and transformed back while they are in cache.
    void frequencyColumns(std::int64_t t) {
        const auto [c0, c1] = columns_[t];
        if (c0 == c1) return;
        const ConvProblem& p = p_;
        const std::size_t specStride = g_.specStride();
        const std::int64_t rowBins = g_.rowBins();
        for (std::int64_t c = 0; c < p.C; ++c) {
            float* x = inputSpectra_.data + c * specStride + 2 * c0;
            fftwf_execute_dft(columnForward_[t], asComplex(x), asComplex(x));
        }
        for (std::int64_t k = 0; k < p.K; ++k) {
            float* acc = accSpectra_.data + k * specStride + 2 * c0;
            for (std::int64_t c = 0; c < p.C; ++c) {
                const float* x = inputSpectra_.data + c * specStride + 2 * c0;
                const float* w = weightSpectra_.data + static_cast<std::size_t>(k * p.C + c) * specStride + 2 * c0;
                for (std::int64_t row = 0; row < g_.Fh; ++row)
                    multiplyComplex(x + 2 * row * rowBins, w + 2 * row * rowBins, acc + 2 * row * rowBins, c1 - c0, c > 0);
            }
            fftwf_execute_dft(columnBackward_[t], asComplex(acc), asComplex(acc));
        }
    }

    ConvProblem p_;
    FftGeometry g_;
    std::int64_t chunks_;        ///< thread chunks of every pass (the pool's size at planning)
    std::int64_t inverseRows_;   ///< rows of the inverse transform the output needs
    std::vector<std::pair<std::int64_t, std::int64_t>> inputRows_, columns_, rows_;  ///< per chunk
    std::vector<fftwf_plan> rowForward_, columnForward_, columnBackward_, rowBackward_;  ///< per chunk (null if empty)
    FloatBuffer inputReal_, outputReal_;  ///< one zero-padded plane each, rows shared out between chunks
    FloatBuffer inputSpectra_;            ///< C spectra of the current image
    FloatBuffer accSpectra_;              ///< K spectra Σ_c X·W'
    FloatBuffer weightSpectra_;           ///< K·C conjugated, scaled filter spectra
};

// ---------------------------------------------------------------- double / emulated: radix-2

/// `tiles`: a scaled format on the spectra the products read — the real and the imaginary parts each in blocks along
/// C at every frequency (the two real products of a complex one, as real tensor cores compute it).
template <numeric::Arithmetic Arith>
void fftConvGeneric(const ConvProblem& pr, const double* x, const double* w, const double* bias, double* y,
                    Arith& arith, const numeric::ScaledFormat* tiles = nullptr) {
    using V = double;
    std::vector<V> xs, ws, bs;
    x = detail::storeOperands(arith, x, pr.inputCount(), xs, numeric::RandomTensor::Input);
    w = detail::storeOperands(arith, w, pr.weightCount(), ws, numeric::RandomTensor::Weight);
    bias = detail::storeOperands(arith, bias, pr.K, bs, numeric::RandomTensor::Bias);
    // Its transforms are not keyed: one sequential stream, in this single-threaded loop's order.
    arith.at(numeric::randomTensor(numeric::RandomTensor::Sequential), 0, 0);
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
    const numeric::ReductionLines weightLines{pr.K, pr.C, std::int64_t(plane)}, inputLines{1, pr.C, std::int64_t(plane)};
    if (tiles) {
        numeric::quantizeScaled(std::span<V>(wRe), weightLines, *tiles);
        numeric::quantizeScaled(std::span<V>(wIm), weightLines, *tiles);
    }
    std::vector<V> xRe(plane * static_cast<std::size_t>(pr.C)), xIm(xRe.size()), accRe(plane), accIm(plane);
    const V scale = arith.store(V(1) / static_cast<V>(g.Fh * g.Fw));
    const std::int64_t P = pr.P(), Q = pr.Q();
    for (std::int64_t n = 0; n < pr.N; ++n) {
        for (std::int64_t c = 0; c < pr.C; ++c)
            spectrumOf(x + (n * pr.C + c) * pr.H * pr.W, pr.H, pr.W, pr.padH, pr.padW, xRe.data() + c * plane,
                       xIm.data() + c * plane);
        if (tiles) {
            numeric::quantizeScaled(std::span<V>(xRe), inputLines, *tiles);
            numeric::quantizeScaled(std::span<V>(xIm), inputLines, *tiles);
        }
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
        return "Convolution theorem: FFTW real-to-complex transforms of the padded input (size rounded up to a "
               "fast length, 2^a3^b5^c), products summed over input channels in the frequency domain, one inverse "
               "transform per output channel; any kernel, stride (subsampled) and padding.";
    }
    std::optional<std::string> supports(const ConvProblem& p) const override {
        const FftGeometry g(p, false);
        if (g.Fh > (1 << 20) || g.Fw > (1 << 20)) return std::string("transform larger than 2^20 per dimension");
        return std::nullopt;
    }
    std::size_t workspaceBytes(const ConvProblem& p) const override {
        const FftGeometry g(p, false);
        return (static_cast<std::size_t>(p.K * p.C + p.C + p.K) * g.specStride() + 2 * g.realStride()) * sizeof(float);
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
        if (arith.engine() == numeric::EmulationEngine::Fast) {
            if (!lanes::fftRefusal(arith.spec())) return lanes::fftConv(p, arith.spec(), x, w, b, y);
            // Eight transforms side by side: one butterfly at a time, the branch-free double-lane
            // arithmetic was slower than the reference's early exits.
            if (!numeric::fastArithmeticRefusal(arith.spec())) return lanes::fftConvDouble(p, arith.spec(), x, w, b, y);
        }
        fftConvGeneric(p, x, w, b, y, arith);
    }
    void doRunScaledTiles(const ConvProblem& p, const double* x, const double* w, const double* b, double* y,
                          numeric::EmulatedArithmetic& arith, const numeric::ScaledFormat& tiles) const override {
        // The reference's early exits beat the branch-free double arithmetic on the butterflies (see doRun).
        fftConvGeneric(p, x, w, b, y, arith, &tiles);
    }

public:
    bool transformsOperands() const override { return true; }
    std::string fastEmulationPath(const numeric::ComputeSpec& spec) const override {
        if (spec.scaledStorage && spec.scalePlacement == numeric::ScalePlacement::TransformedTiles)
            return "reference: scales on the spectra run the reference's radix-2 transforms";
        return ConvAlgorithm::fastEmulationPath(spec, lanes::fftRefusal(spec));
    }
};

}  // namespace

std::unique_ptr<ConvAlgorithm> makeFftConv() { return std::make_unique<FftConv>(); }

}  // namespace ks::conv
