// `kernelscope-cli report`: every investigation of the assignment, its charts as PNG, its tables as
// CSV, and the write-up that embeds them with the numbers and the findings written from them: report.md, one
// self-contained report.html and report.pdf — the write-up's figures, reproducible.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "cli_charts.hpp"
#include "cli_io.hpp"
#include "report_document.hpp"
#include "sweep_tables.hpp"
#include "command.hpp"
#include "numeric/format_family.hpp"
#include "numeric/compute_spec.hpp"
#include "study/accumulation_study.hpp"
#include "study/compress_study.hpp"
#include "study/findings.hpp"
#include "study/lns_study.hpp"
#include "study/network_precision.hpp"
#include "study/precision_study.hpp"
#include "study/rank_study.hpp"

namespace {

using ks::study::ChartSpec;
using ks::study::Table;

std::string number(double v, int digits = 3) {
    if (std::isnan(v)) return "–";
    if (v == std::floor(v) && std::fabs(v) < 1e7) return std::to_string(static_cast<long long>(v));  // counts: 2000, not 2e+03
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.*g", digits, v);
    return buffer;
}

/// Some columns of `table` as a document table, rows chosen by `keep`.
template <class Keep>
void addTable(ks::cli::ReportDocument& doc, const Table& table, const std::vector<std::string>& columns, Keep keep) {
    std::vector<std::vector<std::string>> rows;
    for (std::size_t r = 0; r < table.rowCount(); ++r) {
        if (!keep(r)) continue;
        std::vector<std::string> row;
        for (const auto& c : columns) {
            const auto& column = table.column(c);
            row.push_back(column.isNumeric() ? number(column.numbers()[r]) : column.labels()[r]);
        }
        rows.push_back(std::move(row));
    }
    doc.table(columns, std::move(rows));
}

/// The report being written. Each section first gets its tables from `tables` (computed, a shard's slice, or
/// the shards' joined), then, unless this run is a shard, writes its figures and words.
class Report {
public:
    Report(std::string dir, const ks::cli::Args& args) : tables("report", args), dir_(std::move(dir)) {}

    /// Writes the chart's PNG and the table's CSV and adds the figure; returns the CSV's file name.
    std::string figure(const Table& table, const ChartSpec& spec, const std::string& caption) {
        const std::string stem = spec.id;
        ks::cli::writeText(dir_ + "/" + stem + ".csv", table.toCsv({spec.title, spec.caption}));
        std::string image;
        if (ks::cli::chartsAvailable()) {
            image = stem + ".png";
            ks::cli::writeChartPng(table, spec, dir_ + "/" + image);
        }
        doc.figure(image, caption, stem + ".csv");
        return stem + ".csv";
    }
    /// A table that is not drawn, written as its own CSV; returns the file name.
    std::string data(const Table& table, const std::string& stem) {
        ks::cli::writeText(dir_ + "/" + stem + ".csv", table.toCsv());
        return stem + ".csv";
    }
    void step(const std::string& what) { std::cerr << "report: " << what << "…\n"; }
    const std::string& dir() const { return dir_; }
    bool rendering() const { return !tables.sharding(); }
    /// A precision sweep's table, sliced by point.
    Table precision(const ks::study::PrecisionSweep& s, const std::string& key = {}) {
        return tables.sliced(key.empty() ? ks::study::precisionChart(s).id : key, [&](const ks::study::Shard& shard) {
            ks::study::PrecisionSweep slice = s;
            slice.shard = shard;
            return ks::study::runPrecisionSweep(slice);
        });
    }

    ks::cli::SweepTables tables;
    ks::cli::ReportDocument doc;

private:
    std::string dir_;
};

void precisionSection(Report& report, int trials) {
    using namespace ks::study;
    report.step("precision");
    auto& doc = report.doc;
    doc.heading(2, "1. Reconstruction error vs numerical precision");
    doc.paragraph("Every intermediate — stored operands, transformed tiles, products, partial sums, FFT butterflies — is "
                  "rounded to the format, as a kernel working in that format would; the reference is a double-precision "
                  "direct computation. Median relative (Frobenius) error over " +
                  std::to_string(trials) + " seeded trials of uniform [−1, 1] data.");
    std::vector<PrecisionSweep> convSweeps;
    std::vector<Table> convTables;
    for (const char* family : {"e8", "e5"}) {
        PrecisionSweep s;
        s.operation = Operation::Conv;
        s.family = family;
        s.trials = trials;
        // A real layer: the fast engine emulates it bit for bit in about a minute for both families.
        s.conv = precisionLayerPresets().front().layer;
        convSweeps.push_back(s);
        convTables.push_back(report.precision(s));
    }
    PrecisionSweep m;
    m.operation = Operation::Matmul;
    m.methods = {"naive", "dense", "log"};
    m.family = "e8";
    m.trials = trials;
    const Table tm = report.precision(m);
    PrecisionSweep l = m;
    l.methods = {"log", "lns-sequential", "lns-binned"};  // the methods of a log format
    l.family = "lns";
    const Table tl = report.precision(l);
    if (!report.rendering()) return;

    for (std::size_t i = 0; i < convSweeps.size(); ++i) {
        const PrecisionSweep& s = convSweeps[i];
        const Table& t = convTables[i];
        const std::string csv =
            report.figure(t, precisionChart(s), "Convolution (" + precisionLayerPresets().front().name + ": " + s.conv.toString() +
                                                    "), error vs mantissa bits, " + ks::numeric::standardFamily(s.family).label());
        if (s.family == "e5") {
            doc.paragraph("At fp16 (e5m10):");
            addTable(doc, t, {"method", "format", "rel_error_median", "max_abs_error_median", "status"},
                     [&](std::size_t r) { return t.numbers("position")[r] == 10; });
        } else {
            doc.paragraph("At bf16 (e8m7) and fp32 (e8m23):");
            addTable(doc, t, {"method", "format", "rel_error_median", "max_abs_error_median"}, [&](std::size_t r) {
                return t.numbers("position")[r] == 7 || t.numbers("position")[r] == 23;
            });
        }
        doc.findings(precisionFindings(t, s.operation.reference().name()), csv);
    }
    const std::string csvM =
        report.figure(tm, precisionChart(m), "Matrix multiply (32×64 · 64×32): naive, dense and log-domain, error vs mantissa bits");
    doc.findings(precisionFindings(tm, m.operation.reference().name()), csvM);
    const std::string csvL = report.figure(tl, precisionChart(l), "Matrix multiply with logarithmic numbers: error vs LNS fraction bits");
    doc.findings(precisionFindings(tl, l.operation.reference().name()), csvL);
}

void rankSection(Report& report) {
    using namespace ks::study;
    report.step("rank");
    auto& doc = report.doc;
    doc.heading(2, "2. SVD: error vs rank, and speed-up vs rank");
    doc.paragraph("One exact SVD per input; the error at rank r is the Eckart–Young tail sqrt(Σ_{i>r} σ_i²).");
    std::vector<RankInput> inputs;
    for (RankInputKind kind : rankInputKinds()) inputs.push_back(makeRankInput(kind));
    const std::string described = describeInputs(inputs);
    std::vector<MatrixShape> shapes;
    for (const RankInput& input : inputs) shapes.push_back({input.name, input.matrix.shape()[0], input.matrix.shape()[1]});
    // The SVDs are one piece of work (shard 1's); the speed-up's ranks are sliced.
    std::vector<std::unique_ptr<RankAnalysis>> analyses;
    std::vector<const RankAnalysis*> pointers;
    const auto analyse = [&] {
        if (!analyses.empty()) return;
        for (RankInput& input : inputs) {
            analyses.push_back(std::make_unique<RankAnalysis>(std::move(input)));
            pointers.push_back(analyses.back().get());
        }
    };
    const std::vector<std::int64_t> ranks = {1, 2, 3, 4, 8, 16, 32, 64, 128, 256, 512};
    const Table errors = report.tables.whole("rank-error", [&] {
        analyse();
        return rankErrorTable(pointers);
    });
    const Table selected = report.tables.whole("rank-error-selected", [&] {
        analyse();
        return rankErrorTable(pointers, ranks);
    });
    const Table spectrum = report.tables.whole("rank-spectrum", [&] {
        analyse();
        return spectrumTable(pointers);
    });
    SpeedupSweep sweep;
    const Table timed = report.tables.sliced("rank-speedup-measured", [&](const Shard& shard) {
        SpeedupSweep slice = sweep;
        slice.shard = shard;
        return runSpeedupSweep(slice).table;
    });
    if (!report.rendering()) return;

    const std::string csv =
        report.figure(errors, rankErrorChart(std::nullopt, described), "Relative Frobenius error vs rank for the five kinds of input");
    addTable(doc, selected, {"input", "rank", "frobenius_error", "relative_error", "energy_kept"}, [&](std::size_t r) {
        const double k = selected.numbers("rank")[r];
        return k == 1 || k == 3 || k == 32 || k == 128;
    });
    doc.findings(rankFindings(errors, shapes), csv);
    report.figure(spectrum, rankSpectrumChart(described), "Singular spectra");
    const SpeedupResult speed = speedupResult(timed, sweep.k, sweep.n);
    report.figure(speedupChartTable(speed.table), rankSpeedupChart(sweep),
                  "Speed-up of (512×512)·(512×128) with B factored offline: FLOP model and measured");
    const std::string speedCsv = report.data(speed.table, "rank-speedup-measured");
    doc.paragraph("Dense product: " + number(speed.denseMedianMs) + " ms (median). Per rank: `" + speedCsv + "`.");
    doc.findings(speedupFindings(speed.table, speed.flopBreakEvenRank), speedCsv);
}

/// The compressed network's table, run once for the compression and the layer sections.
Table compressionTable(Report& report) {
    using namespace ks::study;
    return report.tables.sliced(
        "compress",
        [](const Shard& shard) {
            CompressSweep sweep;
            sweep.shard = shard;
            return CompressionStudy::embedded()->run(sweep);
        },
        markParetoFront);
}

/// Returns the table's CSV file name.
std::string compressSection(Report& report, const Table& t) {
    using namespace ks::study;
    report.step("network compression");
    auto& doc = report.doc;
    doc.heading(2, "3. SVD in the digit-recognition network");
    doc.paragraph("The seed's MLP (784→512→128→10) trained by KernelScope's own trainer on 8,000 digits, evaluated on the "
                  "2,000 test digits; each Linear layer replaced by its rank-r factorisation (two GEMMs), no fine-tuning. "
                  "Time: median of repeated inference of the whole test set.");
    const std::string caption = "the embedded MLP, 2,000 test digits; " + CompressSweep{}.describe();
    const std::string csv = report.figure(t, compressionAccuracyChart(std::nullopt, caption), "Compression ratio vs accuracy");
    report.figure(t, compressionRuntimeChart(std::nullopt, caption), "Compression ratio vs runtime");
    const ParetoChart pareto = runtimeAccuracyChart(t, std::nullopt, caption);
    report.figure(pareto.table, pareto.spec, "Runtime vs accuracy, with the Pareto front");
    std::vector<std::string> columns;
    for (const char* c : {"setting", "compression_ratio", "accuracy", "median_ms", "pareto"})
        if (t.hasColumn(c)) columns.push_back(c);
    addTable(doc, t, columns, [](std::size_t) { return true; });
    doc.findings(compressionFindings(t), csv);
    return csv;
}

void layerSection(Report& report, const Table& t, const std::string& csv) {
    using namespace ks::study;
    auto& doc = report.doc;
    doc.heading(2, "4. The custom low-rank layer");
    doc.paragraph("A Linear layer's weight W (out × in) is factored once by an exact SVD, W = U·Σ·Vᵀ, and truncated to "
                  "rank r without refactoring. The layer keeps two matrices: `down` = V_rᵀ (r × in) and `up` = U_r·Σ_r "
                  "(out × r); Σ is folded into `up`, so the layer is two matrix products instead of three. It is stored "
                  "as PyTorch's `nn.Sequential(Linear(in, r, bias=False), Linear(r, out))` would store it, so a "
                  "compressed network loads back into PyTorch as it is.");
    doc.paragraph("Order of multiplication: y = (x·downᵀ)·upᵀ + b. Multiplying the batch by the thin factor first costs "
                  "r·(in + out) multiply-adds per sample instead of in·out, and never forms the dense product downᵀ·upᵀ "
                  "(which would cost in·r·out once and then in·out per sample, no saving). Both factors are packed into "
                  "the GEMM's panel layout once per forward pass and shared by every thread and row tile; the r-wide "
                  "intermediate x·downᵀ stays in a per-thread buffer of one tile of rows, and the bias and the following "
                  "ReLU are applied in the second product's epilogue while its tile is in registers.");
    doc.paragraph("Measured efficiency: the FLOP model promises a speed-up of 1 / flop_ratio; the measured speed-up is "
                  "dense time / compressed time (medians of repeated inference of the 2,000 test digits).");
    const auto& setting = t.labels("setting");
    const auto& flops = t.numbers("flop_ratio");
    const auto& ms = t.numbers("median_ms");
    const auto dense = t.filtered("setting", "dense");
    if (dense.rowCount() == 1) {
        const double denseMs = dense.numbers("median_ms").front();
        std::vector<std::vector<std::string>> rows;
        for (std::size_t r = 0; r < t.rowCount(); ++r)
            if (setting[r] != "dense" && flops[r] < 1)
                rows.push_back({setting[r], number(flops[r]), number(1 / flops[r]), number(denseMs / ms[r]),
                                number(denseMs / ms[r] * flops[r])});
        doc.table({"setting", "flop_ratio", "model speed-up", "measured speed-up", "share of the model"}, std::move(rows));
    }
    doc.findings(lowRankEfficiencyFindings(t), csv);
}

void lnsSection(Report& report, int trials) {
    using namespace ks::study;
    report.step("log accumulation");
    auto& doc = report.doc;
    doc.heading(2, "5. Extra credit: adding in the log domain (NVIDIA's binned accumulation)");
    doc.paragraph("Length-256 dot products of N(0, 1) data; `exact` compares with the unquantised product, `quantised` "
                  "with the exact sum of the quantised products (accumulation error alone).");
    LnsSweep sweep;
    sweep.trials = trials;
    std::optional<LnsResult> run;
    const auto slice = [&](const Shard& shard) -> const LnsResult& {
        if (!run) {
            LnsSweep part = sweep;
            part.shard = shard;
            run = runLnsSweep(part);
        }
        return *run;
    };
    const LnsResult r{report.tables.sliced("lns-fraction-bits", [&](const Shard& shard) { return slice(shard).byFractionBits; }),
                      report.tables.sliced("lns-accumulator-bits", [&](const Shard& shard) { return slice(shard).byAccumulatorBits; })};
    if (!report.rendering()) return;
    const std::string csv = report.figure(r.byFractionBits, lnsFractionChart(sweep), "Error vs LNS fraction bits");
    report.figure(r.byAccumulatorBits, lnsAccumulatorChart(sweep), "Binned accumulation: error vs accumulator width");
    doc.paragraph("At 3 fraction bits:");
    addTable(doc, r.byFractionBits, {"method", "rel_error_exact", "rel_error_quantised"},
             [&](std::size_t i) { return r.byFractionBits.numbers("fraction_bits")[i] == 3; });
    doc.findings(lnsFindings(r.byFractionBits), csv);
}

void hardwareSection(Report& report, int trials) {
    using namespace ks::study;
    report.step("hardware numerics");
    auto& doc = report.doc;
    PrecisionSweep s;
    s.operation = Operation::Conv;
    s.trials = trials;
    const LayerPreset& layer = precisionLayerPresets().front();
    s.conv = layer.layer;
    for (const char* name : {"mxfp8-e4m3/fp32", "e4m3/fp32", "mxfp6-e2m3/fp32", "e2m3-fn/fp32", "mxfp4/fp32", "nvfp4/fp32", "e2m1/fp32"})
        s.specs.push_back(ks::numeric::parseComputeSpec(name));
    const Table t = report.precision(s);
    // Where the blocks lie in the algorithms that transform: a smaller layer, since the tiles' run is the generic one.
    PrecisionSweep placement;
    placement.operation = Operation::Conv;
    placement.trials = trials;
    placement.conv = ks::conv::ConvProblem::layer(1, 32, 28, 28, 32, 3, 1, 1);
    for (const char* name : {"mxfp8-e4m3/fp32", "mxfp8-e4m3/fp32:scales=tiles", "mxfp4/fp32", "mxfp4/fp32:scales=tiles",
                             "nvfp4/fp32", "nvfp4/fp32:scales=tiles"})
        placement.specs.push_back(ks::numeric::parseComputeSpec(name));
    const std::string placementKey = "precision-conv-scale-placement";
    const Table tp = report.precision(placement, placementKey);
    AccumulationSweep a;
    a.dots = 32;
    const Table ta = report.tables.sliced(accumulationChart(a).id, [&](const Shard& shard) {
        AccumulationSweep slice = a;
        slice.shard = shard;
        return runAccumulationSweep(slice);
    });
    const Table swamping = report.tables.whole(swampingChart(a).id, [&] { return runSwamping(a); });
    std::vector<ks::numeric::ComputeSpec> specs;
    for (const char* name : {"fp32", "fp16/fp32", "volta-fp16-tc", "ampere-fp16-tc", "bf16/fp32", "ampere-bf16-tc", "e4m3/fp32",
                             "hopper-fp8", "hopper-fp8-promoted", "mxfp8-e4m3/fp32", "mxfp6-e2m3/fp32", "mxfp4/fp32", "nvfp4/fp32",
                             "e2m1/fp32"})
        specs.push_back(ks::numeric::parseComputeSpec(name));
    const Table tn = report.tables.sliced(specAccuracyChart().id, [&](const Shard& shard) {
        const auto embedded = CompressionStudy::embedded();
        CompressSweep options;
        options.measureTime = false;
        options.shard = shard;
        return specAccuracySweep(*embedded, embedded->dense(), specs, options);
    });
    if (!report.rendering()) return;

    doc.heading(2, "6. Hardware numerics: block-scaled formats and accumulators");
    doc.paragraph("Today's 8-, 6- and 4-bit formats share a scale per block of elements (OCP MX: an E8M0 power of two per 32; "
                  "NVFP4: an E4M3 scale per 16 and a float32 one per tensor), laid along the reduction axis — here the "
                  "convolution's input channels, and a layer's input features. Below, each against the element-wise format of "
                  "the same width, with products and sums in float32 so that the storage alone differs.");
    const std::string csv = report.figure(t, precisionChart(s), "Convolution (" + layer.name + "): error of each algorithm by "
                                                                 "storage format, block-scaled beside element-wise");
    addTable(doc, t, {"method", "format", "bits", "rel_error_median"}, [&](std::size_t r) {
        return t.labels("method")[r] == "direct" || t.labels("method")[r] == "winograd-4x4";
    });
    ks::study::Findings scaledFindings = scaledFormatFindings(t, s.operation.reference().name());
    for (const auto& f : scaledFormatFindings(t, "winograd-4x4")) scaledFindings.push_back(f);
    for (const auto& f : precisionFindings(t, s.operation.reference().name())) scaledFindings.push_back(f);
    doc.findings(scaledFindings, csv);
    doc.paragraph("Why MXFP8 (E4M3) can err more than E4M3 alone: the MX rule sets the scale to 2^(floor(log2 amax) − 8), "
                  "which puts a block's largest magnitude in [256, 512) scale units, and E4M3 stops at 448 = 1.75 · 2^8, so "
                  "the values of the top eighth of that range saturate (OCP MX v1.0 allows it; microxcaling does the same). "
                  "E2M3 (max 7.5 in [4, 8)) and E2M1 (max 6 in [4, 8)) lose less of their top binade.");

    doc.paragraph("Winograd and the FFT multiply transforms of their operands. A low-precision Winograd kernel stores its "
                  "transformed tiles in the narrow format, so the blocks lie on them (along C, for every tile position), "
                  "not on the input and weights; for the FFT, on the real and imaginary parts of the spectra. Below, each "
                  "format with its blocks on the operands and on the tiles (`:scales=tiles`); direct and im2col multiply "
                  "their operands, so both placements are the same there.");
    ChartSpec placementChart = precisionChart(placement);
    placementChart.id = placementKey;
    placementChart.title = "Convolution: block scales on the operands or on the transformed tiles";
    for (auto& marker : placementChart.xMarkers) {  // short names side by side: "mxfp4", "mxfp4 tiles"
        std::string& name = marker.label;
        if (const auto tiles = name.find(":scales=tiles"); tiles != std::string::npos) name.replace(tiles, std::string::npos, " tiles");
        if (const auto sums = name.find("/fp32"); sums != std::string::npos) name.erase(sums, 5);
    }
    const std::string csvP = report.figure(tp, placementChart, "Convolution (" + placement.conv.toString() +
                                                               "): error of each algorithm with the blocks on its operands "
                                                               "or on its transformed tiles");
    doc.findings(scalePlacementFindings(tp), csvP);

    doc.paragraph("Tensor cores do not add as IEEE arithmetic does: a group of exact products and the running sum are aligned "
                  "to the largest exponent and truncated without guard bits (Fasi, Higham, Mikaitis and Pranesh 2021); Hopper's "
                  "FP8 units keep about 14 bits, and DeepSeek-V3 promotes the partial sums into float32 every 128 products. "
                  "Length-4096 dot products of fp16 operands with exact products, each model's error against the exact sum:");
    const std::string csvA = report.figure(ta, accumulationChart(a), "Dot-product error vs accumulator bits, per accumulator model");
    doc.findings(accumulationFindings(ta, accumulationAxisLabel(a.axis)), csvA);
    const std::string csvS = report.figure(swamping, swampingChart(a), "The running sum's error after k products (14-bit accumulator)");
    doc.findings(swampingFindings(swamping), csvS);

    doc.paragraph("The digit MLP under each (all 2,000 test digits):");
    const std::string csvN = report.figure(tn, specAccuracyChart(), "Digit MLP: test error by compute specification");
    addTable(doc, tn, {"spec", "bits", "accuracy", "test_digits"}, [](std::size_t) { return true; });
    doc.findings(specAccuracyFindings(tn), csvN);
}

}  // namespace

KS_CLI_COMMAND(reportCommand) {
    ks::cli::Command c;
    c.name = "report";
    c.summary = "Run every investigation and write the report (Markdown, HTML, PDF) with its charts, numbers and findings";
    c.details = "Writes DIR/report.md (beside one PNG per chart and one CSV per table), DIR/report.html (one self-contained file, "
                "images embedded) and DIR/report.pdf. Takes a few minutes on 2 cores.";
    c.options = {
        {"out", "DIR", "folder for report.md, the PNGs and the CSVs", true, ""},
        {"trials", "N", "random trials per precision point", false, "5"},
        {"sections", "LIST", "comma-separated subset of precision,rank,compress,lns,hardware", false,
         "precision,rank,compress,lns,hardware"},
        ks::cli::shardOption(),
    };
    c.run = [](const ks::cli::Args& args) {
        const std::string dir = args.get("out");
        const int trials = int(args.getInt("trials", 1, 1000));
        const std::string sections = "," + args.get("sections") + ",";
        for (const std::string& item : args.getList("sections"))
            if (item != "precision" && item != "rank" && item != "compress" && item != "lns" && item != "hardware")
                throw ks::cli::UsageError("--sections: unknown section '" + item + "' (precision, rank, compress, lns, hardware)");
        ks::cli::ensureDirectory(dir);
        const auto start = std::chrono::steady_clock::now();
        Report report(dir, args);
        auto& doc = report.doc;
        doc.heading(1, "KernelScope report");
        doc.paragraph("Generated by `kernelscope-cli report --out " + dir +
                      "`. Every figure below is drawn by the same code as the desktop app, and every number comes with its "
                      "CSV. The findings under each section are written from the data of this run; the rows they cite "
                      "count a CSV's data rows from 1, below its header.");
        if (sections.find(",precision,") != std::string::npos) precisionSection(report, trials);
        if (sections.find(",rank,") != std::string::npos) rankSection(report);
        if (sections.find(",compress,") != std::string::npos) {
            const Table t = compressionTable(report);
            if (report.rendering()) layerSection(report, t, compressSection(report, t));
        }
        if (sections.find(",lns,") != std::string::npos) lnsSection(report, std::max(trials * 4, 20));
        if (sections.find(",hardware,") != std::string::npos) hardwareSection(report, trials);
        if (!report.rendering()) return report.tables.finishShard();
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        doc.paragraph("Made in " + number(seconds, 3) + " s.");
        ks::cli::writeText(dir + "/report.md", doc.markdown());
        ks::cli::writeText(dir + "/report.html", doc.html(dir, ks::cli::ReportDocument::Images::Embedded));
        std::cout << dir << "/report.md\n" << dir << "/report.html\n";
        if (ks::cli::chartsAvailable()) {
            ks::cli::writePdf(doc.html(dir, ks::cli::ReportDocument::Images::ByName), dir, doc.images(), dir + "/report.pdf");
            std::cout << dir << "/report.pdf\n";
        }
        return 0;
    };
    return c;
}
