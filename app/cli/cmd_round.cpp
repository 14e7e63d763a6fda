// `kernelscope-cli round`: round an .npy array to a number format; `kernelscope-cli formats`: list them.
#include <iostream>
#include <limits>
#include <random>

#include "command.hpp"
#include "io/npy.hpp"
#include "numeric/error_metrics.hpp"
#include "numeric/format_family.hpp"
#include "numeric/compute_spec.hpp"
#include "numeric/mx.hpp"
#include "numeric/scaled_format.hpp"
#include "numeric/round.hpp"

namespace {

namespace kn = ks::numeric;

std::string mxNameList() {
    std::string out;
    for (const std::string& n : kn::mxNames()) out += (out.empty() ? "" : ", ") + n;
    return out;
}

kn::Format formatOption(const ks::cli::Args& args) {
    try {
        return kn::parseFormat(args.get("format"));
    } catch (const kn::FormatError& e) {
        throw ks::cli::UsageError(std::string("--format: ") + e.what() + "; or an MX format: " + mxNameList());
    }
}

kn::Rounding roundingOption(const ks::cli::Args& args) {
    try {
        return kn::parseRounding(args.get("rounding"));
    } catch (const std::invalid_argument& e) {
        throw ks::cli::UsageError(std::string("--rounding: ") + e.what());
    }
}

template <class T>
kn::ErrorMetrics roundTensor(ks::Tensor<T>& tensor, const kn::Format& format, kn::Rounding rounding,
                             const kn::RandomKey& key, double& scale) {
    const std::vector<double> original(tensor.storage().begin(), tensor.storage().end());
    if (format.kind == kn::FormatKind::ScaledInt && !(format.scale > 0))
        scale = kn::scaledIntScale(std::span<const T>(tensor.span()), format.intBits);
    kn::roundInPlace(tensor.span(), format, rounding, &key);
    return kn::errorMetrics(std::span<const T>(tensor.span()), std::span<const double>(original));
}

/// A scaled format (MX, NVFP4, F@channel|@blockN|@tensor), its lines along the last axis: quantise-dequantise `tensor`.
template <class T>
kn::ErrorMetrics roundTensorScaled(ks::Tensor<T>& tensor, const kn::ScaledFormat& format) {
    if (tensor.rank() < 1 || tensor.empty()) throw std::runtime_error("a scaled format needs a non-empty array");
    const std::vector<double> original(tensor.storage().begin(), tensor.storage().end());
    const std::int64_t last = tensor.dim(tensor.rank() - 1);
    kn::quantizeScaled(tensor.span(), {std::int64_t(tensor.size()) / last, last, 1}, format);
    return kn::errorMetrics(std::span<const T>(tensor.span()), std::span<const double>(original));
}

}  // namespace

KS_CLI_COMMAND(roundCommand) {
    ks::cli::Command c;
    c.name = "round";
    c.summary = "Round an .npy array (float32 or float64) to a number format";
    c.details =
        "The output keeps the input's dtype and shape; every element is the input rounded once to the format\n"
        "(an intN format without @scale is quantised per tensor, scale = max|x| / (2^(N-1) - 1)).\n"
        "Formats: fp64 fp32 tf32 fp16 bf16 e4m3 e5m2 fp8, eXmY[-fn|-ieee][-nosub][-sat|-inf], fixedW.F,\n"
        "intN[@scale], lnsW.F (see `kernelscope-cli formats`), and the scaled formats: OCP MX mxfp8-e4m3 (mxfp8),\n"
        "mxfp8-e5m2, mxfp6-e3m2, mxfp6-e2m3, mxfp4, mxint8 (blocks of 32 share an E8M0 scale), nvfp4 (blocks of 16,\n"
        "E4M3 scales, a float32 tensor scale), F@tensor|@channel|@blockN (a float32 scale): the blocks and channels\n"
        "run along the last axis (nearest-even, saturating; a shorter last block is its own). Prints the rounding\n"
        "error against the input.";
    c.options = {{"format", "F", "target format, e.g. fp16, e4m3, e5m10-nosub, fixed16.8, int8, lns8.3", true, ""},
                 {"in", "X.npy", "input array", true, ""},
                 {"out", "Y.npy", "output array (written atomically)", true, ""},
                 {"rounding", "MODE", "nearest, toward-zero, up, down or stochastic", false, "nearest"},
                 {"seed", "S", "seed of the stochastic rounding's random bits", false, "0"}};
    c.run = [](const ks::cli::Args& args) {
        std::optional<kn::ScaledFormat> scaled;
        try {
            scaled = kn::parseScaledFormat(args.get("format"));
        } catch (const kn::FormatError& e) {
            throw ks::cli::UsageError(std::string("--format: ") + e.what());
        }
        if (scaled) {
            if (args.get("rounding") != "nearest")
                throw ks::cli::UsageError("--rounding: the scaled formats round to nearest, ties to even (as OCP MX v1.0)");
            ks::io::NpyArray array = ks::io::readNpy(args.get("in"));
            kn::ErrorMetrics metrics;
            if (auto* f = std::get_if<ks::TensorF>(&array.tensor)) {
                metrics = roundTensorScaled(*f, *scaled);
                ks::io::writeNpy(args.get("out"), *f);
            } else {
                auto& d = std::get<ks::TensorD>(array.tensor);
                metrics = roundTensorScaled(d, *scaled);
                ks::io::writeNpy(args.get("out"), d);
            }
            std::cout << "rounded " << (metrics.count + metrics.nonFinite + metrics.referenceNonFinite) << " values to "
                      << kn::scaledFormatName(*scaled) << " (" << kn::describe(*scaled) << ", along the last axis)\nerror vs input: "
                      << kn::toString(metrics) << '\n';
            return 0;
        }
        const kn::Format format = formatOption(args);
        const kn::Rounding rounding = roundingOption(args);
        const long long seed = args.getInt("seed", 0, std::numeric_limits<long long>::max());
        // Element i draws at site (seed, tensor Input, i): the same bits as any store of this array.
        const kn::RandomKey key = kn::randomKey(static_cast<std::uint64_t>(seed), kn::randomTensor(kn::RandomTensor::Input));
        ks::io::NpyArray array = ks::io::readNpy(args.get("in"));
        double scale = 0;
        kn::ErrorMetrics metrics;
        const char* dtype = "float64";
        if (auto* f = std::get_if<ks::TensorF>(&array.tensor)) {
            metrics = roundTensor(*f, format, rounding, key, scale);
            ks::io::writeNpy(args.get("out"), *f);
            dtype = "float32";
        } else {
            auto& d = std::get<ks::TensorD>(array.tensor);
            metrics = roundTensor(d, format, rounding, key, scale);
            ks::io::writeNpy(args.get("out"), d);
        }
        std::cout << "rounded " << (metrics.count + metrics.nonFinite + metrics.referenceNonFinite) << ' ' << dtype
                  << " values to " << kn::formatName(format) << " (" << kn::roundingName(rounding) << ")";
        if (scale > 0) std::cout << ", per-tensor scale " << scale;
        std::cout << "\nerror vs input: " << kn::toString(metrics) << '\n';
        return 0;
    };
    return c;
}

KS_CLI_COMMAND(formatsCommand) {
    ks::cli::Command c;
    c.name = "formats";
    c.summary = "List the number formats (presets with range, smallest subnormal, epsilon) and slider families";
    c.options = {{"describe", "F", "describe one format name instead of listing", false, ""}};
    c.run = [](const ks::cli::Args& args) {
        if (args.has("describe")) {
            try {
                if (const auto scaled = kn::parseScaledFormat(args.get("describe"))) {
                    std::cout << kn::scaledFormatName(*scaled) << ": " << kn::describe(*scaled) << '\n';
                    return 0;
                }
                std::cout << kn::describe(kn::parseFormat(args.get("describe"))) << '\n';
            } catch (const kn::FormatError& e) {
                throw ks::cli::UsageError(std::string("--describe: ") + e.what());
            }
            return 0;
        }
        std::cout << "Presets:\n";
        for (const char* name : {"fp64", "fp32", "tf32", "fp16", "bf16", "e5m2", "e4m3", "e4m3-ieee", "fixed16.8",
                                 "fixed8.4", "int8", "int4", "lns8.3", "lns16.10"})
            std::cout << "  " << kn::describe(kn::parseFormat(name)) << '\n';
        std::cout << "\nSlider families:\n";
        for (const auto& family : kn::standardFamilies()) {
            std::cout << "  " << family.id() << ": " << family.label() << " (" << kn::formatName(family.at(family.first()))
                      << " … " << kn::formatName(family.at(family.last())) << ")";
            const auto presets = family.presets();
            if (!presets.empty()) {
                std::cout << "; presets";
                for (const auto& p : presets) std::cout << ' ' << p.name << '@' << p.position;
            }
            std::cout << '\n';
        }
        std::cout << "\nScaled storage formats (a compute spec's storage, e.g. mxfp4/fp32; `round` along the last axis):\n";
        for (const char* name : {"mxfp8-e4m3", "mxfp8-e5m2", "mxfp6-e3m2", "mxfp6-e2m3", "mxfp4", "mxint8", "nvfp4",
                                 "e4m3@channel", "int4@block64", "int8@tensor"})
            std::cout << "  " << name << ": " << kn::describe(*kn::parseScaledFormat(name)) << '\n';
        std::cout << "  Grammar: an MX name or nvfp4, optionally @blockN (mxfp4@block16); F@tensor, F@channel or F@blockN for a\n"
                     "  float format F or intN. Blocks and channels run along the reduction axis: a matrix product's K, a\n"
                     "  convolution's input channels C, a layer's input features (each sample its own tensor).\n"
                     "  In a compute spec, :scales=tiles puts the blocks on Winograd's transformed tiles and the FFT's spectra\n"
                     "  (real and imaginary parts each), the operands of their batched products, instead of the spatial\n"
                     "  operands (:scales=operands, the default): mxfp4/fp32:scales=tiles. Direct and im2col multiply their\n"
                     "  operands themselves (the two are one there); the network refuses it (a per-layer study).\n";
        std::cout << "\nAccumulator models (compute spec suffix :acc=MODEL, e.g. fp16/fp64/fp32:acc=tc4x24):\n"
                     "  sequential (default), pairwise, blockedN, kahan, tcNxB (tensor-core groups of N products aligned\n"
                     "  to B bits and truncated), each optionally with ,promoteN (partial sums into float32 every N).\n";
        std::cout << "\nCompute spec presets (--compute NAME):\n";
        for (const auto& preset : kn::computeSpecPresets())
            std::cout << "  " << preset.name << " = " << preset.spec << "\n      " << preset.source << '\n';
        std::cout << "\nGrammar: eXmY (X 2…11, Y 0…52) with suffixes -fn (OCP finite-only), -ieee, -nosub, -sat, -inf;\n"
                     "fixedW.F (W 2…53), intN[@scale] (N 2…32), lnsW.F (sign + (W-1)-bit log2|x|, F fraction bits).\n";
        return 0;
    };
    return c;
}
