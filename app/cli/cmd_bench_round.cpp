// `kernelscope-cli bench round`: elements per second of bulk rounding, per target format and source
// type, with the in-run baselines: a naive frexp/ldexp/nearbyint rounder, the scalar bit-manipulation
// Rounder, stochastic rounding, and (where the CPU has it) the F16C hardware conversion.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#ifdef __F16C__
#include <immintrin.h>
#endif

#include "base/timing.hpp"
#include "cli_io.hpp"
#include "command.hpp"
#include "numeric/round.hpp"

namespace {

namespace kn = ks::numeric;

/// The textbook rounder (what most emulators do): split with frexp, scale, nearbyint, scale back.
double naiveRound(double x, int mantissaBits, int emin, double maxValue) {
    if (x == 0 || !std::isfinite(x)) return x;
    int e = 0;
    std::frexp(x, &e);  // x = f * 2^e, 0.5 <= |f| < 1
    const int exponent = std::max(e - 1, emin);
    const double r = std::ldexp(std::nearbyint(std::ldexp(x, mantissaBits - exponent)), exponent - mantissaBits);
    return std::fabs(r) > maxValue ? std::copysign(INFINITY, x) : r;
}

struct Row {
    std::string target, source, kernel;
    double seconds;
    int repeats;
};

}  // namespace

KS_CLI_COMMAND(benchRoundCommand) {
    ks::cli::Command c;
    c.name = "bench round";
    c.summary = "Measure bulk rounding rates (G elements/s, median of repeats) per target format and source type";
    c.details =
        "Data: normal(0, 100) values. --n elements per array; the default fits in L2 cache (the rate of the\n"
        "kernel itself); a large --n (e.g. 16777216) measures the memory-bound rate. One thread.";
    c.options = {{"n", "N", "elements per array", false, "65536"},
                 {"min-seconds", "S", "measure each row at least this long", false, "0.3"},
                 {"csv", "FILE", "also write the table as CSV", false, ""}};
    c.run = [](const ks::cli::Args& args) {
        const auto n = static_cast<std::size_t>(args.getInt("n", 1, 1LL << 30));
        ks::TimingOptions timing;
        timing.minSeconds = args.getDouble("min-seconds");
        std::mt19937_64 gen(42);
        std::normal_distribution<double> normal(0.0, 100.0);
        std::vector<double> inD(n), outD(n);
        std::vector<float> inF(n), outF(n);
        for (std::size_t i = 0; i < n; ++i) inF[i] = static_cast<float>(inD[i] = normal(gen));

        std::vector<Row> rows;
        auto bulk = [&](const char* name, bool fromFloat) {
            const kn::Format f = kn::parseFormat(name);
            const auto result = fromFloat ? ks::measure([&] { kn::roundArray(inF, outF, f); }, timing)
                                          : ks::measure([&] { kn::roundArray(inD, outD, f); }, timing);
            rows.push_back({name, fromFloat ? "float32" : "float64",
                            kn::roundArrayKernel(f, kn::Rounding::NearestEven, fromFloat), result.medianSeconds,
                            result.repeats});
        };
        for (const char* name : {"fp16", "bf16", "e4m3", "e5m2", "tf32", "e6m9"}) bulk(name, false);
        for (const char* name : {"fp16", "bf16", "e4m3", "e5m2", "tf32", "e6m9"}) bulk(name, true);

        const kn::Format fp16 = kn::Format::fp16();
        const double maxFp16 = kn::maxFinite(fp16);
        auto naive = ks::measure(
            [&] {
                for (std::size_t i = 0; i < n; ++i) outD[i] = naiveRound(inD[i], 10, -14, maxFp16);
            },
            timing);
        rows.push_back({"fp16", "float64", "naive frexp/ldexp/nearbyint (baseline)", naive.medianSeconds, naive.repeats});
        const kn::Rounder scalar(fp16, kn::Rounding::NearestEven);
        auto scalarRun = ks::measure(
            [&] {
                for (std::size_t i = 0; i < n; ++i) outD[i] = scalar(inD[i]);
            },
            timing);
        rows.push_back({"fp16", "float64", "scalar Rounder (bit manipulation)", scalarRun.medianSeconds, scalarRun.repeats});
        for (auto mode : {kn::Rounding::TowardZero, kn::Rounding::Stochastic}) {
            const kn::RandomKey key = kn::randomKey(1, 0);
            auto run = ks::measure([&] { kn::roundArray(inD, outD, fp16, mode, &key); }, timing);
            rows.push_back({"fp16", "float64", "scalar " + kn::roundingName(mode), run.medianSeconds, run.repeats});
        }
        for (const char* name : {"fixed16.8", "lns8.3", "int8"}) {
            const kn::Format f = kn::parseFormat(name);
            auto run = ks::measure([&] { kn::roundArray(inD, outD, f); }, timing);
            rows.push_back({name, "float64", kn::roundArrayKernel(f, kn::Rounding::NearestEven, false),
                            run.medianSeconds, run.repeats});
        }
#ifdef __F16C__
        auto hardware = ks::measure(
            [&] {
                std::size_t i = 0;
                for (; i + 8 <= n; i += 8) {
                    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(&inF[i]), _MM_FROUND_TO_NEAREST_INT);
                    _mm256_storeu_ps(&outF[i], _mm256_cvtph_ps(h));
                }
                for (; i < n; ++i) outF[i] = _cvtsh_ss(_cvtss_sh(inF[i], 0));
            },
            timing);
        rows.push_back({"fp16", "float32", "F16C hardware (reference)", hardware.medianSeconds, hardware.repeats});
#endif

        ks::cli::Table table;
        table.columns = {"target", "source", "kernel", "G elem/s", "ns/elem", "repeats"};
        for (const auto& r : rows) {
            char rate[32], ns[32];
            std::snprintf(rate, sizeof rate, "%.3f", static_cast<double>(n) / r.seconds * 1e-9);
            std::snprintf(ns, sizeof ns, "%.3f", r.seconds / static_cast<double>(n) * 1e9);
            table.rows.push_back({r.target, r.source, r.kernel, rate, ns, std::to_string(r.repeats)});
        }
        std::cout << "bench round: n = " << n << " elements, one thread, median of repeats\n" << table.toText();
        if (const std::string csv = args.get("csv"); !csv.empty()) ks::cli::writeText(csv, table.toCsv());
        return 0;
    };
    return c;
}
