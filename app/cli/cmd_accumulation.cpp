// `kernelscope-cli accumulation`: the accumulation stage alone — dot products under each accumulator model, swept over
// one parameter, the running sum's error (swamping), and optionally the digit network's accuracy under listed
// compute specifications (CSV + PNG each).
#include <iostream>
#include <sstream>

#include "cli_charts.hpp"
#include "cli_io.hpp"
#include "command.hpp"
#include "sweep_tables.hpp"
#include "study/accumulation_study.hpp"
#include "study/network_precision.hpp"

KS_CLI_COMMAND(accumulationCommand) {
    ks::cli::Command c;
    c.name = "accumulation";
    c.summary = "Dot-product error under accumulator models: width, length, group, promotion (CSV + PNG)";
    c.details =
        "Operands are stored in --operand (element-wise, or scaled such as mxfp8), their products kept exact, and the\n"
        "sums made under each model: sequential, pairwise, blocked, kahan, tensor core (groups aligned and truncated,\n"
        "Fasi et al.) and tensor core promoted into float32 (DeepSeek-V3), in an accumulator of B significant bits\n"
        "(e8m(B-1)). Writes DIR/accumulation-<axis>.csv/.png and DIR/accumulation-swamping.csv/.png (the running\n"
        "sum's error after k products). With --network, also the digit MLP's accuracy under each listed compute\n"
        "specification: DIR/network-accuracy-specs.csv/.png.";
    c.options = {
        {"out", "DIR", "folder for the CSVs and PNGs", true, ""},
        {"operand", "F", "the operands' format: fp16, bf16, e4m3, mxfp8, nvfp4, ...", false, "fp16"},
        {"axis", "A", "bits, length, group or promotion", false, "bits"},
        {"values", "N,N,...", "the axis's values (default: bits 4…24; lengths 16…16384; groups 1…64; intervals 16…4096)", false, ""},
        {"bits", "B", "accumulator significant bits when not swept (3…24)", false, "14"},
        {"length", "K", "products per dot product when not swept", false, "4096"},
        {"group", "N", "tensor-core group size when not swept", false, "4"},
        {"promote", "N", "promotion interval when not swept", false, "128"},
        {"models", "M,M,...", "sequential, pairwise, blocked, kahan, \"tensor core\", \"tensor core, promoted\" (default: all)", false, ""},
        {"signed", "", "operands in [-1, 1) instead of [0, 1) (sums cancel instead of growing)", false, ""},
        {"dots", "N", "dot products per point", false, "64"},
        {"seed", "S", "random seed", false, "1"},
        {"network", "\"S1 S2 ...\"", "compute specifications (space-separated) to run the digit MLP under", false, ""},
        {"digits", "N", "with --network: test digits per specification (0: all 2,000)", false, "0"},
        ks::cli::shardOption(),
    };
    c.run = [](const ks::cli::Args& args) {
        using namespace ks;
        study::AccumulationSweep s;
        s.operand = args.get("operand");
        const std::string axis = args.get("axis");
        if (axis == "bits") s.axis = study::AccumulationAxis::AccumulatorBits;
        else if (axis == "length") s.axis = study::AccumulationAxis::Length;
        else if (axis == "group") s.axis = study::AccumulationAxis::GroupSize;
        else if (axis == "promotion") s.axis = study::AccumulationAxis::PromoteInterval;
        else throw cli::UsageError("--axis: expected bits, length, group or promotion, got '" + axis + "'");
        if (args.has("values"))
            for (long long v : args.getIntList("values")) s.values.push_back(int(v));
        s.accumulatorBits = int(args.getInt("bits", 3, 24));
        s.length = int(args.getInt("length", 1, 1 << 22));
        s.groupSize = int(args.getInt("group", 1, 64));
        s.promoteEvery = int(args.getInt("promote", 1, 1 << 22));
        if (args.has("models")) {
            // Names hold commas ("tensor core, promoted"): split on commas not followed by a space.
            s.models.clear();
            const std::string text = args.get("models");
            std::string current;
            for (std::size_t i = 0; i < text.size(); ++i) {
                if (text[i] == ',' && (i + 1 == text.size() || text[i + 1] != ' ')) {
                    s.models.push_back(current);
                    current.clear();
                } else {
                    current += text[i];
                }
            }
            s.models.push_back(current);
        }
        s.positive = !args.flag("signed");
        s.dots = int(args.getInt("dots", 1, 100000));
        s.seed = static_cast<std::uint64_t>(args.getInt("seed", 0, (1ll << 62)));
        std::vector<numeric::ComputeSpec> networkSpecs;
        if (args.has("network")) {
            std::istringstream names(args.get("network"));
            for (std::string name; names >> name;) {
                try {
                    networkSpecs.push_back(numeric::parseComputeSpec(name));
                } catch (const std::invalid_argument& e) {
                    throw cli::UsageError(std::string("--network: ") + e.what());
                }
            }
        }
        const std::string dir = args.get("out");
        cli::ensureDirectory(dir);
        cli::SweepTables tables("accumulation", args);
        study::Table sweep, swamping;
        try {
            sweep = tables.sliced(study::accumulationChart(s).id, [&](const study::Shard& shard) {
                cli::TerminalProgress bar("accumulation");
                study::AccumulationSweep slice = s;
                slice.shard = shard;
                return study::runAccumulationSweep(slice, Progress([&](double f) { bar(f); }, nullptr));
            });
            swamping = tables.whole(study::swampingChart(s).id, [&] {
                cli::TerminalProgress bar("swamping");
                return study::runSwamping(s, Progress([&](double f) { bar(f); }, nullptr));
            });
        } catch (const std::invalid_argument& e) {
            throw cli::UsageError(e.what());
        }
        study::Table accuracy;
        if (!networkSpecs.empty()) {
            accuracy = tables.sliced(study::specAccuracyChart().id, [&](const study::Shard& shard) {
                const auto embedded = study::CompressionStudy::embedded();
                study::CompressSweep options;
                options.measureTime = false;
                options.maxTestDigits = std::size_t(args.getInt("digits", 0, 1 << 20));
                options.shard = shard;
                cli::TerminalProgress networkBar("network");
                return study::specAccuracySweep(*embedded, embedded->dense(), networkSpecs, options,
                                                Progress([&](double f) { networkBar(f); }, nullptr));
            });
        }
        if (tables.sharding()) return tables.finishShard();
        cli::writeFigure(dir, sweep, study::accumulationChart(s));
        cli::writeFigure(dir, swamping, study::swampingChart(s));
        if (!networkSpecs.empty()) cli::writeFigure(dir, accuracy, study::specAccuracyChart());
        return 0;
    };
    return c;
}
