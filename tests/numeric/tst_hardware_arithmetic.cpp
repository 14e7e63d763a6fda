// Emulated fp16 and bf16 arithmetic (EmulatedArithmetic: one rounding per operation) against arithmetic we
// did not write, bit for bit (NaN: both NaN), on random operands spanning subnormals, overflow, signed zeros
// and NaN:
//   fp16 +, -, *, /  nearest: g++'s _Float16 arithmetic; every mode: the float32 operation rounded in the
//                    same direction (AVX-512 embedded rounding, and MXCSR.RC around an asm instruction),
//                    then F16C's vcvtps2ph with the matching immediate. Rounding twice in one direction
//                    equals rounding once (fp16's grid is a subset of float32's, subnormals included); in
//                    nearest-even the double rounding is innocuous for +, -, *, / since 24 >= 2 * 11 + 2.
//   fp16 fma         (_Float16) of the exact binary128 result a*b + c (exact: at most 22 + 80 bits): libgcc's
//                    soft-fp __trunctfhf2 keeps every dropped bit as sticky and rounds in MXCSR's mode
//                    (checked on hand-picked ties and directed cases in referencesAreNotVacuous).
//   bf16 +, -, *, /  the float32 operation in the same direction, then a bf16 rounding of the float32 bits:
//                    AVX512-BF16's vcvtneps2bf16 for nearest where the CPU has it (it treats float32
//                    subnormals as zero, so only results with a normal or zero float32 value are compared
//                    through it), and in every case the published rules on the bit pattern (nearest-even:
//                    PyTorch's/NumPy's bits + 0x7fff + lsb, high half; toward zero: the high half; away
//                    from zero: the high half plus one when the low half is not zero). 24 >= 2 * 8 + 2.
//   double -> fp16   roundTo and roundArray against (_Float16)double: libgcc's __truncdfhf2, direct and
//                    correctly rounded in MXCSR's mode, for doubles with more than 24 significant bits.
//   stochastic       the probability of rounding up within 5 sigma of its exact value, scalar and array
//                    paths, and both paths drawing the same sequence.
// Without AVX-512 (e.g. Zen 3) the MXCSR route alone is the float32 reference, and without AVX512-BF16
// the bit-pattern rule alone is the bf16 one: each says so with qInfo. Without F16C the test skips.
#include <QTest>

#include <bit>
#include <cfenv>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include <immintrin.h>

#include "numeric/arithmetic.hpp"
#include "test_support.hpp"

using namespace ks::numeric;

Q_DECLARE_METATYPE(ks::numeric::Rounding)

namespace {


enum class Op { Add, Sub, Mul, Div };
const char* opName(Op op) {
    switch (op) {
    case Op::Add: return "add";
    case Op::Sub: return "sub";
    case Op::Mul: return "mul";
    case Op::Div: return "div";
    }
    return "?";
}

/// The x86 rounding-control encoding shared by MXCSR.RC and the vcvtps2ph / embedded-rounding immediates.
int x86RoundingControl(Rounding r) {
    switch (r) {
    case Rounding::NearestEven: return _MM_FROUND_TO_NEAREST_INT;
    case Rounding::Down: return _MM_FROUND_TO_NEG_INF;
    case Rounding::Up: return _MM_FROUND_TO_POS_INF;
    case Rounding::TowardZero: return _MM_FROUND_TO_ZERO;
    case Rounding::Stochastic: break;
    }
    qFatal("no hardware rounding mode for stochastic rounding");
}

int cFenvMode(Rounding r) {
    switch (r) {
    case Rounding::NearestEven: return FE_TONEAREST;
    case Rounding::Down: return FE_DOWNWARD;
    case Rounding::Up: return FE_UPWARD;
    case Rounding::TowardZero: return FE_TOWARDZERO;
    case Rounding::Stochastic: break;
    }
    qFatal("no C rounding mode for stochastic rounding");
}

/// fesetround for a scope (libgcc's soft-fp conversions read the mode from MXCSR). Nothing of ours runs
/// inside: the emulation relies on the hardware rounding to nearest.
class ScopedRoundingMode {
public:
    explicit ScopedRoundingMode(Rounding r) {
        if (std::fesetround(cFenvMode(r)) != 0) qFatal("fesetround refused a rounding mode");
    }
    ~ScopedRoundingMode() { std::fesetround(FE_TONEAREST); }
    ScopedRoundingMode(const ScopedRoundingMode&) = delete;
    ScopedRoundingMode& operator=(const ScopedRoundingMode&) = delete;
};

bool haveAvx() { return __builtin_cpu_supports("avx"); }
bool haveF16c() { return haveAvx() && __builtin_cpu_supports("f16c"); }
bool haveAvx512() { return __builtin_cpu_supports("avx512f"); }
bool haveAvx512Bf16() { return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16"); }

// --- float32 operations in a given direction ------------------------------------------------------------

/// AVX-512 embedded rounding: the direction is part of the instruction.
template <int Mode>
__attribute__((target("avx512f"))) void floatOpEmbedded(Op op, const float* a, const float* b, float* out,
                                                         std::size_t n) {
    constexpr int rc = Mode | _MM_FROUND_NO_EXC;
    for (std::size_t i = 0; i < n; i += 16) {
        const __m512 x = _mm512_loadu_ps(a + i), y = _mm512_loadu_ps(b + i);
        // The masked forms with every lane selected: the plain ones start from _mm512_undefined_ps(), which
        // g++ 12 reports as maybe-uninitialized.
        const __m512 zero = _mm512_setzero_ps();
        constexpr __mmask16 all = 0xffff;
        __m512 r = zero;  // every Op is handled below
        switch (op) {
        case Op::Add: r = _mm512_mask_add_round_ps(zero, all, x, y, rc); break;
        case Op::Sub: r = _mm512_mask_sub_round_ps(zero, all, x, y, rc); break;
        case Op::Mul: r = _mm512_mask_mul_round_ps(zero, all, x, y, rc); break;
        case Op::Div: r = _mm512_mask_div_round_ps(zero, all, x, y, rc); break;
        }
        _mm512_storeu_ps(out + i, r);
    }
}

void floatOpEmbedded(Rounding mode, Op op, const float* a, const float* b, float* out, std::size_t n) {
    switch (x86RoundingControl(mode)) {
    case _MM_FROUND_TO_NEAREST_INT: return floatOpEmbedded<_MM_FROUND_TO_NEAREST_INT>(op, a, b, out, n);
    case _MM_FROUND_TO_NEG_INF: return floatOpEmbedded<_MM_FROUND_TO_NEG_INF>(op, a, b, out, n);
    case _MM_FROUND_TO_POS_INF: return floatOpEmbedded<_MM_FROUND_TO_POS_INF>(op, a, b, out, n);
    default: return floatOpEmbedded<_MM_FROUND_TO_ZERO>(op, a, b, out, n);
    }
}

/// MXCSR.RC set around the operation. Both are volatile asm, so the compiler keeps their order (an
/// intrinsic or a plain `+` could be moved across the mode change).
__attribute__((target("avx"))) void floatOpMxcsr(Rounding mode, Op op, const float* a, const float* b, float* out,
                                                 std::size_t n) {
    unsigned saved = 0;
    asm volatile("vstmxcsr %0" : "=m"(saved));
    const unsigned directed = (saved & ~0x6000u) | (static_cast<unsigned>(x86RoundingControl(mode)) << 13);
    asm volatile("vldmxcsr %0" : : "m"(directed));
    for (std::size_t i = 0; i < n; i += 8) {
        const __m256 x = _mm256_loadu_ps(a + i), y = _mm256_loadu_ps(b + i);
        __m256 r = _mm256_setzero_ps();  // every Op is handled below
        switch (op) {
        case Op::Add: asm volatile("vaddps %2, %1, %0" : "=x"(r) : "x"(x), "x"(y)); break;
        case Op::Sub: asm volatile("vsubps %2, %1, %0" : "=x"(r) : "x"(x), "x"(y)); break;
        case Op::Mul: asm volatile("vmulps %2, %1, %0" : "=x"(r) : "x"(x), "x"(y)); break;
        case Op::Div: asm volatile("vdivps %2, %1, %0" : "=x"(r) : "x"(x), "x"(y)); break;
        }
        _mm256_storeu_ps(out + i, r);
    }
    asm volatile("vldmxcsr %0" : : "m"(saved));
}

// --- float32 -> fp16 / bf16 by routes other than ours ------------------------------------------------------

template <int Mode>
__attribute__((target("avx,f16c"))) void halfFromFloatF16c(const float* in, std::uint16_t* out, std::size_t n) {
    for (std::size_t i = 0; i < n; i += 8)
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm256_cvtps_ph(_mm256_loadu_ps(in + i), Mode));
}

void halfFromFloatF16c(Rounding mode, const float* in, std::uint16_t* out, std::size_t n) {
    switch (x86RoundingControl(mode)) {
    case _MM_FROUND_TO_NEAREST_INT: return halfFromFloatF16c<_MM_FROUND_TO_NEAREST_INT>(in, out, n);
    case _MM_FROUND_TO_NEG_INF: return halfFromFloatF16c<_MM_FROUND_TO_NEG_INF>(in, out, n);
    case _MM_FROUND_TO_POS_INF: return halfFromFloatF16c<_MM_FROUND_TO_POS_INF>(in, out, n);
    default: return halfFromFloatF16c<_MM_FROUND_TO_ZERO>(in, out, n);
    }
}

/// bf16 from float32 bits by the published rules (see the header); NaN gives a quiet NaN.
std::uint16_t bf16FromFloatBits(float value, Rounding mode) {
    const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((bits >> 16) | 0x0040u);
    const bool negative = bits >> 31;
    const bool inexact = (bits & 0xffffu) != 0;
    bool away = false;  // from zero, in magnitude
    switch (mode) {
    case Rounding::NearestEven: return static_cast<std::uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
    case Rounding::TowardZero: away = false; break;
    case Rounding::Up: away = !negative && inexact; break;
    case Rounding::Down: away = negative && inexact; break;
    case Rounding::Stochastic: qFatal("no bf16 rule for stochastic rounding");
    }
    return static_cast<std::uint16_t>((bits >> 16) + (away ? 1u : 0u));
}

__attribute__((target("avx512f,avx512bf16"))) void bf16FromFloatAvx512(const float* in, std::uint16_t* out,
                                                                        std::size_t n) {
    for (std::size_t i = 0; i < n; i += 16) {
        const __m256bh h = _mm512_cvtneps_pbh(_mm512_loadu_ps(in + i));
        std::memcpy(out + i, &h, sizeof h);
    }
}

double halfToDouble(std::uint16_t bits) { return static_cast<double>(std::bit_cast<_Float16>(bits)); }
double bf16ToDouble(std::uint16_t bits) {
    return static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16));
}

using ks::test::sameResult;

// --- operands ------------------------------------------------------------------------------------------

struct Codec {
    const char* name;
    Format format;
    double (*decode)(std::uint16_t);
    std::vector<std::uint16_t> specials;  ///< zeros, infinities, NaNs, subnormal and range edges, one
};

Codec fp16Codec() {
    return {"fp16", Format::fp16(), halfToDouble,
            {0x0000, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0xfe00, 0x0001, 0x8001, 0x03ff, 0x83ff, 0x0400, 0x8400, 0x7bff,
             0xfbff, 0x3c00, 0xbc00, 0x3555, 0x0200}};
}
Codec bf16Codec() {
    return {"bf16", Format::bf16(), bf16ToDouble,
            {0x0000, 0x8000, 0x7f80, 0xff80, 0x7fc0, 0xffc0, 0x0001, 0x8001, 0x007f, 0x807f, 0x0080, 0x8080, 0x7f7f,
             0xff7f, 0x3f80, 0xbf80, 0x3eab, 0x0040}};
}

/// Random operand codes: mostly uniform over all 2^16 codes (every exponent equally: subnormals,
/// overflowing products, NaN and infinity codes), an eighth from the special values, and an eighth of the
/// second operands a neighbour of the first (either sign): cancellation, exact zeros, subnormal sums.
struct Operands {
    std::vector<std::uint16_t> a, b, c;
};
Operands randomOperands(const Codec& codec, std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    auto pick = [&] {
        const std::uint64_t r = rng();
        if ((r & 7) == 0) return codec.specials[(r >> 8) % codec.specials.size()];
        return static_cast<std::uint16_t>(r >> 32);
    };
    Operands ops;
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint16_t a = pick();
        std::uint16_t b = pick();
        const std::uint64_t r = rng();
        if ((r & 7) == 1) b = static_cast<std::uint16_t>((a + ((r >> 8) & 7) - 3) ^ ((r >> 12) & 1 ? 0x8000u : 0u));
        ops.a.push_back(a);
        ops.b.push_back(b);
        ops.c.push_back(pick());
    }
    return ops;
}

/// What the expected results cover, so that a change of the operands cannot quietly lose a case.
struct Coverage {
    double minNormal, maxFinite;
    int subnormal = 0, overflow = 0, negativeZero = 0, nan = 0;
    void count(double expected, double a, double b) {
        const double x = std::fabs(expected);
        subnormal += x > 0 && x < minNormal;
        // Beyond the range from finite operands: infinity, or the largest value where the mode saturates.
        overflow += (std::isinf(expected) || x == maxFinite) && std::isfinite(a) && std::isfinite(b);
        negativeZero += expected == 0 && std::signbit(expected);
        nan += std::isnan(expected);
    }
    QString text() const {
        return QString("%1 subnormal, %2 overflowing, %3 negative-zero, %4 NaN results")
            .arg(subnormal)
            .arg(overflow)
            .arg(negativeZero)
            .arg(nan);
    }
};

/// Mismatch count and the first mismatch, per reference route.
struct Mismatches {
    std::uint64_t count = 0;
    QString first;
    /// `describe` builds the message, for the first mismatch only (formatting every case would cost more
    /// than the arithmetic).
    template <class Describe>
    void check(bool ok, Describe describe) {
        if (ok) return;
        if (!count) first = describe();
        ++count;
    }
};

double emulate(EmulatedArithmetic& arith, Op op, double a, double b) {
    switch (op) {
    case Op::Add: return arith.add(a, b);
    case Op::Sub: return arith.sub(a, b);
    case Op::Mul: return arith.mul(a, b);
    case Op::Div: return arith.div(a, b);
    }
    return 0;
}

__attribute__((noinline)) _Float16 float16Op(Op op, _Float16 a, _Float16 b) {
    switch (op) {
    case Op::Add: return a + b;
    case Op::Sub: return a - b;
    case Op::Mul: return a * b;
    case Op::Div: return a / b;
    }
    return a;
}

QString describeCase(const char* op, double a, double b, double got, double expected) {
    return QString("%1(%2, %3) = %4, expected %5")
        .arg(op)
        .arg(ks::test::hexFloat(a))
        .arg(ks::test::hexFloat(b))
        .arg(ks::test::hexFloat(got))
        .arg(ks::test::hexFloat(expected));
}

// Operations per row (a multiple of 16), and the number of stochastic draws divided by 2^kDrawShift. The
// sanitizer build (ASan + UBSan, ~10x slower) takes fewer: still every kind of operand, and 5 sigma still
// holds for correct rounding, only a smaller bias would pass.
#ifdef KS_SANITIZE
constexpr std::size_t kOperations = std::size_t{1} << 16;
constexpr int kDrawShift = 3;
#else
constexpr std::size_t kOperations = std::size_t{1} << 19;
constexpr int kDrawShift = 0;
#endif

void addOpModeRows() {
    QTest::addColumn<int>("op");
    QTest::addColumn<Rounding>("rounding");
    for (Op op : {Op::Add, Op::Sub, Op::Mul, Op::Div})
        for (Rounding r : {Rounding::NearestEven, Rounding::TowardZero, Rounding::Up, Rounding::Down})
            QTest::newRow(qPrintable(QString("%1 %2").arg(opName(op)).arg(QString::fromStdString(roundingName(r)))))
                << int(op) << r;
}

/// Draws from a stochastic Rounder at `draws` distinct sites (elements 0, 1, ...; the array path a key per
/// 2^16-element array).
std::uint64_t countUps(double x, double hi, const Format& format, bool arrayPath, std::uint64_t draws,
                       std::uint64_t seed) {
    std::uint64_t ups = 0;
    if (!arrayPath) {
        const Rounder rounder(format, Rounding::Stochastic);
        RandomSite site{randomKey(seed, 0), 0, 0};
        for (std::uint64_t i = 0; i < draws; ++i) {
            site.element = static_cast<std::uint32_t>(i);
            ups += rounder(x, &site) == hi;
        }
        return ups;
    }
    std::vector<double> in(std::size_t{1} << 16, x), out(in.size());
    std::uint32_t array = 0;
    for (std::uint64_t done = 0; done < draws; done += in.size()) {
        const RandomKey key = randomKey(seed, ++array);
        roundArray(std::span<const double>(in), std::span<double>(out), format, Rounding::Stochastic, &key);
        for (double r : out) ups += r == hi;
    }
    return ups;
}

}  // namespace

class tst_HardwareArithmetic : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        if (!haveF16c()) qInfo("no F16C on this CPU: the fp16 operations against vcvtps2ph are skipped");
        if (!haveAvx512())
            qInfo("no AVX-512 on this CPU: the float32 reference is the MXCSR route alone (no embedded rounding)");
        if (!haveAvx512Bf16())
            qInfo("no AVX512-BF16 on this CPU: bf16 is checked against the bit-pattern rules alone");
    }

    void fp16Operations_data() { addOpModeRows(); }
    void fp16Operations() {
        QFETCH(int, op);
        QFETCH(Rounding, rounding);
        checkOperation(fp16Codec(), Op(op), rounding);
    }

    void bf16Operations_data() { addOpModeRows(); }
    void bf16Operations() {
        QFETCH(int, op);
        QFETCH(Rounding, rounding);
        checkOperation(bf16Codec(), Op(op), rounding);
    }

    void fp16Fma_data() {
        QTest::addColumn<Rounding>("rounding");
        for (Rounding r : {Rounding::NearestEven, Rounding::TowardZero, Rounding::Up, Rounding::Down})
            QTest::newRow(roundingName(r).c_str()) << r;
    }
    void fp16Fma() {
        QFETCH(Rounding, rounding);
        const Codec codec = fp16Codec();
        const Operands ops = randomOperands(codec, kOperations, 7);
        std::vector<double> expected(kOperations);
        {
            const ScopedRoundingMode mode(rounding);
            for (std::size_t i = 0; i < kOperations; ++i) {
                const __float128 exact = static_cast<__float128>(halfToDouble(ops.a[i])) * halfToDouble(ops.b[i]) +
                                         static_cast<__float128>(halfToDouble(ops.c[i]));
                expected[i] = static_cast<double>(static_cast<_Float16>(exact));
            }
        }
        EmulatedArithmetic arith(ComputeSpec::uniform(codec.format, rounding));
        Mismatches bad;
        Coverage coverage{minNormal(codec.format), maxFinite(codec.format)};
        for (std::size_t i = 0; i < kOperations; ++i) {
            const double a = halfToDouble(ops.a[i]), b = halfToDouble(ops.b[i]), c = halfToDouble(ops.c[i]);
            const double got = arith.fma(a, b, c);
            coverage.count(expected[i], a, b);
            bad.check(sameResult(got, expected[i]), [&] {
                return QString("fma(%1, %2, %3) = %4, expected %5")
                    .arg(ks::test::hexFloat(a))
                    .arg(ks::test::hexFloat(b))
                    .arg(ks::test::hexFloat(c))
                    .arg(ks::test::hexFloat(got))
                    .arg(ks::test::hexFloat(expected[i]));
            });
        }
        qInfo("%s", qPrintable(coverage.text()));
        QVERIFY2(bad.count == 0, qPrintable(QString("%1 mismatches; first: %2").arg(bad.count).arg(bad.first)));
        QVERIFY(coverage.subnormal > 0 && coverage.overflow > 0 && coverage.nan > 0);
    }

    void fp16FromWideDoubles_data() {
        QTest::addColumn<Rounding>("rounding");
        for (Rounding r : {Rounding::NearestEven, Rounding::TowardZero, Rounding::Up, Rounding::Down})
            QTest::newRow(roundingName(r).c_str()) << r;
    }
    /// Doubles with more than 24 significant bits: going through float32 first would round twice.
    void fp16FromWideDoubles() {
        QFETCH(Rounding, rounding);
        std::mt19937_64 rng(11);
        std::vector<double> x(kOperations);
        for (std::size_t i = 0; i < x.size(); ++i) {
            const std::uint64_t r = rng();
            const double sign = (r & 1) ? -1.0 : 1.0;
            if ((r & 6) == 0) {
                // An fp16 midpoint (odd multiple of half a step, exponents -25..15) moved by a few double
                // ulps: float32 would round it onto the midpoint.
                const int e = static_cast<int>((r >> 8) % 41) - 25;
                const double midpoint = std::ldexp(static_cast<double>(((r >> 16) & 0x7ff) | 0x801), e - 11);
                const int nudge = static_cast<int>((r >> 32) % 9) - 4;
                x[i] = sign * std::bit_cast<double>(std::bit_cast<std::uint64_t>(midpoint) + nudge);
            } else {
                // A full 53-bit significand, exponents -27..17: below the smallest subnormal to overflow.
                const int e = static_cast<int>((r >> 8) % 45) - 27;
                x[i] = sign * std::ldexp(1.0 + static_cast<double>(rng() >> 12) * 0x1p-52, e);
            }
        }
        std::vector<double> expected(x.size());
        {
            const ScopedRoundingMode mode(rounding);
            for (std::size_t i = 0; i < x.size(); ++i) expected[i] = static_cast<double>(static_cast<_Float16>(x[i]));
        }
        std::vector<double> bulk(x.size());
        roundArray(std::span<const double>(x), std::span<double>(bulk), Format::fp16(), rounding);
        const Rounder rounder(Format::fp16(), rounding);
        Mismatches bad;
        int viaFloatDiffers = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
            const double scalar = rounder(x[i]);
            const auto describe = [value = x[i], want = expected[i]](const char* path, double got) {
                return [=] {
                    return QString("%1 %2 -> %3, expected %4").arg(path).arg(ks::test::hexFloat(value)).arg(ks::test::hexFloat(got)).arg(ks::test::hexFloat(want));
                };
            };
            bad.check(sameResult(scalar, expected[i]), describe("scalar", scalar));
            bad.check(sameResult(bulk[i], expected[i]), describe("array", bulk[i]));
            if (rounding == Rounding::NearestEven)
                viaFloatDiffers += !sameResult(rounder(static_cast<float>(x[i])), expected[i]);
        }
        QVERIFY2(bad.count == 0, qPrintable(QString("%1 mismatches; first: %2").arg(bad.count).arg(bad.first)));
        if (rounding == Rounding::NearestEven) {
            // The operands do test what they claim: through float32 first, many would round wrongly.
            qInfo("rounding through float32 first would differ in %d of %zu", viaFloatDiffers, x.size());
            QVERIFY(viaFloatDiffers > 1000);
        }
    }

    void stochasticProbability_data() {
        QTest::addColumn<QString>("format");
        QTest::addColumn<double>("lo");
        QTest::addColumn<double>("step");
        QTest::addColumn<double>("p");
        QTest::addColumn<bool>("arrayPath");
        struct Where {
            const char* name;
            const char* format;
            double lo, step;
        };
        // In a binade (the bit-pattern path) and below the smallest subnormal (the 0-or-step path).
        const Where places[] = {{"fp16 1+", "fp16", 1.0, 0x1p-10}, {"fp16 below 2^-24", "fp16", 0.0, 0x1p-24},
                                {"bf16 -3-", "bf16", -3.0, -0x1p-6}};
        for (const auto& w : places)
            for (double p : {0x1p-20, 0.3, 0.5})
                for (bool array : {false, true}) {
                    if (w.lo < 0 && p != 0.3) continue;  // bf16 and a negative value: one probability is enough
                    QTest::newRow(qPrintable(QString("%1 p=%2 %3").arg(w.name).arg(p).arg(array ? "array" : "scalar")))
                        << QString(w.format) << w.lo << w.step << p << array;
                }
    }
    void stochasticProbability() {
        QFETCH(QString, format);
        QFETCH(double, lo);
        QFETCH(double, step);
        QFETCH(double, p);
        QFETCH(bool, arrayPath);
        const Format f = parseFormat(format.toStdString());
        const double x = lo + p * step, hi = lo + step;
        const double exactP = (x - lo) / step;  // x - lo is exact (Sterbenz), the division by 2^k too
        // Enough draws that 5 sigma is small against p: 64 expected ups at p = 2^-20, and 5 sigma about
        // 5.6e-4 at p = 0.3 and 0.5 (a bias of 2^-10 in the probability is caught).
        const std::uint64_t draws = (p < 0.01 ? std::uint64_t{1} << 26 : std::uint64_t{1} << 24) >> kDrawShift;
        const std::uint64_t ups = countUps(x, hi, f, arrayPath, draws, 20261204);
        const double mean = static_cast<double>(draws) * exactP;
        const double sigma = std::sqrt(static_cast<double>(draws) * exactP * (1 - exactP));
        const double deviation = (static_cast<double>(ups) - mean) / sigma;
        QVERIFY2(std::fabs(deviation) <= 5,
                 qPrintable(QString("%1 ups in %2 draws, expected %3 (p = %4): %5 sigma")
                                .arg(ups)
                                .arg(draws)
                                .arg(mean)
                                .arg(exactP, 0, 'g', 17)
                                .arg(deviation)));
    }

    /// roundTo element by element at sites (key, i, 0) and roundArray with the key (double and float arrays)
    /// agree, and so do EmulatedArithmetic::store at those sites and storeTensor; another seed differs.
    void stochasticPathsDrawTheSameBits() {
        std::mt19937_64 values(5);
        std::vector<double> in(10000);
        for (std::size_t i = 0; i < in.size(); ++i) {
            const double scale = std::ldexp(1.0, static_cast<int>(values() % 40) - 30);  // subnormal gap included
            in[i] = (values() & 1 ? -1 : 1) * scale * (1 + static_cast<double>(values() >> 11) * 0x1p-53);
        }
        for (const Format& f : {Format::fp16(), Format::bf16(), Format::e4m3()}) {
            const RandomKey key = randomKey(77, randomTensor(RandomTensor::Input));
            std::vector<double> scalar(in.size()), array(in.size());
            RandomSite site{key, 0, 0};
            for (std::size_t i = 0; i < in.size(); ++i) {
                site.element = static_cast<std::uint32_t>(i);
                scalar[i] = roundTo(in[i], f, Rounding::Stochastic, &site);
            }
            roundArray(std::span<const double>(in), std::span<double>(array), f, Rounding::Stochastic, &key);
            QCOMPARE(ks::test::firstBitDifference(std::span<const double>(scalar), std::span<const double>(array)),
                     std::ptrdiff_t{-1});
            // The float32 array path too (its values rounded to float first, so compared with roundTo of those).
            std::vector<float> narrow(in.begin(), in.end()), narrowOut(in.size());
            roundArray(std::span<const float>(narrow), std::span<float>(narrowOut), f, Rounding::Stochastic, &key);
            for (std::size_t i = 0; i < in.size(); ++i) {
                site.element = static_cast<std::uint32_t>(i);
                KS_COMPARE_EXACT(static_cast<double>(narrowOut[i]), roundTo(static_cast<double>(narrow[i]), f, Rounding::Stochastic, &site));
            }
            ComputeSpec spec = ComputeSpec::uniform(f, Rounding::Stochastic);
            spec.seed = 77;
            EmulatedArithmetic one(spec), whole(spec);
            std::vector<double> stored(in.size()), tensor = in;
            for (std::size_t i = 0; i < in.size(); ++i) {
                one.at(randomTensor(RandomTensor::Input), i);
                stored[i] = one.store(in[i]);
            }
            whole.storeTensor(tensor, randomTensor(RandomTensor::Input));
            QCOMPARE(ks::test::firstBitDifference(std::span<const double>(stored), std::span<const double>(tensor)),
                     std::ptrdiff_t{-1});
            QCOMPARE(ks::test::firstBitDifference(std::span<const double>(stored), std::span<const double>(scalar)),
                     std::ptrdiff_t{-1});
            const RandomKey other = randomKey(78, randomTensor(RandomTensor::Input));
            roundArray(std::span<const double>(in), std::span<double>(array), f, Rounding::Stochastic, &other);
            QVERIFY(ks::test::firstBitDifference(std::span<const double>(scalar), std::span<const double>(array)) >= 0);
        }
    }

    /// The references on hand-picked values, so that a broken reference cannot agree with a broken
    /// emulation by accident.
    void referencesAreNotVacuous() {
        const auto N = Rounding::NearestEven, U = Rounding::Up, D = Rounding::Down, Z = Rounding::TowardZero;
        // libgcc's binary128 -> fp16 in each mode: a tie plus 2^-100 (beyond double and float), a tie.
        const __float128 tieAbove = static_cast<__float128>(1 + 0x1p-11) + static_cast<__float128>(0x1p-100);
        const __float128 tie = 1 + 0x1p-11;
        const struct {
            __float128 x;
            Rounding r;
            double expected;
        } quadCases[] = {
            {tieAbove, N, 1 + 0x1p-10}, {tie, N, 1.0},           {tie + 0x1p-10, N, 1 + 0x1p-9},
            {-tieAbove, N, -(1 + 0x1p-10)}, {tie, U, 1 + 0x1p-10}, {tie, D, 1.0},
            {-tie, D, -(1 + 0x1p-10)},  {-tie, Z, -1.0},         {65520, N, INFINITY},
            {65520, Z, 65504},          {-65520, U, -65504},     {static_cast<__float128>(0x1p-25), N, 0.0},
            {static_cast<__float128>(0x1p-25) + static_cast<__float128>(0x1p-90), N, 0x1p-24},
            {static_cast<__float128>(0x1p-90), U, 0x1p-24},     {-static_cast<__float128>(0x1p-90), U, -0.0},
        };
        for (const auto& c : quadCases) {
            double got;
            {
                const ScopedRoundingMode mode(c.r);
                got = static_cast<double>(static_cast<_Float16>(c.x));
            }
            KS_COMPARE_EXACT(got, c.expected);
        }
        // libgcc's double -> fp16: directly, not through float32.
        {
            const ScopedRoundingMode mode(N);
            KS_COMPARE_EXACT(static_cast<double>(static_cast<_Float16>(1 + 0x1p-11 + 0x1p-40)), 1 + 0x1p-10);
        }
        {
            const ScopedRoundingMode mode(U);
            KS_COMPARE_EXACT(static_cast<double>(static_cast<_Float16>(1 + 0x1p-40)), 1 + 0x1p-10);
        }
        // bf16 rules on bit patterns: ties to even both ways, just above a tie, overflow, NaN.
        QCOMPARE(bf16FromFloatBits(1.0f + 0x1p-8f, N), std::uint16_t{0x3f80});
        QCOMPARE(bf16FromFloatBits(1.0f + 0x3p-8f, N), std::uint16_t{0x3f82});
        QCOMPARE(bf16FromFloatBits(1.0f + 0x1p-8f + 0x1p-23f, N), std::uint16_t{0x3f81});
        QCOMPARE(bf16FromFloatBits(0x1.fffffep127f, N), std::uint16_t{0x7f80});
        QCOMPARE(bf16FromFloatBits(0x1.fffffep127f, Z), std::uint16_t{0x7f7f});
        QCOMPARE(bf16FromFloatBits(-(1.0f + 0x1p-23f), D), std::uint16_t{0xbf81});
        QCOMPARE(bf16FromFloatBits(-(1.0f + 0x1p-23f), U), std::uint16_t{0xbf80});
        QCOMPARE(bf16FromFloatBits(std::bit_cast<float>(0x7f800001u), N) & 0x7fc0, 0x7fc0);  // not infinity
        if (haveAvx512Bf16()) {
            alignas(64) float b[16] = {1.0f + 0x1p-8f, 1.0f + 0x3p-8f, 1.0f + 0x1p-8f + 0x1p-23f, -2.5f};
            std::uint16_t out[16];
            bf16FromFloatAvx512(b, out, 16);
            QCOMPARE(out[0], std::uint16_t{0x3f80});
            QCOMPARE(out[1], std::uint16_t{0x3f82});
            QCOMPARE(out[2], std::uint16_t{0x3f81});
            QCOMPARE(out[3], std::uint16_t{0xc020});
        }
        if (!haveF16c()) QSKIP("no F16C: the vcvtps2ph and float32 references are not checked");
        // F16C with each immediate; float32 operations in each direction, by both routes.
        alignas(32) float in[16] = {1 + 0x1p-11f, -(1 + 0x1p-11f), 1 + 0x1p-20f, -(1 + 0x1p-20f), 65520.0f, 0x1p-26f,
                                    -0x1p-26f,    0x3p-25f,        0,           -0.0f,            0,        0,
                                    0,            0,               0,           0};
        alignas(32) std::uint16_t h[16];
        const std::uint16_t expectedHalf[4][8] = {
            {0x3c00, 0xbc00, 0x3c00, 0xbc00, 0x7c00, 0x0000, 0x8000, 0x0002},  // nearest
            {0x3c00, 0xbc01, 0x3c00, 0xbc01, 0x7bff, 0x0000, 0x8001, 0x0001},  // down
            {0x3c01, 0xbc00, 0x3c01, 0xbc00, 0x7c00, 0x0001, 0x8000, 0x0002},  // up
            {0x3c00, 0xbc00, 0x3c00, 0xbc00, 0x7bff, 0x0000, 0x8000, 0x0001},  // toward zero
        };
        const Rounding byControl[4] = {N, D, U, Z};
        for (int m = 0; m < 4; ++m) {
            halfFromFloatF16c(byControl[m], in, h, 16);
            for (int i = 0; i < 8; ++i) QCOMPARE(h[i], expectedHalf[m][i]);
        }
        alignas(64) float one[16], third[16], sum[16];
        for (int i = 0; i < 16; ++i) {
            one[i] = i & 1 ? -1.0f : 1.0f;
            third[i] = 3.0f;
        }
        for (Rounding r : byControl) {
            // 1/3 = 0x1.555554p-2 + (2/3) 2^-25: nearest and up give 0x1.555556p-2, down and toward zero
            // 0x1.555554p-2.
            const float lowThird = 0x1.555554p-2f, highThird = 0x1.555556p-2f;
            const float expectedPositive = r == U || r == N ? highThird : lowThird;
            const float expectedNegative = r == D || r == N ? -highThird : -lowThird;
            floatOpMxcsr(r, Op::Div, one, third, sum, 16);
            KS_COMPARE_EXACT(sum[0], expectedPositive);
            KS_COMPARE_EXACT(sum[1], expectedNegative);
            if (haveAvx512()) {
                floatOpEmbedded(r, Op::Div, one, third, sum, 16);
                KS_COMPARE_EXACT(sum[0], expectedPositive);
                KS_COMPARE_EXACT(sum[1], expectedNegative);
            }
            floatOpMxcsr(r, Op::Sub, one, one, sum, 16);  // x - x: -0 when rounding down only
            KS_COMPARE_EXACT(sum[0], r == D ? -0.0f : 0.0f);
        }
    }

private:
    /// One operation in one mode over random operand pairs: every reference route available on this CPU.
    void checkOperation(const Codec& codec, Op op, Rounding rounding) {
        const bool isHalf = codec.format == Format::fp16();
        if (!haveAvx()) QSKIP("this CPU has no AVX: the float32 reference (vaddps ... under MXCSR) is unavailable");
        if (isHalf && !haveF16c()) QSKIP("this CPU has no F16C: the hardware fp16 reference is unavailable");
        const Operands ops = randomOperands(codec, kOperations, 1000 + int(op));
        std::vector<float> a(kOperations), b(kOperations), viaMxcsr(kOperations), viaEmbedded(kOperations);
        for (std::size_t i = 0; i < kOperations; ++i) {
            a[i] = static_cast<float>(codec.decode(ops.a[i]));
            b[i] = static_cast<float>(codec.decode(ops.b[i]));
        }
        floatOpMxcsr(rounding, op, a.data(), b.data(), viaMxcsr.data(), kOperations);
        if (haveAvx512()) floatOpEmbedded(rounding, op, a.data(), b.data(), viaEmbedded.data(), kOperations);
        std::vector<std::uint16_t> mxcsrCodes(kOperations), embeddedCodes(kOperations), bf16Hardware(kOperations);
        if (isHalf) {
            halfFromFloatF16c(rounding, viaMxcsr.data(), mxcsrCodes.data(), kOperations);
            if (haveAvx512()) halfFromFloatF16c(rounding, viaEmbedded.data(), embeddedCodes.data(), kOperations);
        } else {
            for (std::size_t i = 0; i < kOperations; ++i) {
                mxcsrCodes[i] = bf16FromFloatBits(viaMxcsr[i], rounding);
                if (haveAvx512()) embeddedCodes[i] = bf16FromFloatBits(viaEmbedded[i], rounding);
            }
            if (rounding == Rounding::NearestEven && haveAvx512Bf16())
                bf16FromFloatAvx512(viaMxcsr.data(), bf16Hardware.data(), kOperations);
        }

        EmulatedArithmetic arith(ComputeSpec::uniform(codec.format, rounding));
        Mismatches float16Bad, mxcsrBad, embeddedBad, bf16HardwareBad;
        Coverage coverage{minNormal(codec.format), maxFinite(codec.format)};
        std::uint64_t throughBf16Hardware = 0;
        for (std::size_t i = 0; i < kOperations; ++i) {
            const double x = codec.decode(ops.a[i]), y = codec.decode(ops.b[i]);
            const double got = emulate(arith, op, x, y);
            const double expected = codec.decode(mxcsrCodes[i]);
            coverage.count(expected, x, y);
            mxcsrBad.check(sameResult(got, expected), [&] { return describeCase(opName(op), x, y, got, expected); });
            if (haveAvx512()) {
                const double e = codec.decode(embeddedCodes[i]);
                embeddedBad.check(sameResult(got, e), [&] { return describeCase(opName(op), x, y, got, e); });
            }
            if (isHalf && rounding == Rounding::NearestEven) {
                const _Float16 r = float16Op(op, std::bit_cast<_Float16>(ops.a[i]), std::bit_cast<_Float16>(ops.b[i]));
                const double e = static_cast<double>(r);
                float16Bad.check(sameResult(got, e), [&] { return describeCase(opName(op), x, y, got, e); });
            }
            // vcvtneps2bf16 treats float32 subnormals as zero: only normal, zero, infinite and NaN results.
            if (!isHalf && rounding == Rounding::NearestEven && haveAvx512Bf16() &&
                std::fpclassify(viaMxcsr[i]) != FP_SUBNORMAL) {
                ++throughBf16Hardware;
                const double e = bf16ToDouble(bf16Hardware[i]);
                bf16HardwareBad.check(sameResult(got, e), [&] { return describeCase(opName(op), x, y, got, e); });
            }
        }
        qInfo("%s %s %s: %s", codec.name, opName(op), roundingName(rounding).c_str(), qPrintable(coverage.text()));
        const auto report = [](const char* route, const Mismatches& m) {
            return QString("%1: %2 mismatches; first: %3").arg(route).arg(m.count).arg(m.first);
        };
        QVERIFY2(mxcsrBad.count == 0, qPrintable(report("float32 (MXCSR) then vcvtps2ph / bf16 rule", mxcsrBad)));
        QVERIFY2(embeddedBad.count == 0, qPrintable(report("float32 (embedded rounding) then vcvtps2ph / bf16 rule",
                                                           embeddedBad)));
        QVERIFY2(float16Bad.count == 0, qPrintable(report("_Float16 arithmetic", float16Bad)));
        QVERIFY2(bf16HardwareBad.count == 0, qPrintable(report("vcvtneps2bf16", bf16HardwareBad)));
        if (!isHalf && rounding == Rounding::NearestEven && haveAvx512Bf16()) QVERIFY(throughBf16Hardware > 0);
        // The operands reach what they are meant to (subnormal sums need cancellation, NaN needs specials).
        QVERIFY2(coverage.subnormal > 0 && coverage.nan > 0, qPrintable(coverage.text()));
        if (op != Op::Add && op != Op::Sub) QVERIFY2(coverage.overflow > 0, qPrintable(coverage.text()));
        if (op == Op::Sub && rounding == Rounding::Down)
            QVERIFY2(coverage.negativeZero > 0, qPrintable(coverage.text()));
    }
};

QTEST_APPLESS_MAIN(tst_HardwareArithmetic)
#include "tst_hardware_arithmetic.moc"
