// `kernelscope-cli precision`: the precision study headless — a CSV and the GUI's chart as PNG.
#include <iostream>
#include <sstream>

#include "cli_charts.hpp"
#include "cli_io.hpp"
#include "cmd_matmul.hpp"
#include "command.hpp"
#include "numeric/format_family.hpp"
#include "numeric/rounding_mode.hpp"
#include "study/precision_study.hpp"
#include "sweep_tables.hpp"

namespace {

std::string familyIds() {
    std::string ids;
    for (const ks::study::PrecisionFamily& f : ks::study::precisionFamilyChoices()) ids += (ids.empty() ? "" : " ") + f.id;
    return ids;
}

std::string shapeHelp() {
    std::string help;
    for (const ks::study::Operation& op : ks::study::Operation::all())
        help += (help.empty() ? "" : "; ") + op.id() + ": " + op.shapeSyntax();
    return help;
}

}  // namespace

KS_CLI_COMMAND(precisionCommand) {
    ks::cli::Command c;
    c.name = "precision";
    c.summary = "Error vs number format for conv or matmul methods (CSV + PNG)";
    c.details =
        "Every intermediate is rounded to the format (or, with --accumulate fp32, operands and products\n"
        "are, while sums stay in fp32), against a double-precision direct reference. Writes\n"
        "DIR/precision-<operation>-<family>.csv and .png. With --specs, the points are the compute\n"
        "specifications listed instead (block-scaled formats beside element-wise ones, accumulator presets;\n"
        "see `formats`): DIR/precision-<operation>-specs.csv and .png.";
    c.options = {
        {"out", "DIR", "folder for the CSV and PNG", true, ""},
        {"operation", "conv|matmul", "which primitive", false, "conv"},
        {"methods", "A,B,...", "methods to compare (default: all of the operation)", false, ""},
        {"family", "ID", "format family: " + familyIds() + " (the block-scaled ones sweep the block size, 2^position)", false, "e5"},
        {"specs", "\"S1 S2 ...\"", "compute specifications to compare, separated by spaces (instead of --family), "
                                     "e.g. \"mxfp4/fp32 e2m1/fp32 nvfp4/fp32\"", false, ""},
        {"from", "N", "first position in the family (default: the family's first)", false, ""},
        {"to", "N", "last position (default: the family's last)", false, ""},
        {"accumulate", "format|fp32", "where sums are kept", false, "format"},
        {"rounding", "MODE", "nearest, toward-zero, up, down, stochastic", false, "nearest"},
        {"scales", "operands|tiles", "a block-scaled family's blocks: on the operands, or on Winograd's transformed tiles and "
                                     "the FFT's spectra (with --specs: the spec's own :scales=)", false, "operands"},
        {"distribution", "D", "normal, uniform, image or activations", false, "uniform"},
        {"trials", "N", "random inputs per point", false, "3"},
        {"seed", "S", "random seed", false, "1"},
        {"shape", "DIMS", shapeHelp() + " (default: conv, the ResNet-style layer 1,64,56,56,64,3,1,1 for float families on the fast engine, 1,16,20,20,4,3 otherwise; matmul 32,64,32)", false, ""},
        ks::cli::emulationOption(),
        ks::cli::shardOption(),
    };
    c.run = [](const ks::cli::Args& args) {
        using namespace ks;
        study::PrecisionSweep s;
        try {
            s.operation = study::Operation::byId(args.get("operation"));
        } catch (const std::invalid_argument& e) {
            throw cli::UsageError(std::string("--operation: ") + e.what());
        }
        if (args.has("methods")) s.methods = args.getList("methods");
        s.family = args.get("family");
        if (args.has("specs")) {
            std::istringstream names(args.get("specs"));
            for (std::string name; names >> name;) {
                try {
                    s.specs.push_back(numeric::parseComputeSpec(name));
                } catch (const std::invalid_argument& e) {
                    throw cli::UsageError(std::string("--specs: ") + e.what());
                }
                if (s.specs.back().native) throw cli::UsageError("--specs: " + name + " is not emulated; give fp32 for float32");
            }
            if (s.specs.empty()) throw cli::UsageError("--specs: no specification given");
        }
        try {
            // A standard family the study cannot sweep says why; an unknown one lists the ids.
            for (const auto& family : numeric::standardFamilies())
                if (family.id() == s.family)
                    if (auto refusal = study::precisionRefusal(family.at(family.first())); refusal && s.specs.empty())
                        throw cli::UsageError("--family " + s.family + ": " + *refusal);
            study::precisionFamily(s.family);
            s.rounding = numeric::parseRounding(args.get("rounding"));
            s.distribution = study::parseDistribution(args.get("distribution"));
        } catch (const std::invalid_argument& e) {
            throw cli::UsageError(e.what());
        }
        if (args.has("from")) s.firstPosition = int(args.getInt("from", 0, 64));
        if (args.has("to")) s.lastPosition = int(args.getInt("to", 0, 64));
        const std::string scales = args.get("scales");
        if (scales == "tiles") s.scalePlacement = numeric::ScalePlacement::TransformedTiles;
        else if (scales != "operands") throw cli::UsageError("--scales: expected operands or tiles, got '" + scales + "'");
        if (args.has("scales") && (!s.specs.empty() || !study::precisionFamily(s.family).blockScaled))
            throw cli::UsageError("--scales places a block-scaled family's blocks (--family mxfp4, nvfp4, ...); a listed spec "
                                  "says it itself (mxfp4/fp32:scales=tiles)");
        const std::string accumulate = args.get("accumulate");
        if (accumulate == "format") s.accumulation = study::Accumulation::InFormat;
        else if (accumulate == "fp32") s.accumulation = study::Accumulation::Fp32;
        else throw cli::UsageError("--accumulate: expected format or fp32, got '" + accumulate + "'");
        s.trials = int(args.getInt("trials", 1, 10000));
        s.engine = cli::emulationFromArgs(args);
        s.seed = static_cast<std::uint64_t>(args.getInt("seed", 0, (1ll << 62)));
        // Binary float families run on the fast engine: a real layer by default (about 5 s for e5 on
        // 2 cores, 40 s for e8). Fixed point and LNS run on the reference: a small layer.
        // Block-scaled families store float32 values: the fast engine's lanes too.
        const bool fastFamily = s.specs.empty() && (study::precisionFamily(s.family).blockScaled ||
                                                    numeric::standardFamily(s.family).at(numeric::standardFamily(s.family).first()).kind ==
                                                        numeric::FormatKind::Float);
        if (s.operation.id() == "conv" && fastFamily && s.engine == numeric::EmulationEngine::Fast)
            s.conv = study::precisionLayerPresets().front().layer;
        if (args.has("shape")) {
            study::ProblemShapes shapes = s.shapes();
            const auto dims = args.getIntList("shape");
            if (auto error = s.operation.setShape(shapes, {dims.begin(), dims.end()}))
                throw cli::UsageError("--shape: " + *error);
            s.conv = shapes.conv, s.m = shapes.m, s.k = shapes.k, s.n = shapes.n;
        }
        const std::string dir = args.get("out");
        cli::ensureDirectory(dir);
        cli::SweepTables tables("precision", args);
        const study::Table table = tables.sliced(study::precisionChart(s).id, [&](const study::Shard& shard) {
            cli::TerminalProgress bar("precision");
            study::PrecisionSweep slice = s;
            slice.shard = shard;
            return study::runPrecisionSweep(slice, Progress([&](double f) { bar(f); }, nullptr));
        });
        if (tables.sharding()) return tables.finishShard();
        cli::writeFigure(dir, table, study::precisionChart(s));
        return 0;
    };
    return c;
}
