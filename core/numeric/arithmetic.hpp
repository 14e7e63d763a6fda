#pragma once
// Arithmetic as a template parameter: algorithms are written once, generic over one of these.
//   value_type               the type values are kept in between operations
//   store(x)                 round a stored operand (input, transformed tile) to the storage format
//   mul(a, b)                one rounding, to the product format
//   add(a, b), sub(a, b)     one rounding each, to the accumulation format
//   fma(a, b, c)             a*b + c with a single rounding to the accumulation format
//   div(a, b)                one rounding, to the accumulation format
//   at(tensor, element, step) where the next operations happen (stochastic rounding's random bits are a
//                            function of it, numeric/random_bits.hpp); each operation takes the next step.
//                            A no-op for every arithmetic but a stochastic EmulatedArithmetic.
//
// Emulation semantic: every operation is rounded ONCE from its exact result. The exact result is
// never formed; the double result r = RN(exact) and its exact error term are (TwoSum, TwoProd with
// an FMA, the FMA remainder for division, Boldo & Muller's ErrFma for fma), and r is turned into
// round-to-odd before the final rounding (Rounder::roundExact). That is exactly the correctly
// rounded result for every target of precision p <= 51 bits, and for p = 53 (fp64 itself).
// The one format in between, p = 52 (e?m51), sees double rounding. Without the round-to-odd step,
// rounding the double result again would be harmless only for +, -, *, / with operands already in
// the target format and 53 >= 2p + 2, i.e. p <= 25 (fp32 and below), and never guaranteed for fma;
// mixed specs (fp32 operands summed into fp16) break that condition, hence the error terms.
// Error terms are exact as long as nothing underflows below 2^-969 (far outside fp32's range).
#include <cmath>
#include <concepts>
#include <cstdint>
#include <span>
#include <stdexcept>

#include "numeric/compute_spec.hpp"
#include "numeric/random_bits.hpp"
#include "numeric/round.hpp"

namespace ks::numeric {

/// The contract every algorithm's arithmetic parameter meets (the list at the top of this file).
/// Operations are non-const: a stochastic emulated arithmetic moves along its random sites.
template <class A>
concept Arithmetic = requires(A& arithmetic, typename A::value_type x) {
    typename A::value_type;
    requires std::floating_point<typename A::value_type>;
    { A::emulated } -> std::convertible_to<bool>;
    { arithmetic.store(x) } -> std::same_as<typename A::value_type>;
    { arithmetic.mul(x, x) } -> std::same_as<typename A::value_type>;
    { arithmetic.add(x, x) } -> std::same_as<typename A::value_type>;
    { arithmetic.sub(x, x) } -> std::same_as<typename A::value_type>;
    { arithmetic.fma(x, x, x) } -> std::same_as<typename A::value_type>;
    { arithmetic.div(x, x) } -> std::same_as<typename A::value_type>;
    arithmetic.at(std::uint32_t{0}, std::uint64_t{0}, std::uint32_t{0});
};

/// True when an arithmetic's operations change no state of it (no random site): its copies compute
/// alike, so a kernel may give each thread one. Native arithmetic and FastEmulatedArithmetic are;
/// EmulatedArithmetic moves along its random sites and runs on one thread.
template <class A>
inline constexpr bool kThreadSplittable = !A::emulated;

template <class T>
struct NativeArithmetic {
    using value_type = T;
    static constexpr bool emulated = false;
    T store(T x) const { return x; }
    T mul(T a, T b) const { return a * b; }
    T add(T a, T b) const { return a + b; }
    T sub(T a, T b) const { return a - b; }
    T fma(T a, T b, T c) const { return std::fma(a, b, c); }
    T div(T a, T b) const { return a / b; }
    void at(std::uint32_t, std::uint64_t, std::uint32_t = 0) const {}
};

/// Error-free transformations: the double result and the (sign-exact) remainder exact - result.
struct ExactResult {
    double value;
    double error;
};

inline ExactResult exactAdd(double a, double b) {
    const double s = a + b;
    const double bv = s - a;
    const double e = (a - (s - bv)) + (b - bv);  // Knuth's TwoSum
    return {s, std::isfinite(s) ? e : 0.0};
}

inline ExactResult exactMul(double a, double b) {
    const double p = a * b;
    return {p, std::isfinite(p) ? std::fma(a, b, -p) : 0.0};
}

inline ExactResult exactDiv(double a, double b) {
    const double q = a / b;
    if (!std::isfinite(q) || b == 0) return {q, 0.0};
    const double r = std::fma(-q, b, a);  // a - q*b, exact
    return {q, r / b};                    // the sign is exact, the magnitude near enough
}

inline ExactResult exactFma(double a, double b, double c) {
    // Boldo & Muller, "Exact and approximated error of the FMA", IEEE TC 2011: a*b + c = r1 + r2 + r3.
    const double r1 = std::fma(a, b, c);
    if (!std::isfinite(r1)) return {r1, 0.0};
    const double u1 = a * b;
    const double u2 = std::fma(a, b, -u1);
    const ExactResult alpha = exactAdd(c, u2);
    const ExactResult beta = exactAdd(u1, alpha.value);
    const double gamma = (beta.value - r1) + beta.error;
    return {r1, gamma + alpha.error};  // r2 = RN(gamma + alpha2): the sign of the remainder
}

/// Which engine emulates a compute spec. Both give the same bits: the reference is EmulatedArithmetic,
/// the fast engine FastEmulatedArithmetic (fast_arithmetic.hpp) and the kernels vectorised over it,
/// where they cover the spec (the reference runs otherwise).
enum class EmulationEngine : std::uint8_t { Fast, Reference };

/// Values kept in double, every result rounded as the compute specification says.
/// Stochastic rounding draws each operation's bits at its random site: the algorithm says where it is
/// (at(): the tensor, the element and the step of the chain forming it), every operation takes the next
/// step. So the bits do not depend on the order the loops run in; an algorithm that never calls at()
/// draws along one sequential stream (RandomTensor::Sequential) and must then run in a fixed order.
/// A per-tensor integer storage format (int8 without a scale) cannot round a lone value: use
/// storeTensor on whole operands; store() then throws. Integer formats without a scale are refused
/// for products and accumulation (std::invalid_argument at construction).
class EmulatedArithmetic {
public:
    using value_type = double;
    static constexpr bool emulated = true;

    /// `engine`: what an algorithm handed this arithmetic may run on instead (numeric::withEmulation);
    /// this object's own operations are always the reference's.
    explicit EmulatedArithmetic(const ComputeSpec& spec, EmulationEngine engine = EmulationEngine::Fast)
        : spec_(elementwiseOnly(spec)),
          engine_(engine),
          stochastic_(spec.rounding == Rounding::Stochastic),
          storage_(spec.storage, spec.rounding),
          product_(checkedStage(spec.product, "product"), spec.rounding),
          accumulate_(checkedStage(spec.accumulate, "accumulation"), spec.rounding) {}

    const ComputeSpec& spec() const { return spec_; }
    EmulationEngine engine() const { return engine_; }
    double store(double x) { return storage_(x, next()); }
    /// Round a whole operand to the storage format (per-tensor scale for scaled integers): element i at
    /// site (tensor, firstElement + i, step 0).
    void storeTensor(std::span<double> values, std::uint32_t tensor, std::uint64_t firstElement = 0) {
        if (!stochastic_) {
            roundInPlace(values, spec_.storage, spec_.rounding);
            return;
        }
        Format format = spec_.storage;
        if (format.kind == FormatKind::ScaledInt && !(format.scale > 0))
            format = format.withScale(scaledIntScale(std::span<const double>(values), format.intBits));
        const Rounder rounder(format, spec_.rounding);
        for (std::size_t i = 0; i < values.size(); ++i) {
            at(tensor, firstElement + i);
            values[i] = rounder(values[i], next());
        }
    }
    void at(std::uint32_t tensor, std::uint64_t element, std::uint32_t step = 0) {
        if (!stochastic_) return;
        tensor += tensorBase_;
        if (tensor != keyedTensor_) {
            site_.key = randomKey(spec_.seed, tensor);
            keyedTensor_ = tensor;
        }
        site_.element = static_cast<std::uint32_t>(element);
        site_.step = step;
    }
    /// The tensors at() names are numbered from here (a network's layer gives its own, randomTensor()).
    void setTensorBase(std::uint32_t base) { tensorBase_ = base; }
    std::uint32_t tensorBase() const { return tensorBase_; }
    double mul(double a, double b) { return finish(product_, exactMul(a, b)); }
    double add(double a, double b) { return finishSum(exactAdd(a, b), a, b); }
    double sub(double a, double b) { return finishSum(exactAdd(a, -b), a, -b); }
    double fma(double a, double b, double c) { return finishSum(exactFma(a, b, c), a * b, c); }
    double div(double a, double b) { return finish(accumulate_, exactDiv(a, b)); }

private:
    static const ComputeSpec& elementwiseOnly(const ComputeSpec& spec) {
        if (spec.scaledStorage)
            throw std::invalid_argument("compute spec " + computeSpecName(spec) + ": " + kScaledStorageNotApplied);
        return spec;
    }
    static const Format& checkedStage(const Format& f, const char* stage) {
        if (f.kind == FormatKind::ScaledInt && !(f.scale > 0))
            throw std::invalid_argument(std::string("compute spec: ") + formatName(f) + " cannot be the " + stage +
                                        " format (a per-tensor scale needs the whole tensor); use a float, "
                                        "fixedW.F, or a scaled integer with a fixed scale such as " +
                                        formatName(f) + "@0.01");
        return f;
    }
    /// IEEE 754 (6.3): an exact zero sum of x + y is +0 in every mode but rounding down, where it is -0
    /// unless both are +0. The hardware formed it in nearest: negating the mirrored sum gives that sign
    /// (still through the format: fixed point has no -0).
    double finishSum(ExactResult sum, double x, double y) {
        if (sum.value == 0 && sum.error == 0 && spec_.rounding == Rounding::Down) sum.value = -(-x + -y);
        return finish(accumulate_, sum);
    }
    double finish(const Rounder& r, ExactResult x) {
        const RandomSite* site = next();
        if (r.identity() && r.rounding() == Rounding::NearestEven) return x.value;
        return r.roundExact(x.value, x.error, site);
    }
    /// This operation's site (the current one), the step moved on for the next; none unless stochastic.
    const RandomSite* next() {
        if (!stochastic_) return nullptr;
        current_ = site_;
        ++site_.step;
        return &current_;
    }

    ComputeSpec spec_;
    EmulationEngine engine_;
    bool stochastic_;
    std::uint32_t tensorBase_ = 0;
    std::uint32_t keyedTensor_ = 0;
    RandomSite site_{randomKey(spec_.seed, 0), 0, 0}, current_;
    Rounder storage_, product_, accumulate_;
};

static_assert(Arithmetic<NativeArithmetic<float>> && Arithmetic<NativeArithmetic<double>> &&
              Arithmetic<EmulatedArithmetic>);

}  // namespace ks::numeric
