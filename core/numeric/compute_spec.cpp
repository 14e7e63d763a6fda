#include "numeric/compute_spec.hpp"

#include <charconv>
#include <stdexcept>
#include <vector>

namespace ks::numeric {

ComputeSpec ComputeSpec::uniform(const Format& f, Rounding r) {
    return mixed(f, f, r);
}

ComputeSpec ComputeSpec::mixed(const Format& storage, const Format& accumulate, Rounding r) {
    ComputeSpec s;
    s.storage = storage;
    // Products of per-tensor scaled integers are exact integers times the product of the scales.
    s.product = storage.kind == FormatKind::ScaledInt && !(storage.scale > 0) ? Format::fp64() : storage;
    s.accumulate = accumulate;
    s.rounding = r;
    s.native = false;
    return s;
}

ComputeSpec ComputeSpec::scaled(const ScaledFormat& storage, const Format& accumulate, Rounding r) {
    validate(storage);
    ComputeSpec s = mixed(Format::fp32(), accumulate, r);
    s.product = Format::fp32();
    s.scaledStorage = storage;
    return s;
}

void quantizeOperand(const ComputeSpec& spec, std::span<double> values, ReductionLines lines) {
    if (spec.scaledStorage) quantizeScaled(values, lines, *spec.scaledStorage);
}

void quantizeOperand(const ComputeSpec& spec, std::span<float> values, ReductionLines lines) {
    if (spec.scaledStorage) quantizeScaled(values, lines, *spec.scaledStorage);
}

namespace {

std::vector<std::string> split(std::string_view text, char sep) {
    std::vector<std::string> parts;
    for (std::size_t start = 0;;) {
        const auto pos = text.find(sep, start);
        parts.emplace_back(text.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
        if (pos == std::string_view::npos) return parts;
        start = pos + 1;
    }
}

}  // namespace

const std::vector<ComputeSpecPreset>& computeSpecPresets() {
    static const std::vector<ComputeSpecPreset> presets = {
        {"volta-fp16-tc", "fp16/fp64/fp32:acc=tc4x24",
         "Fasi, Higham, Mikaitis, Pranesh, \"Numerical behavior of NVIDIA tensor cores\", PeerJ CS 7:e330 (2021), and their "
         "test suite (north-numerical-computing/tensor-cores-numerical-behavior): V100, products of 4 pairs exact, aligned "
         "without guard bits, truncated"},
        {"ampere-fp16-tc", "fp16/fp64/fp32:acc=tc8x25",
         "Fasi et al. (2021): A100 in binary16 mode adds 8 products at a time, and their suite's alignment test finds one "
         "bit more on the right than V100 (1 − (1 − 2^-24) gives 2^-24, not 2^-23)"},
        {"ampere-bf16-tc", "bf16/fp64/fp32:acc=tc8x25", "Fasi et al. (2021): A100's bf16 mode uses the binary16 mode's adder"},
        {"hopper-fp8", "e4m3/fp64/e8m13:acc=tc4x14",
         "DeepSeek-V3 technical report §3.5.2: FP8 GEMM on H800 retains about 14 bits in accumulation (FP22: 8 exponent, "
         "13 mantissa bits); the group size is not published, 4 is assumed as measured on V100"},
        {"hopper-fp8-promoted", "e4m3/fp64/e8m13:acc=tc4x14,promote128",
         "DeepSeek-V3 technical report §3.5.2: partial sums promoted to float32 CUDA-core registers every 128 elements of K"},
    };
    return presets;
}

ComputeSpec parseComputeSpec(std::string_view text) {
    const std::string quoted = "compute spec '" + std::string(text) + "'";
    if (text == "native" || text == "fp32-native") return ComputeSpec::nativeFloat32();
    for (const ComputeSpecPreset& preset : computeSpecPresets())
        if (text == preset.name) return parseComputeSpec(preset.spec);
    const auto parts = split(text, ':');
    const auto formats = split(parts[0], '/');
    if (parts[0].empty() || formats.size() > 3)
        throw std::invalid_argument(quoted + ": expected native, F, S/A or S/P/A (formats), then optional :MODE "
                                             "and :seed=N");
    std::vector<Format> f;
    std::optional<ScaledFormat> scaled;
    for (std::size_t i = 0; i < formats.size(); ++i) {
        try {
            if (auto s = parseScaledFormat(formats[i])) {
                if (i > 0)
                    throw FormatError(formats[i] + " is a scaled storage format: it can only be the first (storage) "
                                      "format; products and sums need an element-wise one");
                if (formats.size() == 1)
                    throw FormatError(formats[i] + " is a storage format: give the accumulation format after it, e.g. " +
                                      formats[i] + "/fp32");
                scaled = s;
                f.push_back(Format::fp32());
                continue;
            }
            f.push_back(parseFormat(formats[i]));
        } catch (const FormatError& e) {
            throw FormatError(quoted + ": " + e.what());
        }
    }
    ComputeSpec spec = scaled                 ? ComputeSpec::scaled(*scaled, f.back())
                       : formats.size() == 1 ? ComputeSpec::uniform(f[0])
                       : formats.size() == 2 ? ComputeSpec::mixed(f[0], f[1])
                                             : ComputeSpec::mixed(f[0], f[2]);
    if (formats.size() == 3) spec.product = f[1];
    for (std::size_t i = 1; i < parts.size(); ++i) {
        const std::string& p = parts[i];
        if (p.rfind("acc=", 0) == 0) {
            try {
                spec.accumulation = parseAccumulatorModel(std::string_view(p).substr(4));
            } catch (const std::invalid_argument& e) {
                throw std::invalid_argument(quoted + ": " + e.what());
            }
            continue;
        }
        if (p.rfind("scales=", 0) == 0) {
            const std::string where = p.substr(7);
            if (where == "tiles") spec.scalePlacement = ScalePlacement::TransformedTiles;
            else if (where == "operands") spec.scalePlacement = ScalePlacement::Operands;
            else throw std::invalid_argument(quoted + ": scales=" + where + ": expected scales=operands or scales=tiles");
            if (!spec.scaledStorage)
                throw std::invalid_argument(quoted + ": scales=" + where + " places a scaled storage format's blocks (mxfp4, "
                                                     "nvfp4, int4@block32, ...), and the storage format is element-wise");
            continue;
        }
        if (p.rfind("seed=", 0) == 0) {
            const char* first = p.data() + 5;
            const char* last = p.data() + p.size();
            auto [end, ec] = std::from_chars(first, last, spec.seed);
            if (ec != std::errc() || end != last || first == last)
                throw std::invalid_argument(quoted + ": seed must be a non-negative integer, got '" + p.substr(5) + "'");
            continue;
        }
        try {
            spec.rounding = parseRounding(p);
        } catch (const std::invalid_argument& e) {
            throw std::invalid_argument(quoted + ": " + e.what());
        }
    }
    const Format* stages[] = {&spec.product, &spec.accumulate};
    for (const Format* s : stages)
        if (s->kind == FormatKind::ScaledInt && !(s->scale > 0))
            throw std::invalid_argument(quoted + ": " + formatName(*s) +
                                        " is scaled per tensor and can only be the storage format");
    return spec;
}

namespace {

/// The formats part of a spec's name: storage, then products when they are not the default, then sums.
std::string stagesName(const ComputeSpec& spec) {
    if (spec.scaledStorage) {
        std::string name = scaledFormatName(*spec.scaledStorage);
        if (!(spec.product == Format::fp32())) name += "/" + formatName(spec.product);
        return name + "/" + formatName(spec.accumulate);
    }
    const ComputeSpec twoStage = ComputeSpec::mixed(spec.storage, spec.accumulate, spec.rounding);
    std::string name = formatName(spec.storage);
    if (twoStage.product == spec.product) {
        if (!(spec.accumulate == spec.storage)) name += "/" + formatName(spec.accumulate);
    } else {
        name += "/" + formatName(spec.product) + "/" + formatName(spec.accumulate);
    }
    return name;
}

}  // namespace

std::string computeSpecName(const ComputeSpec& spec) {
    if (spec.native) return "native";
    std::string name = stagesName(spec);
    if (spec.rounding != Rounding::NearestEven) name += ":" + roundingName(spec.rounding);
    if (spec.seed != 0) name += ":seed=" + std::to_string(spec.seed);
    if (!spec.accumulation.plain()) name += ":acc=" + accumulatorModelName(spec.accumulation);
    if (spec.scalePlacement == ScalePlacement::TransformedTiles) name += ":scales=tiles";
    for (const ComputeSpecPreset& preset : computeSpecPresets())
        if (name == preset.spec) return preset.name;
    return name;
}

}  // namespace ks::numeric
