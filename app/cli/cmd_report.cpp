// `kernelscope-cli report`: every investigation of the assignment, its charts as PNG, its tables as
// CSV, and report.md that embeds them with the numbers — the write-up's figures, reproducible.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "cli_charts.hpp"
#include "cli_io.hpp"
#include "command.hpp"
#include "numeric/format_family.hpp"
#include "study/compress_study.hpp"
#include "study/lns_study.hpp"
#include "study/precision_study.hpp"
#include "study/rank_study.hpp"

namespace {

using ks::study::ChartSpec;
using ks::study::Table;

std::string number(double v, int digits = 3) {
    if (std::isnan(v)) return "–";
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.*g", digits, v);
    return buffer;
}

/// A Markdown table of some columns of `table`, rows chosen by `keep`.
template <class Keep>
std::string markdown(const Table& table, const std::vector<std::string>& columns, Keep keep) {
    std::ostringstream out;
    out << '|';
    for (const auto& c : columns) out << ' ' << c << " |";
    out << "\n|";
    for (std::size_t i = 0; i < columns.size(); ++i) out << "---|";
    out << '\n';
    for (std::size_t r = 0; r < table.rowCount(); ++r) {
        if (!keep(r)) continue;
        out << '|';
        for (const auto& c : columns) {
            const auto& column = table.column(c);
            out << ' ' << (column.isNumeric() ? number(column.numbers()[r]) : column.labels()[r]) << " |";
        }
        out << '\n';
    }
    return out.str();
}

class Report {
public:
    explicit Report(std::string dir) : dir_(std::move(dir)) {}

    /// Writes the chart's PNG and the table's CSV; returns the Markdown that embeds the picture.
    std::string figure(const Table& table, const ChartSpec& spec, const std::string& caption) {
        const std::string stem = spec.id;
        ks::cli::writeText(dir_ + "/" + stem + ".csv", table.toCsv());
        std::string md;
        if (ks::cli::chartsAvailable()) {
            ks::cli::writeChartPng(table, spec, dir_ + "/" + stem + ".png");
            md += "![" + caption + "](" + stem + ".png)\n\n";
        }
        md += "*" + caption + "* — data: [`" + stem + ".csv`](" + stem + ".csv)\n\n";
        return md;
    }
    void section(const std::string& text) { body_ << text << '\n'; }
    void step(const std::string& what) {
        std::cerr << "report: " << what << "…\n";
    }
    const std::string& dir() const { return dir_; }
    std::string text() const { return body_.str(); }

private:
    std::string dir_;
    std::ostringstream body_;
};

void precisionSection(Report& report, int trials) {
    using namespace ks::study;
    report.step("precision");
    report.section("## 1. Reconstruction error vs numerical precision\n\n"
                   "Every intermediate — stored operands, transformed tiles, products, partial sums, FFT "
                   "butterflies — is rounded to the format, as a kernel working in that format would; the "
                   "reference is a double-precision direct computation. Median relative (Frobenius) error over "
                   + std::to_string(trials) + " seeded trials of uniform [−1, 1] data.\n");
    for (const char* family : {"e8", "e5"}) {
        PrecisionSweep s;
        s.operation = Operation::Conv;
        s.family = family;
        s.trials = trials;
        // A real layer: the fast engine emulates it bit for bit in about a minute for both families.
        const LayerPreset& layer = precisionLayerPresets().front();
        s.conv = layer.layer;
        const Table t = runPrecisionSweep(s);
        report.section(report.figure(t, precisionChart(s), "Convolution (" + layer.name + ": " + s.conv.toString() +
                                                               "), error vs mantissa bits, " +
                                                               ks::numeric::standardFamily(family).label()));
        if (std::string(family) == "e5") {
            report.section("At fp16 (e5m10):\n\n" + markdown(t, {"method", "format", "rel_error_median", "max_abs_error_median", "status"},
                                                             [&](std::size_t r) { return t.numbers("position")[r] == 10; }));
        } else {
            report.section("At bf16 (e8m7) and fp32 (e8m23):\n\n" +
                           markdown(t, {"method", "format", "rel_error_median", "max_abs_error_median"}, [&](std::size_t r) {
                               return t.numbers("position")[r] == 7 || t.numbers("position")[r] == 23;
                           }));
        }
    }
    PrecisionSweep m;
    m.operation = Operation::Matmul;
    m.methods = {"naive", "dense", "log"};
    m.family = "e8";
    m.trials = trials;
    const Table tm = runPrecisionSweep(m);
    report.section(report.figure(tm, precisionChart(m), "Matrix multiply (32×64 · 64×32): naive, dense and log-domain, error vs mantissa bits"));
    PrecisionSweep l = m;
    l.methods = {"naive", "log", "lns-sequential", "lns-binned"};
    l.family = "lns";
    const Table tl = runPrecisionSweep(l);
    report.section(report.figure(tl, precisionChart(l), "Matrix multiply with logarithmic numbers: error vs LNS fraction bits"));
}

void rankSection(Report& report) {
    using namespace ks::study;
    report.step("rank");
    report.section("## 2. SVD: error vs rank, and speed-up vs rank\n\n"
                   "One exact SVD per input; the error at rank r is the Eckart–Young tail sqrt(Σ_{i>r} σ_i²).\n");
    std::vector<std::unique_ptr<RankAnalysis>> analyses;
    std::vector<const RankAnalysis*> pointers;
    for (RankInputKind kind : rankInputKinds()) {
        analyses.push_back(std::make_unique<RankAnalysis>(makeRankInput(kind)));
        pointers.push_back(analyses.back().get());
    }
    const std::vector<std::int64_t> ranks = {1, 2, 3, 4, 8, 16, 32, 64, 128, 256, 512};
    const Table errors = rankErrorTable(pointers);
    report.section(report.figure(errors, rankErrorChart(), "Relative Frobenius error vs rank for the five kinds of input"));
    const Table selected = rankErrorTable(pointers, ranks);
    report.section(markdown(selected, {"input", "rank", "frobenius_error", "relative_error", "energy_kept"},
                            [&](std::size_t r) {
                                const double k = selected.numbers("rank")[r];
                                return k == 1 || k == 3 || k == 32 || k == 128;
                            }));
    const Table spectrum = spectrumTable(pointers);
    report.section(report.figure(spectrum, rankSpectrumChart(), "Singular spectra"));
    SpeedupSweep sweep;
    const SpeedupResult speed = runSpeedupSweep(sweep);
    report.section(report.figure(speedupChartTable(speed.table), rankSpeedupChart(sweep),
                                 "Speed-up of (512×512)·(512×128) with B factored offline: FLOP model and measured"));
    std::string breakEven = "FLOP-model break-even rank: " + number(speed.flopBreakEvenRank, 4);
    if (speed.measuredBreakEvenRank) breakEven += "; measured: " + number(*speed.measuredBreakEvenRank, 4);
    report.section(breakEven + ". Dense product: " + number(speed.denseMedianMs) + " ms (median).\n");
}

void compressSection(Report& report) {
    using namespace ks::study;
    report.step("network compression");
    report.section("## 3. SVD in the digit-recognition network\n\n"
                   "The seed's MLP (784→512→128→10) trained by KernelScope's own trainer on 8,000 digits, "
                   "evaluated on the 2,000 test digits; each Linear layer replaced by its rank-r factorisation "
                   "(two GEMMs), no fine-tuning. Time: median of repeated inference of the whole test set.\n");
    const auto study = CompressionStudy::embedded();
    CompressSweep sweep;
    const Table t = study->run(sweep);
    report.section(report.figure(t, compressionAccuracyChart(), "Compression ratio vs accuracy"));
    report.section(report.figure(t, compressionRuntimeChart(), "Compression ratio vs runtime"));
    const ParetoChart pareto = runtimeAccuracyChart(t);
    report.section(report.figure(pareto.table, pareto.spec, "Runtime vs accuracy, with the Pareto front"));
    std::vector<std::string> columns;
    for (const char* c : {"setting", "compression_ratio", "accuracy", "median_ms", "pareto"})
        if (t.hasColumn(c)) columns.push_back(c);
    report.section(markdown(t, columns, [](std::size_t) { return true; }));
}

void lnsSection(Report& report, int trials) {
    using namespace ks::study;
    report.step("log accumulation");
    report.section("## 4. Extra credit: adding in the log domain (NVIDIA's binned accumulation)\n\n"
                   "Length-256 dot products of N(0, 1) data; `exact` compares with the unquantised product, "
                   "`quantised` with the exact sum of the quantised products (accumulation error alone).\n");
    LnsSweep sweep;
    sweep.trials = trials;
    const LnsResult r = runLnsSweep(sweep);
    report.section(report.figure(r.byFractionBits, lnsFractionChart(sweep), "Error vs LNS fraction bits"));
    report.section(report.figure(r.byAccumulatorBits, lnsAccumulatorChart(sweep), "Binned accumulation: error vs accumulator width"));
    report.section("At 3 fraction bits:\n\n" +
                   markdown(r.byFractionBits, {"method", "rel_error_exact", "rel_error_quantised"},
                            [&](std::size_t i) { return r.byFractionBits.numbers("fraction_bits")[i] == 3; }));
}

}  // namespace

KS_CLI_COMMAND(reportCommand) {
    ks::cli::Command c;
    c.name = "report";
    c.summary = "Run every investigation and write report.md with its charts and numbers";
    c.details = "Writes DIR/report.md, one PNG per chart and one CSV per table. Takes a few minutes on 2 cores.";
    c.options = {
        {"out", "DIR", "folder for report.md, the PNGs and the CSVs", true, ""},
        {"trials", "N", "random trials per precision point", false, "5"},
        {"sections", "LIST", "comma-separated subset of precision,rank,compress,lns", false, "precision,rank,compress,lns"},
    };
    c.run = [](const ks::cli::Args& args) {
        const std::string dir = args.get("out");
        const int trials = int(args.getInt("trials", 1, 1000));
        const std::string sections = "," + args.get("sections") + ",";
        for (const std::string& item : args.getList("sections"))
            if (item != "precision" && item != "rank" && item != "compress" && item != "lns")
                throw ks::cli::UsageError("--sections: unknown section '" + item + "' (precision, rank, compress, lns)");
        ks::cli::ensureDirectory(dir);
        const auto start = std::chrono::steady_clock::now();
        Report report(dir);
        report.section("# KernelScope report\n\nGenerated by `kernelscope-cli report --out " + dir +
                       "`. Every figure below is drawn by the same code as the desktop app, and every number "
                       "comes with its CSV.\n");
        if (sections.find(",precision,") != std::string::npos) precisionSection(report, trials);
        if (sections.find(",rank,") != std::string::npos) rankSection(report);
        if (sections.find(",compress,") != std::string::npos) compressSection(report);
        if (sections.find(",lns,") != std::string::npos) lnsSection(report, std::max(trials * 4, 20));
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        report.section("\n---\nMade in " + number(seconds, 3) + " s.\n");
        ks::cli::writeText(dir + "/report.md", report.text());
        std::cout << dir << "/report.md\n";
        return 0;
    };
    return c;
}
