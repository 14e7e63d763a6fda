// Every one of the 2^32 float32 bit patterns, rounded to nearest-even:
//   fp16: the scalar Rounder, the float32 bulk kernel and the float64 bulk kernel, each against the
//         hardware conversion (F16C vcvtps2ph / vcvtph2ps), bit for bit (NaN: NaN-ness only);
//   bf16: the same three paths against the exact round-to-nearest-even formula evaluated in double
//         (the two neighbours and the midpoint compared as numbers, not bit tricks).
// (bf16's scalar path: every 8th chunk, see kBf16ScalarStride.)
// And to fp16 toward zero, up and down, against vcvtps2ph with the matching immediate: every pattern
// whose exponent lies in the band where the fp16 result depends on the low bits (|x| from 2^-26 to
// 2^17: subnormals, ties, overflow threshold), and every 32nd chunk elsewhere (there the result is
// 0, the smallest subnormal, the overflow value, infinity or NaN whatever the low bits). These modes
// run the scalar Rounder in every path (~10x the vector kernel): the float32 bulk path on all of those
// chunks, the scalar and float64 paths on every 16th.
// Patterns are checked in chunks of 2^16 consecutive codes (every low half-word, so every tie and
// its neighbours for both formats), spread over the available threads.
// Under KS_SANITIZE (ASan + UBSan are ~10x slower) only every 61st chunk is checked: still all
// low-order patterns (ties, subnormals of the output) for ~1100 different sign/exponent/high-
// mantissa prefixes, keeping the run near a minute.
#include <QTest>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include <immintrin.h>

#include "numeric/round.hpp"
#include "test_support.hpp"

using namespace ks::numeric;

Q_DECLARE_METATYPE(ks::numeric::Rounding)

namespace {


constexpr std::uint32_t kChunkBits = 16;
constexpr std::uint32_t kChunkSize = 1u << kChunkBits;
constexpr std::uint32_t kChunks = 1u << (32 - kChunkBits);
#ifdef KS_SANITIZE
constexpr std::uint32_t kChunkStride = 61;
#else
constexpr std::uint32_t kChunkStride = 1;
#endif
/// The scalar path costs ~10x the bulk kernels; it is checked on all 2^32 patterns for fp16, and on
/// every 8th chunk (2^29 patterns, every low half-word included) for bf16 to keep the run short.
constexpr std::uint32_t kBf16ScalarStride = 8;

using ks::test::sameResult;

/// float32 -> fp16 -> float32 by F16C, rounding as the immediate says (8 at a time).
template <int Mode = _MM_FROUND_TO_NEAREST_INT>
__attribute__((target("avx,f16c"))) void hardwareFp16(const float* in, float* out, std::size_t n) {
    for (std::size_t i = 0; i < n; i += 8) {
        const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(in + i), Mode);
        _mm256_storeu_ps(out + i, _mm256_cvtph_ps(h));
    }
}

using HardwareRounding = void (*)(const float*, float*, std::size_t);
HardwareRounding hardwareFp16For(Rounding r) {
    switch (r) {
    case Rounding::NearestEven: return hardwareFp16<_MM_FROUND_TO_NEAREST_INT>;
    case Rounding::TowardZero: return hardwareFp16<_MM_FROUND_TO_ZERO>;
    case Rounding::Up: return hardwareFp16<_MM_FROUND_TO_POS_INF>;
    case Rounding::Down: return hardwareFp16<_MM_FROUND_TO_NEG_INF>;
    case Rounding::Stochastic: break;
    }
    qFatal("F16C has no stochastic rounding");
}

/// Directed modes: a chunk (its 16 high bits: sign, exponent, 7 mantissa bits) is checked when its
/// exponent lies in the band where fp16's result depends on the low bits (2^-26 .. 2^17; below 2^-24
/// and from 2^16 on the directed results are constant), or every 32nd chunk elsewhere.
bool directedChunkSelected(std::uint32_t chunk) {
    const std::uint32_t exponent = (chunk >> 7) & 0xffu;
    return (exponent >= 127 - 26 && exponent <= 127 + 16) || chunk % 32 == 0;
}
constexpr std::uint32_t kDirectedAllPathsStride = 16;

/// Round-to-nearest-even to bf16 by definition: the two bf16 neighbours of |x| (truncation and the
/// next one up, as numbers in double), the midpoint, ties to the even significand; overflow past the
/// largest bf16 plus half an ulp is infinity.
float exactBf16(float x) {
    if (std::isnan(x) || std::isinf(x) || x == 0) return x;
    const std::uint32_t magnitude = std::bit_cast<std::uint32_t>(x) & 0x7fffffffu;
    const std::uint32_t truncatedBits = magnitude & 0xffff0000u;
    const double a = std::fabs(static_cast<double>(x));
    const double lo = std::bit_cast<float>(truncatedBits);
    const int field = static_cast<int>(magnitude >> 23);
    const int exponent = field == 0 ? -126 : field - 127;
    const double step = std::bit_cast<double>(static_cast<std::uint64_t>(exponent - 7 + 1023) << 52);  // 2^(e-7)
    const double hi = lo + step;
    const double mid = lo + step / 2;
    const bool loIsEven = ((truncatedBits >> 16) & 1u) == 0;
    double r = a < mid ? lo : a > mid ? hi : (loIsEven ? lo : hi);
    if (r > 0x1.fep127) r = INFINITY;
    return static_cast<float>(std::copysign(r, static_cast<double>(x)));
}

struct Failure {
    std::uint32_t bits = 0;
    float got = 0, expected = 0;
    const char* path = "";
};

/// Run `check(first code, ...)` over the chunks [firstChunk, lastChunk) on all threads; returns mismatches.
template <class Check>
std::uint64_t runChunks(Check check, std::uint32_t firstChunk, std::uint32_t lastChunk, Failure& firstFailure) {
    const unsigned threads = std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
    std::atomic<std::uint32_t> next{firstChunk};
    std::atomic<std::uint64_t> mismatches{0};
    std::mutex failureMutex;
    bool haveFailure = false;
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t)
        pool.emplace_back([&] {
            std::vector<float> in(kChunkSize);
            std::vector<double> wide(kChunkSize), wideOut(kChunkSize);
            std::vector<float> expected(kChunkSize), scalar(kChunkSize), bulk(kChunkSize), bulkWide(kChunkSize);
            for (;;) {
                const std::uint32_t chunk = next.fetch_add(kChunkStride);
                if (chunk >= lastChunk) return;
                Failure f;
                const std::uint64_t bad = check(chunk << kChunkBits, in, wide, wideOut, expected, scalar, bulk,
                                                bulkWide, f);
                if (bad) {
                    mismatches += bad;
                    std::lock_guard lock(failureMutex);
                    if (!haveFailure) {
                        firstFailure = f;
                        haveFailure = true;
                    }
                }
            }
        });
    for (auto& t : pool) t.join();
    return mismatches;
}

/// The pattern space in 8 slices, one data row each, so that progress is visible.
void addSlices() {
    QTest::addColumn<quint32>("firstChunk");
    for (std::uint32_t s = 0; s < 8; ++s) {
        const std::uint32_t first = s * (kChunks / 8);
        QTest::newRow(qPrintable(QString("0x%1xxxxxxx").arg(first >> (28 - kChunkBits), 1, 16))) << quint32(first);
    }
}

/// One chunk through the scalar Rounder (when checkScalar), the float32 bulk path and (when checkWide)
/// the float64 bulk path, against `reference`.
template <class Reference>
std::uint64_t checkChunk(const Format& format, Rounding rounding, Reference reference, bool checkScalar,
                         bool checkWide, std::uint32_t first, std::vector<float>& in,
                         std::vector<double>& wide, std::vector<double>& wideOut, std::vector<float>& expected,
                         std::vector<float>& scalar, std::vector<float>& bulk, std::vector<float>& bulkWide,
                         Failure& failure) {
    const Rounder rounder(format, rounding);
    for (std::uint32_t i = 0; i < kChunkSize; ++i) {
        in[i] = std::bit_cast<float>(first + i);
        wide[i] = in[i];
    }
    reference(in.data(), expected.data(), kChunkSize);
    if (checkScalar)
        for (std::uint32_t i = 0; i < kChunkSize; ++i) scalar[i] = static_cast<float>(rounder(wide[i]));
    else
        std::copy(expected.begin(), expected.end(), scalar.begin());
    roundArray(std::span<const float>(in), std::span<float>(bulk), format, rounding);
    if (checkWide) {
        roundArray(std::span<const double>(wide), std::span<double>(wideOut), format, rounding);
        for (std::uint32_t i = 0; i < kChunkSize; ++i) bulkWide[i] = static_cast<float>(wideOut[i]);
    } else {
        std::copy(expected.begin(), expected.end(), bulkWide.begin());
    }
    std::uint64_t bad = 0;
    for (std::uint32_t i = 0; i < kChunkSize; ++i) {
        const bool okScalar = sameResult(scalar[i], expected[i]);
        const bool okBulk = sameResult(bulk[i], expected[i]);
        const bool okWide = sameResult(bulkWide[i], expected[i]);
        if (okScalar && okBulk && okWide) continue;
        if (!bad) {
            failure.bits = first + i;
            failure.expected = expected[i];
            failure.got = !okScalar ? scalar[i] : !okBulk ? bulk[i] : bulkWide[i];
            failure.path = !okScalar ? "scalar Rounder" : !okBulk ? "float32 bulk kernel" : "float64 bulk kernel";
        }
        bad += !okScalar + !okBulk + !okWide;
    }
    return bad;
}

QString describeFailure(const Failure& f, std::uint64_t count) {
    return QString("%1 mismatches; first: bits 0x%2 (%3): %4 gave %5, expected %6")
        .arg(count)
        .arg(f.bits, 8, 16, QChar('0'))
        .arg(ks::test::hexFloat(double(std::bit_cast<float>(f.bits))))
        .arg(f.path)
        .arg(ks::test::hexFloat(double(f.got)))
        .arg(ks::test::hexFloat(double(f.expected)));
}

}  // namespace

class tst_RoundingExhaustive : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void fp16MatchesF16c_data() { addSlices(); }
    void fp16MatchesF16c() {
        if (!__builtin_cpu_supports("f16c") || !__builtin_cpu_supports("avx"))
            QSKIP("this CPU has no F16C: the hardware fp16 reference is unavailable");
        QFETCH(quint32, firstChunk);
        const Format fp16 = Format::fp16();
        Failure failure;
        const auto bad = runChunks(
            [&](std::uint32_t first, auto&... buffers) {
                return checkChunk(fp16, Rounding::NearestEven, hardwareFp16<>, true, true, first, buffers...);
            },
            firstChunk, firstChunk + kChunks / 8, failure);
        QVERIFY2(bad == 0, qPrintable(describeFailure(failure, bad)));
    }

    void fp16DirectedMatchesF16c_data() {
        QTest::addColumn<Rounding>("rounding");
        for (Rounding r : {Rounding::TowardZero, Rounding::Up, Rounding::Down})
            QTest::newRow(roundingName(r).c_str()) << r;
    }
    void fp16DirectedMatchesF16c() {
        if (!__builtin_cpu_supports("f16c") || !__builtin_cpu_supports("avx"))
            QSKIP("this CPU has no F16C: the hardware fp16 reference is unavailable");
        QFETCH(Rounding, rounding);
        const Format fp16 = Format::fp16();
        const HardwareRounding reference = hardwareFp16For(rounding);
        std::atomic<std::uint64_t> checkedChunks{0};
        Failure failure;
        const auto bad = runChunks(
            [&](std::uint32_t first, auto&... buffers) -> std::uint64_t {
                const std::uint32_t chunk = first >> kChunkBits;
                if (!directedChunkSelected(chunk)) return 0;
                ++checkedChunks;
                const bool allPaths = chunk % kDirectedAllPathsStride == 0;
                return checkChunk(fp16, rounding, reference, allPaths, allPaths, first, buffers...);
            },
            0, kChunks, failure);
        qInfo("%llu of the 2^16 chunks of 2^16 patterns checked (see the file's header)",
              static_cast<unsigned long long>(checkedChunks.load()));
        QVERIFY2(bad == 0, qPrintable(describeFailure(failure, bad)));
    }

    void bf16MatchesExactFormula_data() { addSlices(); }
    void bf16MatchesExactFormula() {
        QFETCH(quint32, firstChunk);
        const Format bf16 = Format::bf16();
        auto reference = [](const float* in, float* out, std::size_t n) {
            for (std::size_t i = 0; i < n; ++i) out[i] = exactBf16(in[i]);
        };
        Failure failure;
        const auto bad = runChunks(
            [&](std::uint32_t first, auto&... buffers) {
                const bool checkScalar = (first >> kChunkBits) % kBf16ScalarStride == 0;
                return checkChunk(bf16, Rounding::NearestEven, reference, checkScalar, true, first, buffers...);
            },
            firstChunk, firstChunk + kChunks / 8, failure);
        QVERIFY2(bad == 0, qPrintable(describeFailure(failure, bad)));
    }

    void referenceIsNotVacuous() {
        // The references themselves, on hand-picked values (so a broken reference cannot agree with
        // a broken rounder by accident).
        KS_COMPARE_EXACT(exactBf16(1.0f + 0x1p-8f), 1.0f);                       // tie to even (down)
        KS_COMPARE_EXACT(exactBf16(1.0f + 0x1p-8f + 0x1p-23f), 1.0f + 0x1p-7f);  // just above the tie
        KS_COMPARE_EXACT(exactBf16(1.0f + 0x3p-8f), 1.0f + 0x1p-6f);             // tie to even (up)
        QVERIFY(std::isinf(exactBf16(0x1.ffp127f)));                     // rounds past the largest bf16
        if (__builtin_cpu_supports("f16c")) {
            float in[8] = {1.0f + 0x1p-11f, 65520.0f, 65519.0f, 0x1p-25f, 0x1.8p-24f, -0.0f, 1e-10f, 3.0f};
            float out[8];
            hardwareFp16(in, out, 8);
            const float expected[8] = {1.0f, INFINITY, 65504.0f, 0.0f, 0x1p-23f, -0.0f, 0.0f, 3.0f};
            for (int i = 0; i < 8; ++i) KS_COMPARE_EXACT(out[i], expected[i]);
            // The directed immediates: a tie, overflow, a tiny value, each sign.
            float directedIn[8] = {1.0f + 0x1p-11f, -(1.0f + 0x1p-11f), 65520.0f, -65520.0f,
                                   1e-10f,          -1e-10f,            3.0f,     -0.0f};
            const struct {
                Rounding r;
                float expected[8];
            } directed[] = {
                {Rounding::TowardZero, {1.0f, -1.0f, 65504.0f, -65504.0f, 0.0f, -0.0f, 3.0f, -0.0f}},
                {Rounding::Up, {1.0f + 0x1p-10f, -1.0f, INFINITY, -65504.0f, 0x1p-24f, -0.0f, 3.0f, -0.0f}},
                {Rounding::Down, {1.0f, -(1.0f + 0x1p-10f), 65504.0f, -INFINITY, 0.0f, -0x1p-24f, 3.0f, -0.0f}},
            };
            for (const auto& d : directed) {
                hardwareFp16For(d.r)(directedIn, out, 8);
                for (int i = 0; i < 8; ++i) KS_COMPARE_EXACT(out[i], d.expected[i]);
            }
        }
    }
};

int main(int argc, char** argv) {
    // 2^32 patterns per format take about a minute of CPU time; on a loaded 2-core machine the wall
    // time can pass QtTest's default 5-minute watchdog (which counts all rows of a function) while
    // the run is healthy. CTest's own timeout still applies.
    if (!qEnvironmentVariableIsSet("QTEST_FUNCTION_TIMEOUT")) qputenv("QTEST_FUNCTION_TIMEOUT", "3600000");
    tst_RoundingExhaustive test;
    return QTest::qExec(&test, argc, argv);
}
#include "tst_rounding_exhaustive.moc"
