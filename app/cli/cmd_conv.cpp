// `kernelscope-cli conv`: one convolution of .npy arrays with a chosen algorithm and arithmetic.
#include <iostream>

#include "cli_io.hpp"
#include "cmd_matmul.hpp"
#include "command.hpp"
#include "conv/conv2d.hpp"
#include "conv/conv_registry.hpp"
#include "numeric/compute_spec.hpp"

KS_CLI_COMMAND(convCommand) {
    ks::cli::Command c;
    c.name = "conv";
    c.summary = "Convolve an input with weights (PyTorch F.conv2d semantics) with a chosen algorithm";
    c.details =
        "A 2-D input (H×W) with a 2-D weight (R×S) is the single-channel case (bias: one value);\n"
        "a 4-D NCHW input takes 4-D KCRS weights (bias: K values). Cross-correlation, no kernel flip.\n"
        "--compute native runs the float32 fast path; any other specification (e.g. fp16, bf16,\n"
        "fp16/fp32) runs the same algorithm with every intermediate rounded, in double, written as\n"
        "float64. Algorithms: " + ks::conv::convAlgorithmNames() + ".";
    c.options = {{"input", "X.npy", "input array (H×W or N×C×H×W)", true, ""},
                 {"weight", "W.npy", "weights (R×S or K×C×R×S)", true, ""},
                 {"bias", "B.npy", "bias (one value, or K values)", false, ""},
                 {"algo", "NAME", "algorithm or alias", false, "direct"},
                 {"stride", "S", "stride (both directions)", false, "1"},
                 {"padding", "P", "zero padding (both directions)", false, "0"},
                 {"compute", "SPEC", "compute specification (native, fp16, bf16, fp16/fp32, ...)", false, "native"},
                 ks::cli::emulationOption(),
                 {"out", "Y.npy", "output array", true, ""}};
    c.run = [](const ks::cli::Args& args) {
        const std::string algo = args.get("algo");
        try {
            ks::conv::convAlgorithm(algo);
        } catch (const std::invalid_argument& e) {
            throw ks::cli::UsageError(e.what());
        }
        const auto stride = args.getInt("stride", 1, 1 << 20);
        const auto padding = args.getInt("padding", 0, 1 << 20);
        ks::numeric::ComputeSpec spec;
        try {
            spec = ks::numeric::parseComputeSpec(args.get("compute"));
        } catch (const std::invalid_argument& e) {
            throw ks::cli::UsageError(std::string("--compute: ") + e.what());
        }
        if (spec.native) {
            const ks::TensorF x = ks::cli::readArrayF(args, "input");
            const ks::TensorF w = ks::cli::readArrayF(args, "weight");
            ks::TensorF b;
            if (args.has("bias")) b = ks::cli::readArrayF(args, "bias");
            const ks::TensorF y = ks::conv::conv2d(x, w, args.has("bias") ? &b : nullptr, algo, stride, padding);
            ks::cli::writeArray(args.get("out"), y);
            std::cout << "wrote " << args.get("out") << " " << ks::shapeToString(y.shape()) << " (float32, " << algo
                      << ")\n";
        } else {
            const ks::TensorD x = ks::cli::readArrayD(args, "input");
            const ks::TensorD w = ks::cli::readArrayD(args, "weight");
            ks::TensorD b;
            if (args.has("bias")) b = ks::cli::readArrayD(args, "bias");
            const ks::TensorD y =
                ks::conv::conv2d(x, w, args.has("bias") ? &b : nullptr, algo, spec, stride, padding,
                                 ks::cli::emulationFromArgs(args));
            ks::cli::writeArray(args.get("out"), y);
            std::cout << "wrote " << args.get("out") << " " << ks::shapeToString(y.shape()) << " (float64, " << algo
                      << ", emulated " << ks::numeric::computeSpecName(spec) << ")\n";
        }
        return 0;
    };
    return c;
}
