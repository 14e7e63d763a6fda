#include "numeric/modelled_dot.hpp"

#include <algorithm>
#include <bit>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "numeric/arithmetic.hpp"
#include "numeric/summation.hpp"

namespace ks::numeric {

namespace {

// Eight lanes as GCC vector types: the compiler emits the widest instructions the build targets (two or four
// registers on narrower ones); every operation is an exact IEEE or integer one, so the bits do not depend on which.
using Doubles = double __attribute__((vector_size(64)));
using Int64s = std::int64_t __attribute__((vector_size(64)));
using UInt64s = std::uint64_t __attribute__((vector_size(64)));
static_assert(ModelledDot::kLanes == 8);

Doubles loadLanes(const double* p) {
    Doubles v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

ComputeSpec withPlainAccumulation(const ComputeSpec& spec) {
    ComputeSpec s = spec;
    s.accumulation = {};
    return s;
}

int significantBits(const Format& f) {
    switch (f.kind) {
        case FormatKind::Float: return f.mantissaBits + 1;
        case FormatKind::Fixed: return f.wordBits;
        case FormatKind::ScaledInt: return f.intBits;
        case FormatKind::Log: return 64;  // not a short significand
    }
    return 64;
}

}  // namespace

std::optional<std::string> accumulatorRefusal(const ComputeSpec& spec) {
    const AccumulatorModel& m = spec.accumulation;
    if (m.plain()) return std::nullopt;
    const std::string name = accumulatorModelName(m);
    if (spec.native) return "an accumulator model (" + name + ") needs an emulated specification";
    if (spec.rounding == Rounding::Stochastic)
        return "stochastic rounding under an accumulator model (" + name + ") is not keyed to sites yet";
    if (spec.accumulate.kind != FormatKind::Float)
        return "an accumulator model (" + name + ") sums in a float format, not " + formatName(spec.accumulate);
    if (m.order == SummationOrder::TensorCore) {
        // Products must be exact, as the tensor cores form them: in double, of two stored values of ≤ 26 bits.
        if (!(spec.product == Format::fp64()))
            return "the tensor-core model takes exact products: give fp64 as the product format (e.g. " +
                   formatName(spec.storage) + "/fp64/" + formatName(spec.accumulate) + ":acc=" + name + ")";
        if (significantBits(spec.storage) > 26)
            return "the tensor-core model's products are exact in double only for stored values of at most 26 bits, not " +
                   formatName(spec.storage);
    }
    return std::nullopt;
}

ModelledDot::ModelledDot(const ComputeSpec& spec)
    : spec_(withPlainAccumulation(spec)),
      model_(spec.accumulation),
      product_(spec.product, spec.rounding),
      accumulate_(spec.accumulate, spec.rounding),
      truncate_(spec.accumulate, Rounding::TowardZero),
      float32_(Format::fp32(), Rounding::NearestEven) {
    if (auto reason = accumulatorRefusal(spec)) throw std::invalid_argument("compute spec " + computeSpecName(spec) + ": " + *reason);
    if (spec.scaledStorage) throw std::invalid_argument("compute spec " + computeSpecName(spec) + ": " + kScaledStorageNotApplied);
    if (spec.accumulate.kind == FormatKind::Float && spec.accumulate.mantissaBits <= 52) {
        truncateMask_ = ~((std::uint64_t(1) << (52 - spec.accumulate.mantissaBits)) - 1);
        truncateLow_ = minNormal(spec.accumulate);
        truncateHigh_ = maxFinite(spec.accumulate);
    }
}

double ModelledDot::tensorCoreStep(double c, std::span<const double> products, int alignedBits, const Rounder& normalise) {
    // Non-finite terms leave the fixed-point adder's model: their IEEE sum.
    double ieee = c;
    bool finite = std::isfinite(c);
    for (double p : products) {
        ieee += p;
        finite = finite && std::isfinite(p);
    }
    if (!finite) return ieee;
    // The largest exponent among the nonzero terms.
    int emax = INT32_MIN;
    auto consider = [&](double t) {
        if (t != 0) emax = std::max(emax, std::ilogb(t));
    };
    consider(c);
    for (double p : products) consider(p);
    if (emax == INT32_MIN) return ieee;  // all zero: the IEEE sum's sign
    // Each term in units of q = 2^(emax − alignedBits + 1), truncated toward zero: |k| < 2^alignedBits ≤ 2^53, exact.
    const int unit = emax - alignedBits + 1;
    std::int64_t k = 0;
    auto add = [&](double t) { k += static_cast<std::int64_t>(std::trunc(std::ldexp(t, -unit))); };
    add(c);
    for (double p : products) add(p);
    if (k == 0) return 0.0;
    // Normalise toward zero: first to 53 bits (so that the double below is exact), then into the format.
    std::uint64_t magnitude = static_cast<std::uint64_t>(std::llabs(k));
    const int width = 64 - std::countl_zero(magnitude);
    if (width > 53) magnitude = (magnitude >> (width - 53)) << (width - 53);
    const double sum = std::ldexp(static_cast<double>(magnitude), unit) * (k < 0 ? -1.0 : 1.0);
    return normalise(sum);
}

double ModelledDot::reduce(double initial, std::span<double> products) const {
    if (model_.order == SummationOrder::TensorCore) {
        double c = initial;
        for (std::size_t start = 0; start < products.size(); start += std::size_t(model_.groupSize))
            c = tensorCoreStep(c, products.subspan(start, std::min(products.size() - start, std::size_t(model_.groupSize))),
                               model_.alignedBits, truncate_);
        return c;
    }
    // The other orders over the terms initial, p_1, …, p_K in the accumulation format.
    thread_local std::vector<double> terms;
    terms.assign(1, initial);
    terms.insert(terms.end(), products.begin(), products.end());
    EmulatedArithmetic arith(spec_);
    return sum(arith, std::span<const double>(terms), SummationModel{model_.order, model_.blockSize});
}

double ModelledDot::operator()(double initial, const double* a, std::ptrdiff_t strideA, const double* b,
                               std::ptrdiff_t strideB, std::int64_t count) const {
    thread_local std::vector<double> products;
    products.resize(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) {
        const ExactResult p = exactMul(a[i * strideA], b[i * strideB]);
        products[std::size_t(i)] = product_.identity() ? p.value : product_.roundExact(p.value, p.error);
    }
    if (model_.promoteEvery <= 0) return reduce(initial, products);
    // Partial sums of promoteEvery products from zero, each added into a float32 register (nearest: double's 53 bits
    // ≥ 2·24 + 2 make the double sum's second rounding innocuous).
    double registerValue = float32_(initial);
    const std::size_t every = std::size_t(model_.promoteEvery);
    for (std::size_t start = 0; start < products.size(); start += every) {
        const auto chunk = std::span<double>(products).subspan(start, std::min(products.size() - start, every));
        registerValue = float32_(registerValue + reduce(0.0, chunk));
    }
    return registerValue;
}

void ModelledDot::vectorStep(double* c, const double* products, int n, int lanes, int bits, std::vector<double>& terms) const {
    const Doubles zero = {}, running = loadLanes(c);
    const UInt64s magnitudeBits = ~UInt64s{} >> 1;
    // The largest magnitude (its exponent is the group's: ilogb is monotonic in |t|) and a probe that a non-finite
    // term makes NaN (∞ · 0 and NaN · 0 are NaN; finite · 0 is ±0).
    Doubles largest = (Doubles)((UInt64s)running & magnitudeBits), probe = running * 0.0;
    for (int i = 0; i < n; ++i) {
        const Doubles p = loadLanes(products + i * kLanes);
        const Doubles m = (Doubles)((UInt64s)p & magnitudeBits);
        largest = m > largest ? m : largest;
        probe += p * 0.0;
    }
    const Int64s field = (Int64s)(((UInt64s)largest >> 52) & 0x7ff);
    const Int64s unit = field - (1023 + bits - 1);
    // The scalar step: non-finite terms, all zeros (the IEEE sum's sign), a subnormal largest term, units below
    // double's normal range.
    const Int64s scalar = (probe != probe) | (field == 0) | (unit < -1022);
    const Doubles scale = scalar ? zero : (Doubles)((UInt64s)(1023 - unit) << 52);
    const Doubles back = scalar ? zero : (Doubles)((UInt64s)(unit + 1023) << 52);
    // Terms in units of 2^unit truncated toward zero (exact integers below 2^bits), summed exactly; a scalar lane's
    // terms are zero before the conversion. The sum fits 53 bits (vectorSteps), so it converts back exactly.
    Int64s k = __builtin_convertvector(scalar ? zero : running * scale, Int64s);
    for (int i = 0; i < n; ++i) k += __builtin_convertvector(scalar ? zero : loadLanes(products + i * kLanes) * scale, Int64s);
    const Doubles sum = __builtin_convertvector(k, Doubles) * back;
    const Doubles magnitude = (Doubles)((UInt64s)sum & magnitudeBits);
    // Toward zero into the accumulation format: a mask within its normal range; the Rounder outside it.
    const Int64s masked = (magnitude >= truncateLow_) & (magnitude <= truncateHigh_);
    const Doubles result = k == 0 ? zero : (Doubles)((UInt64s)sum & truncateMask_);
    const Int64s lane = {0, 1, 2, 3, 4, 5, 6, 7};
    const Int64s elsewhere = (scalar | ((k != 0) & ~masked)) & (lane < lanes);
    bool any = false;
    for (int l = 0; l < kLanes; ++l) any |= elsewhere[l] != 0;
    if (!any) {  // the usual group: every lane's result is the vector's
        std::memcpy(c, &result, sizeof(double) * std::size_t(lanes));
        return;
    }
    for (int l = 0; l < lanes; ++l) {
        if (scalar[l]) {
            terms.resize(std::size_t(n));
            for (int i = 0; i < n; ++i) terms[std::size_t(i)] = products[i * kLanes + l];
            c[l] = tensorCoreStep(c[l], terms, bits, truncate_);
        } else {
            c[l] = k[l] == 0 || masked[l] ? result[l] : truncate_(sum[l]);
        }
    }
}

void ModelledDot::lanes(const double* initial, const double* a, std::ptrdiff_t laneA, std::ptrdiff_t strideA, const double* b,
                        std::ptrdiff_t laneB, std::ptrdiff_t strideB, std::int64_t count, double* out, int lanes) const {
    if (lanes < 0 || lanes > kLanes) throw std::invalid_argument("ModelledDot::lanes: 0…8 lanes, not " + std::to_string(lanes));
    if (model_.order != SummationOrder::TensorCore) {
        for (int l = 0; l < lanes; ++l) out[l] = (*this)(initial[l], a + l * laneA, strideA, b + l * laneB, strideB, count);
        return;
    }
    constexpr int L = kLanes;
    const int g = model_.groupSize, bits = model_.alignedBits;
    thread_local std::vector<double> products;  // [product of the group][lane]
    products.assign(std::size_t(g) * L, 0.0);
    double c[L], promoted[L];
    for (int l = 0; l < L; ++l) c[l] = promoted[l] = 0.0;
    for (int l = 0; l < lanes; ++l) promoted[l] = float32_(initial[l]), c[l] = initial[l];
    const std::int64_t every = model_.promoteEvery > 0 ? model_.promoteEvery : count;
    thread_local std::vector<double> terms;  // one lane's group, for the scalar step
    // Whole vectors where the group's integer sum fits double's 53 bits: (g + 1) terms below 2^bits each.
    const bool vectorSteps = bits + std::bit_width(unsigned(g + 1)) <= 53;
    for (std::int64_t chunk = 0; chunk < count; chunk += every) {
        const std::int64_t chunkEnd = std::min(count, chunk + every);
        if (model_.promoteEvery > 0)
            for (int l = 0; l < L; ++l) c[l] = 0.0;  // each partial sum from zero
        for (std::int64_t start = chunk; start < chunkEnd; start += g) {
            const int n = int(std::min<std::int64_t>(g, chunkEnd - start));
            // Exact products (two stored values of ≤ 26 bits: accumulatorRefusal), lane-major within the group.
            for (int i = 0; i < n; ++i) {
                const double* ai = a + (start + i) * strideA;
                const double* bi = b + (start + i) * strideB;
                double* pi = products.data() + std::size_t(i) * L;
                if (laneA == 0 && laneB == 1) {  // every caller's layout: a shared, b's lanes side by side (one load)
                    for (int l = 0; l < lanes; ++l) pi[l] = ai[0] * bi[l];
                } else {
                    for (int l = 0; l < lanes; ++l) pi[l] = ai[l * laneA] * bi[l * laneB];
                }
            }
            if (vectorSteps) {
                vectorStep(c, products.data(), n, lanes, bits, terms);
                continue;
            }
            // Alignments so wide that the group's sum may pass 53 bits (no preset): the scalar step, lane by lane.
            terms.resize(std::size_t(n));
            for (int l = 0; l < lanes; ++l) {
                for (int i = 0; i < n; ++i) terms[std::size_t(i)] = products[std::size_t(i) * L + l];
                c[l] = tensorCoreStep(c[l], terms, bits, truncate_);
            }
        }
        if (model_.promoteEvery > 0)
            for (int l = 0; l < lanes; ++l) promoted[l] = float32_(promoted[l] + c[l]);
    }
    for (int l = 0; l < lanes; ++l) out[l] = model_.promoteEvery > 0 ? promoted[l] : c[l];
}

}  // namespace ks::numeric
