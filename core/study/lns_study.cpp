#include "study/lns_study.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "base/statistics.hpp"
#include "matmul/lns_binned.hpp"
#include "matmul/lns_sequential.hpp"
#include "matmul/log_code.hpp"

namespace ks::study {

using matmul::BinnedAccumulator;
using matmul::ConvertBack;
using matmul::GaussianLogAdder;
using matmul::GaussianLogPolicy;
using matmul::LnsBinnedOptions;
using matmul::LogCode;
using matmul::LogCodec;

std::string LnsSweep::key() const {
    std::ostringstream out;
    out << "lns|";
    for (int f : fractionBits) out << f << ',';
    out << '|';
    for (int w : accumulatorBits) out << w << ',';
    out << '|' << widthSweepFractionBits << '|' << integerBits << '|' << constantBits << '|' << tableDropBits << '|'
        << m << 'x' << length << 'x' << n << '|' << trials << '|' << distributionName(distribution) << '|' << seed << '|'
        << shard.toString();
    return out.str();
}

std::string LnsSweep::describe() const {
    std::ostringstream out;
    out << "(" << m << "×" << length << ")·(" << length << "×" << n << "), inputs " << distributionName(distribution) << ", "
        << trials << " trial" << (trials == 1 ? "" : "s") << ", seed " << seed << "; LNS with " << integerBits
        << " integer bits; table policy at fraction bits − " << tableDropBits << "; " << constantBits << "-bit constants";
    return out.str();
}

namespace {

/// One trial's operands: rows of A and columns of B, each contiguous (length values).
struct Operands {
    std::vector<double> rows, cols;
};

/// The exact sums of one output, both references.
struct Sums {
    double exact = 0, quantised = 0;
};

/// Errors of one method at one swept value, accumulated over every output of every trial.
struct ErrorTally {
    double errExact2 = 0, refExact2 = 0, errQuant2 = 0, refQuant2 = 0;
    std::vector<double> relExact, relQuant;
    std::int64_t overflows = 0, underflows = 0;

    void add(double value, const Sums& s) {
        const double eExact = value - s.exact, eQuant = value - s.quantised;
        errExact2 += eExact * eExact;
        refExact2 += s.exact * s.exact;
        errQuant2 += eQuant * eQuant;
        refQuant2 += s.quantised * s.quantised;
        if (s.exact != 0) relExact.push_back(std::fabs(eExact / s.exact));
        if (s.quantised != 0) relQuant.push_back(std::fabs(eQuant / s.quantised));
    }
};

double ratio(double num2, double den2) { return den2 > 0 ? std::sqrt(num2 / den2) : std::nan(""); }

/// A way of summing the log-domain products of one dot product.
struct Variant {
    std::string name;
    enum Kind { Quantised, Log, Sequential, Binned } kind;
    GaussianLogPolicy policy = GaussianLogPolicy::Exact;
    int constantBits = 0;
    bool convert = false;
};

std::vector<Variant> binnedVariants(int constantBits) {
    const std::string b = "lns-binned-b" + std::to_string(constantBits);
    return {{"lns-binned-exact", Variant::Binned, {}, 0, false},
            {b, Variant::Binned, {}, constantBits, false},
            {"lns-binned-exact-convert", Variant::Binned, {}, 0, true},
            {b + "-convert", Variant::Binned, {}, constantBits, true}};
}

std::vector<Variant> allVariants(int constantBits) {
    std::vector<Variant> v = {{"quantised", Variant::Quantised},
                              {"log", Variant::Log},
                              {"lns-sequential-exact", Variant::Sequential, GaussianLogPolicy::Exact},
                              {"lns-sequential-table", Variant::Sequential, GaussianLogPolicy::Table},
                              {"lns-sequential-mitchell", Variant::Sequential, GaussianLogPolicy::Mitchell}};
    for (auto& b : binnedVariants(constantBits)) v.push_back(b);
    return v;
}

/// Every method's errors at one LNS format and accumulator range, over all trials and outputs.
struct Evaluation {
    std::vector<ErrorTally> tallies;  // per variant
};

Evaluation evaluate(const LnsSweep& s, const std::vector<Operands>& trials, const std::vector<Variant>& variants,
                    int fractionBits, int accumulatorLsb, int accumulatorBits, int tableDropBits,
                    const Progress& progress) {
    const LogCodec codec(s.integerBits, fractionBits);
    const std::size_t L = std::size_t(s.length);
    Evaluation ev;
    ev.tallies.resize(variants.size());
    std::vector<GaussianLogAdder> adders;
    std::vector<BinnedAccumulator> accumulators;
    std::vector<int> slot(variants.size(), -1);
    for (std::size_t v = 0; v < variants.size(); ++v) {
        if (variants[v].kind == Variant::Sequential) {
            slot[v] = int(adders.size());
            adders.emplace_back(fractionBits, variants[v].policy, std::max(0, fractionBits - tableDropBits));
        } else if (variants[v].kind == Variant::Binned) {
            LnsBinnedOptions o;
            o.accumulatorLsb = accumulatorLsb;
            o.accumulatorBits = accumulatorBits;
            o.constantBits = variants[v].constantBits;
            o.convertBack = variants[v].convert ? ConvertBack::Nearest : ConvertBack::None;
            slot[v] = int(accumulators.size());
            accumulators.emplace_back(fractionBits, o);
        }
    }
    std::vector<LogCode> rowCodes(L * std::size_t(s.m)), colCodes(L * std::size_t(s.n)), products(L);
    std::vector<double> quantisedProducts(L);
    for (const Operands& t : trials) {
        progress.check();
        for (std::size_t i = 0; i < rowCodes.size(); ++i) rowCodes[i] = codec.encode(t.rows[i]);
        for (std::size_t i = 0; i < colCodes.size(); ++i) colCodes[i] = codec.encode(t.cols[i]);
        for (std::int64_t i = 0; i < s.m; ++i)
            for (std::int64_t j = 0; j < s.n; ++j) {
                const double* a = t.rows.data() + std::size_t(i) * L;
                const double* b = t.cols.data() + std::size_t(j) * L;
                const LogCode* ca = rowCodes.data() + std::size_t(i) * L;
                const LogCode* cb = colCodes.data() + std::size_t(j) * L;
                long double exact = 0, quantised = 0;
                for (std::size_t p = 0; p < L; ++p) {
                    exact += static_cast<long double>(a[p]) * b[p];
                    products[p] = matmul::logMultiply(ca[p], cb[p]);
                    quantisedProducts[p] = matmul::decodeLog(products[p], fractionBits);  // exact: 2^(e/n) once
                    quantised += quantisedProducts[p];
                }
                const Sums sums{double(exact), double(quantised)};
                for (std::size_t v = 0; v < variants.size(); ++v) {
                    double value = 0;
                    switch (variants[v].kind) {
                    case Variant::Quantised: value = sums.quantised; break;
                    case Variant::Log: {
                        float acc = 0;  // the assignment's logmatmul: converted back, summed in float32
                        for (double x : quantisedProducts) acc += static_cast<float>(x);
                        value = acc;
                        break;
                    }
                    case Variant::Sequential:
                        value = matmul::decodeLog(
                            matmul::lnsSequentialDot(adders[std::size_t(slot[v])], ca, cb, s.length, 1), fractionBits);
                        break;
                    case Variant::Binned: {
                        BinnedAccumulator& acc = accumulators[std::size_t(slot[v])];
                        acc.reset();
                        for (const LogCode& x : products) acc.add(x);
                        value = acc.sum();
                        if (variants[v].convert)
                            value = codec.decode(codec.clampToRange(acc.convertBack(value, ConvertBack::Nearest)));
                        break;
                    }
                    }
                    ev.tallies[v].add(value, sums);
                }
            }
    }
    for (std::size_t v = 0; v < variants.size(); ++v)
        if (variants[v].kind == Variant::Binned) {
            ev.tallies[v].overflows = accumulators[std::size_t(slot[v])].counts().overflows;
            ev.tallies[v].underflows = accumulators[std::size_t(slot[v])].counts().underflows;
        }
    return ev;
}

Table makeTable() {
    return Table({"fraction_bits", "accumulator_bits", "accumulator_lsb", "constant_bits", "length", "outputs",
                  "rel_error_exact", "rel_error_quantised", "rel_error_exact_median", "rel_error_quantised_median",
                  "accumulator_overflows", "accumulator_underflows"},
                 {"sweep", "method"});
}

void addRows(Table& table, const LnsSweep& s, const std::string& sweep, const std::vector<Variant>& variants,
             const Evaluation& ev, int fractionBits, int lsb, int width) {
    const double outputs = double(s.trials) * double(s.m) * double(s.n);
    for (std::size_t v = 0; v < variants.size(); ++v) {
        const ErrorTally& t = ev.tallies[v];
        const bool binned = variants[v].kind == Variant::Binned;
        const double nan = std::nan("");
        table.addRow({fractionBits, binned ? double(width) : nan, binned ? double(lsb) : nan,
                      binned ? double(variants[v].constantBits) : nan, s.length, outputs,
                      ratio(t.errExact2, t.refExact2), ratio(t.errQuant2, t.refQuant2), median(t.relExact),
                      median(t.relQuant), binned ? double(t.overflows) : nan, binned ? double(t.underflows) : nan,
                      sweep, variants[v].name});
    }
}

void validate(const LnsSweep& s) {
    auto fail = [](const std::string& what) { throw std::invalid_argument("lns study: " + what); };
    if (s.integerBits < 1 || s.integerBits > 16) fail("integer bits must be in 1…16");
    for (int f : s.fractionBits)
        if (f < 0 || f > 16) fail("fraction bits must be in 0…16, got " + std::to_string(f));
    if (s.widthSweepFractionBits < 0 || s.widthSweepFractionBits > 16) fail("width-sweep fraction bits must be in 0…16");
    for (int w : s.accumulatorBits)
        if (w < 2 || w > 62) fail("accumulator widths must be in 2…62 bits, got " + std::to_string(w));
    if (s.constantBits < 1 || s.constantBits > 52) fail("constant bits must be in 1…52");
    if (s.tableDropBits < 0) fail("table drop bits must be ≥ 0");
    if (s.m < 1 || s.n < 1 || s.length < 1) fail("the shape must be positive");
    if (s.trials < 1) fail("trials must be at least 1");
    if (double(s.m) * double(s.n) * double(s.length) * double(s.trials) > 1e9) fail("shape × trials is too large");
}

}  // namespace

LnsResult runLnsSweep(const LnsSweep& s, const Progress& progress) {
    validate(s);
    std::vector<Operands> trials;
    for (int t = 0; t < s.trials; ++t) {
        const std::uint64_t seed = s.seed * 1000003ull + std::uint64_t(t) * 2;
        const TensorD a = makeInput(s.distribution, {s.m, s.length}, seed);
        const TensorD b = makeInput(s.distribution, {s.length, s.n}, seed + 1);
        Operands o;
        o.rows.assign(a.data(), a.data() + a.size());
        o.cols.resize(b.size());
        for (std::int64_t p = 0; p < s.length; ++p)  // B's columns contiguous
            for (std::int64_t j = 0; j < s.n; ++j) o.cols[std::size_t(j * s.length + p)] = b[std::size_t(p * s.n + j)];
        trials.push_back(std::move(o));
    }
    const std::size_t points = s.fractionBits.size() + s.accumulatorBits.size();
    const auto [firstPoint, endPoint] = s.shard.slice(points);
    const double total = double(endPoint - firstPoint);
    double done = 0;
    progress.step(0, total);

    LnsResult result{makeTable(), makeTable()};
    // Wide accumulators for the fraction-bit sweep: LSB at the smallest possible product
    // (2^−2^(I−1) squared), 62 bits: every product lands exactly, nothing overflows.
    const int fullLsb = -2 * (1 << (s.integerBits - 1));
    const std::vector<Variant> variants = allVariants(s.constantBits);
    std::size_t point = 0;
    for (int f : s.fractionBits) {
        if (!s.shard.owns(point++, points)) continue;
        const Evaluation ev = evaluate(s, trials, variants, f, fullLsb, 62, s.tableDropBits, progress);
        addRows(result.byFractionBits, s, "fraction_bits", variants, ev, f, fullLsb, 62);
        progress.step(++done, total);
    }

    // Width sweep: the top bit just above the largest sum of product magnitudes any output has (so no
    // bin can overflow); narrower accumulators raise the LSB and lose the small products.
    const int f = s.widthSweepFractionBits;
    const double largestProduct = std::exp2(2.0 * double(1 << (s.integerBits - 1)));
    double largestSum = 0;
    for (const Operands& t : trials)
        for (std::int64_t i = 0; i < s.m; ++i)
            for (std::int64_t j = 0; j < s.n; ++j) {
                double sum = 0;
                for (std::int64_t p = 0; p < s.length; ++p)
                    sum += std::fabs(t.rows[std::size_t(i * s.length + p)] * t.cols[std::size_t(j * s.length + p)]);
                largestSum = std::max(largestSum, sum);
            }
    // Quantisation can round a product up by 2^(1/2n) at most; a factor 2 covers it.
    const int top = int(std::ceil(std::log2(std::min(largestSum, largestProduct * double(s.length)) * 2.0))) + 1;
    const std::vector<Variant> binned = binnedVariants(s.constantBits);
    for (int width : s.accumulatorBits) {
        if (!s.shard.owns(point++, points)) continue;
        const int lsb = top - width;
        const Evaluation ev = evaluate(s, trials, binned, f, lsb, width, s.tableDropBits, progress);
        addRows(result.byAccumulatorBits, s, "accumulator_bits", binned, ev, f, lsb, width);
        progress.step(++done, total);
    }
    return result;
}

ChartSpec lnsFractionChart(const LnsSweep& s, const std::string& reference) {
    if (reference != "exact" && reference != "quantised")
        throw std::invalid_argument("lns chart: reference must be exact or quantised, got '" + reference + "'");
    ChartSpec spec;
    spec.id = "lns-fraction-bits-" + reference;
    spec.caption = s.describe();
    const std::string what = s.m == 1 && s.n == 1 ? "dot products of length " + std::to_string(s.length)
                                                  : "(" + std::to_string(s.m) + "×" + std::to_string(s.length) + ")·(" +
                                                        std::to_string(s.length) + "×" + std::to_string(s.n) + ")";
    spec.title = "Log accumulation, " + what + ": error against the " +
                 (reference == "exact" ? std::string("exact product") : std::string("exact sum of quantised products"));
    spec.xColumn = "fraction_bits";
    spec.yColumn = reference == "exact" ? "rel_error_exact" : "rel_error_quantised";
    spec.seriesColumn = "method";
    spec.xLabel = "LNS fraction bits";
    spec.xIntegers = true;
    spec.yLabel = "relative error (‖S̃ − S‖ / ‖S‖)";
    spec.yLog = true;
    spec.highlightSeries = "quantised";
    for (int f : {3, 8}) spec.xMarkers.push_back({double(f), f == 3 ? "lns8 (3 bits)" : "8 bits"});
    return spec;
}

ChartSpec lnsAccumulatorChart(const LnsSweep& s) {
    ChartSpec spec;
    spec.id = "lns-accumulator-bits";
    spec.caption = s.describe() + "; at " + std::to_string(s.widthSweepFractionBits) + " fraction bits";
    spec.title = "Binned accumulation at " + std::to_string(s.widthSweepFractionBits) +
                 " fraction bits: error vs accumulator width";
    spec.xColumn = "accumulator_bits";
    spec.yColumn = "rel_error_exact";
    spec.seriesColumn = "method";
    spec.xLabel = "accumulator width (bits)";
    spec.xIntegers = true;
    spec.yLabel = "relative error vs exact product";
    spec.yLog = true;
    return spec;
}

}  // namespace ks::study
