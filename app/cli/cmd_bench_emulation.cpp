// `kernelscope-cli bench emulation`: what faithful emulation costs. For each compute specification, the
// same product three ways in one run: native float32 (sgemm), the scalar reference emulation
// (EmulatedArithmetic) and the fast engine (matmul/emulated_gemm), with the fast engine's bits compared
// to the reference's.
#include <bit>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "base/parallel.hpp"
#include "base/timing.hpp"
#include "cli_io.hpp"
#include "command.hpp"
#include "base/isa.hpp"
#include "conv/conv_registry.hpp"
#include "io/mnist.hpp"
#include "matmul/dense_matmul.hpp"
#include "matmul/emulated_gemm.hpp"
#include "nn/model.hpp"
#include "nn/model_io.hpp"
#include "numeric/compute_spec.hpp"
#include "numeric/fast_arithmetic.hpp"
#include "numeric/lane_rounding.hpp"
#include "numeric/modelled_dot.hpp"
#include "numeric/scaled_format.hpp"

using ks::cli::number;

namespace {

/// Equal bit for bit, a NaN matching any NaN (its sign and payload are unspecified).
bool sameBits(const std::vector<float>& x, const std::vector<float>& y) {
    for (std::size_t i = 0; i < x.size(); ++i)
        if (std::bit_cast<std::uint32_t>(x[i]) != std::bit_cast<std::uint32_t>(y[i]) && !(std::isnan(x[i]) && std::isnan(y[i])))
            return false;
    return true;
}

bool sameBits(const ks::nn::MatrixF& x, const ks::nn::MatrixF& y) {
    return sameBits(std::vector<float>(x.data(), x.data() + x.size()), std::vector<float>(y.data(), y.data() + y.size()));
}

/// Which lanes the fast engine runs a spec on in an order: "float32 avx512", "double", "modelled, …"; block-scaled
/// storage runs its element-wise rest on them ("… after mxfp4").
/// `engine`: what a matrix product reported it ran on (empty: not known, told from the spec).
std::string lanesOf(const ks::numeric::ComputeSpec& spec, ks::numeric::EmulatedOrder order, const std::string& engine = {}) {
    const std::string after = spec.scaledStorage ? " after " + ks::numeric::scaledFormatName(*spec.scaledStorage) : "";
    if (!spec.accumulation.plain())
        return (spec.accumulation.order == ks::numeric::SummationOrder::TensorCore ? "modelled, 8 outputs side by side"
                                                                                   : "modelled, one output at a time") + after;
    if (!engine.empty()) return engine + after;
    const ks::numeric::ComputeSpec elementwise = spec.elementwise();
    if (!ks::numeric::laneRefusal(elementwise, order)) return "float32 " + ks::isaName(ks::activeIsa()) + after;
    // The network's layers look at their stored operands (tf32): float32 lanes where their range allows.
    if (ks::numeric::laneRefusalDependsOnData(elementwise, order))
        return "float32 " + ks::isaName(ks::activeIsa()) + " where the operands allow" + after;
    return "double" + after;
}

/// Why the fast engine does not run `spec` in `order`, or nothing: accumulator models run on the modelled dot product,
/// block-scaled storage quantises the operands and runs the element-wise rest.
std::optional<std::string> fastRefusal(const ks::numeric::ComputeSpec& spec, ks::numeric::EmulatedOrder order) {
    if (!spec.accumulation.plain()) return ks::numeric::accumulatorRefusal(spec);
    return ks::matmul::fastEngineRefusal(spec.elementwise(), order);
}

/// The first `count` rows.
ks::nn::MatrixF firstRows(const ks::nn::MatrixF& m, Eigen::Index count) { return m.topRows(std::min(count, m.rows())); }

}  // namespace

KS_CLI_COMMAND(benchEmulationCommand) {
    ks::cli::Command c;
    c.name = "bench emulation";
    c.summary = "Time emulated matrix products: native float32, the reference emulation and the fast engine";
    c.details =
        "One (M×K)·(K×N) product of uniform[−1, 1] data per compute specification and order (naive: each\n"
        "product rounded, then each sum; fma: one rounding per term, as dense), timed three ways in the same\n"
        "run: native float32 sgemm, the scalar reference emulation (EmulatedArithmetic, one thread, as the\n"
        "studies ran it), and the fast engine on every thread. Medians of repeats (--min-seconds each; the\n"
        "reference once when it is slow). 'slowdown' is fast / native, 'speed-up' reference / fast;\n"
        "'same bits' compares the fast engine's output with the reference's (a NaN matches any NaN);\n"
        "'lanes' says what the fast engine ran on (float32 lanes in the instruction set chosen, or double; formats with\n"
        "float32's exponent range, such as tf32, take float32 lanes where their stored operands' range allows).\n"
        "The mlp rows run the embedded digit MLP (784 → 512 → 128 → 10) on the 2,000 embedded test digits:\n"
        "native and fast on all of them (the network page's time per bit-width slider step), the reference\n"
        "once on the first --reference-digits (its time scaled per digit for the speed-up; the bits compared\n"
        "on those digits).\n"
        "The conv rows run every convolution algorithm on --conv-shape (default: the ResNet-style layer\n"
        "1,64,56,56→64, 3×3, padding 1): native is the algorithm's own float32 path (weights prepared once),\n"
        "the reference runs once, the fast engine on every thread; 'slowdown' is against that algorithm's own\n"
        "float32 speed.";
    c.options = {{"shape", "M,K,N", "the product", false, "256,256,256"},
                 {"specs", "LIST", "compute specifications", false, "fp16,bf16,e4m3,e5m2,fp16/fp32,bf16/fp32,tf32,fp32/e8m13"},
                 {"min-seconds", "S", "measure each row at least this long", false, "0.3"},
                 {"threads", "T", "threads of native and fast (default: all cores)", false, ""},
                 {"workloads", "LIST", "gemm (the product above), mlp (the digit MLP's forward pass), conv (every conv algorithm)", false, "gemm,mlp"},
                 {"conv-shape", "N,C,H,W,K,R[,stride,pad]", "the convolution of the conv rows", false, "1,64,56,56,64,3,1,1"},
                 {"reference-digits", "N", "digits the mlp rows run on the reference", false, "200"},
                 {"csv", "FILE", "also write spec,order,native_ms,reference_ms,fast_ms,slowdown,speedup,same_bits,lanes", false, ""}};
    c.run = [](const ks::cli::Args& args) {
        const auto dims = args.getIntList("shape");
        if (dims.size() != 3 || dims[0] < 1 || dims[1] < 1 || dims[2] < 1)
            throw ks::cli::UsageError("--shape: M,K,N, each positive");
        const std::int64_t m = dims[0], k = dims[1], n = dims[2];
        std::vector<ks::numeric::ComputeSpec> specs;
        for (const auto& name : args.getList("specs")) {
            try {
                specs.push_back(ks::numeric::parseComputeSpec(name));
            } catch (const std::invalid_argument& e) {
                throw ks::cli::UsageError(std::string("--specs: ") + e.what());
            }
        }
        const double minSeconds = args.getDouble("min-seconds");
        if (!(minSeconds >= 0) || minSeconds > 60) throw ks::cli::UsageError("--min-seconds: between 0 and 60");
        if (args.has("threads")) ks::setThreadCount(static_cast<int>(args.getInt("threads", 1, 256)));
        bool gemm = false, mlp = false, conv = false;
        for (const auto& w : args.getList("workloads")) {
            if (w == "gemm") gemm = true;
            else if (w == "mlp") mlp = true;
            else if (w == "conv") conv = true;
            else throw ks::cli::UsageError("--workloads: gemm, mlp, conv (got '" + w + "')");
        }
        const auto convDims = args.getIntList("conv-shape");
        if (convDims.size() != 6 && convDims.size() != 8)
            throw ks::cli::UsageError("--conv-shape: N,C,H,W,K,R or N,C,H,W,K,R,stride,pad");
        const ks::conv::ConvProblem convProblem = ks::conv::ConvProblem::layer(
            convDims[0], convDims[1], convDims[2], convDims[3], convDims[4], convDims[5],
            convDims.size() == 8 ? convDims[6] : 1, convDims.size() == 8 ? convDims[7] : 0);
        if (auto error = convProblem.validationError()) throw ks::cli::UsageError("--conv-shape: " + *error);
        const std::int64_t referenceDigits = args.getInt("reference-digits", 1, 2000);

        std::mt19937_64 rng(1);
        std::uniform_real_distribution<double> uniform(-1.0, 1.0);
        std::vector<float> a(std::size_t(m * k)), b(std::size_t(k * n)), native(std::size_t(m * n)),
            reference(native.size()), fast(native.size());
        for (float& x : a) x = static_cast<float>(uniform(rng));
        for (float& x : b) x = static_cast<float>(uniform(rng));
        const ks::TimingOptions timing{1, 3, 1000, minSeconds};
        const ks::TimingOptions once{0, 1, 1, 0};
        const double nativeSeconds =
            ks::measure([&] { ks::matmul::denseGemm(m, k, n, a.data(), b.data(), native.data()); }, timing).medianSeconds;

        ks::cli::Table table{{"spec", "order", "native ms", "reference ms", "fast ms", "fast GFLOP/s", "slowdown", "speed-up", "same bits", "lanes"}, {}};
        ks::cli::Table csv{{"spec", "order", "native_ms", "reference_ms", "fast_ms", "slowdown", "speedup", "same_bits", "lanes"}, {}};
        const double flops = 2.0 * double(m) * double(k) * double(n);
        for (const auto& spec : gemm ? specs : std::vector<ks::numeric::ComputeSpec>{}) {
            const std::string name = ks::numeric::computeSpecName(spec);
            for (const auto order : {ks::matmul::EmulatedOrder::RoundedProducts, ks::matmul::EmulatedOrder::FusedMultiplyAdd}) {
                const char* orderName = order == ks::matmul::EmulatedOrder::RoundedProducts ? "naive" : "fma";
                if (auto refusal = fastRefusal(spec, order)) {
                    table.rows.push_back({name, orderName, "", "", "", "", "", "", "not covered: " + *refusal, ""});
                    continue;
                }
                // Block-scaled storage: the operands quantised along K once, outside the timing (as stored weights).
                std::vector<float> as(a.begin(), a.end()), bs(b.begin(), b.end());
                ks::numeric::quantizeOperand(spec, std::span<float>(as), {m, k, 1});
                ks::numeric::quantizeOperand(spec, std::span<float>(bs), {1, k, n});
                ks::matmul::MatmulOptions options;
                options.compute = spec.elementwise();
                options.emulation = ks::matmul::Emulation::Reference;
                const ks::matmul::MatmulProblem problem{m, k, n, std::nullopt, std::nullopt};
                const double referenceSeconds =
                    ks::measure([&] { ks::matmul::emulatedProduct(order, problem, as, bs, reference, options); }, once).medianSeconds;
                options.emulation = ks::matmul::Emulation::Fast;
                ks::matmul::MatmulReport fastReport;
                const double fastSeconds =
                    ks::measure([&] { fastReport = ks::matmul::emulatedProduct(order, problem, as, bs, fast, options); }, timing)
                        .medianSeconds;
                const bool same = sameBits(fast, reference);
                const std::string lanes = lanesOf(spec, order, fastReport.engine);
                table.rows.push_back({name, orderName, number("%.3f", nativeSeconds * 1e3), number("%.1f", referenceSeconds * 1e3),
                                      number("%.2f", fastSeconds * 1e3), number("%.2f", flops / fastSeconds * 1e-9),
                                      number("%.0f×", fastSeconds / nativeSeconds), number("%.0f×", referenceSeconds / fastSeconds),
                                      same ? "yes" : "NO", lanes});
                csv.rows.push_back({name, orderName, number("%.6f", nativeSeconds * 1e3), number("%.3f", referenceSeconds * 1e3),
                                    number("%.4f", fastSeconds * 1e3), number("%.2f", fastSeconds / nativeSeconds),
                                    number("%.2f", referenceSeconds / fastSeconds), same ? "1" : "0", lanes});
                if (!same) std::cerr << "kernelscope-cli: the fast engine's bits differ from the reference's for " << name << "\n";
            }
        }
        if (mlp) {
            const ks::nn::Model model = ks::nn::loadModel("embedded");
            const ks::io::DigitSet test = ks::io::embeddedSplit().test;
            const ks::nn::MatrixF inputs = ks::nn::toMatrix(test.normalisedImages());
            const ks::nn::MatrixF referenceInputs = firstRows(inputs, referenceDigits);
            const double mlpFlops = double(inputs.rows()) * model.flopsPerSample();
            const double nativeMlp = ks::measure([&] { (void)model.forward(inputs); }, timing).medianSeconds;
            for (const auto& spec : specs) {
                const std::string name = ks::numeric::computeSpecName(spec);
                if (auto refusal = fastRefusal(spec, ks::numeric::EmulatedOrder::RoundedProducts)) {
                    table.rows.push_back({name, "mlp", "", "", "", "", "", "", "not covered: " + *refusal, ""});
                    continue;
                }
                ks::nn::InferenceOptions options;
                options.emulation = ks::matmul::Emulation::Reference;
                ks::nn::MatrixF referenceOut, fastOut;
                const double referenceSeconds =
                    ks::measure([&] { referenceOut = model.forward(referenceInputs, spec, options); }, once).medianSeconds *
                    double(inputs.rows()) / double(referenceInputs.rows());
                options.emulation = ks::matmul::Emulation::Fast;
                const double fastSeconds = ks::measure([&] { fastOut = model.forward(inputs, spec, options); }, timing).medianSeconds;
                const bool same = sameBits(firstRows(fastOut, referenceInputs.rows()), referenceOut);
                const auto order = ks::numeric::EmulatedOrder::RoundedProducts;
                const std::string lanes = lanesOf(spec, order);
                table.rows.push_back({name, "mlp", number("%.3f", nativeMlp * 1e3), number("%.1f", referenceSeconds * 1e3),
                                      number("%.2f", fastSeconds * 1e3), number("%.2f", mlpFlops / fastSeconds * 1e-9),
                                      number("%.0f×", fastSeconds / nativeMlp), number("%.0f×", referenceSeconds / fastSeconds),
                                      same ? "yes" : "NO", lanes});
                csv.rows.push_back({name, "mlp", number("%.6f", nativeMlp * 1e3), number("%.3f", referenceSeconds * 1e3),
                                    number("%.4f", fastSeconds * 1e3), number("%.2f", fastSeconds / nativeMlp),
                                    number("%.2f", referenceSeconds / fastSeconds), same ? "1" : "0", lanes});
                if (!same) std::cerr << "kernelscope-cli: the fast engine's bits differ from the reference's for the mlp in " << name << "\n";
            }
        }
        if (conv) {
            const ks::conv::ConvProblem& p = convProblem;
            std::vector<double> x(std::size_t(p.inputCount())), w(std::size_t(p.weightCount())), bias(std::size_t(p.K)),
                referenceOut(std::size_t(p.outputCount())), fastOut(referenceOut.size());
            for (double& v : x) v = static_cast<float>(uniform(rng));
            for (double& v : w) v = static_cast<float>(uniform(rng) / std::sqrt(double(p.C * p.R * p.S)));
            for (double& v : bias) v = static_cast<float>(uniform(rng) * 0.1);
            const std::vector<float> xf(x.begin(), x.end()), wf(w.begin(), w.end()), bf(bias.begin(), bias.end());
            std::vector<float> nativeOut(std::size_t(p.outputCount()));
            for (const ks::conv::ConvAlgorithm* algorithm : ks::conv::convAlgorithms()) {
                if (algorithm->supports(p)) continue;
                const auto plan = algorithm->plan(p, wf.data());
                const double convNativeSeconds =
                    ks::measure([&] { plan->execute(xf.data(), bf.data(), nativeOut.data()); }, timing).medianSeconds;
                for (const auto& spec : specs) {
                    const std::string name = ks::numeric::computeSpecName(spec);
                    const std::string workload = "conv " + algorithm->name();
                    if (auto refusal = algorithm->emulationRefusal(spec)) {  // an accumulator model it does not compute
                        table.rows.push_back({name, workload, "", "", "", "", "", "", "refused: " + *refusal, ""});
                        continue;
                    }
                    // Blocks on the operands: quantised, then the element-wise rest on the path named.
                    const bool operandBlocks = spec.scaledStorage && !(algorithm->transformsOperands() &&
                                                                       spec.scalePlacement == ks::numeric::ScalePlacement::TransformedTiles);
                    std::string lanes = algorithm->fastEmulationPath(operandBlocks ? spec.elementwise() : spec);
                    if (operandBlocks) lanes += " after " + ks::numeric::scaledFormatName(*spec.scaledStorage);
                    if (lanes.starts_with("reference")) {
                        table.rows.push_back({name, workload, "", "", "", "", "", "", "not covered: " + lanes, ""});
                        continue;
                    }
                    const double referenceSeconds = ks::measure([&] {
                        algorithm->runEmulated(p, x.data(), w.data(), bias.data(), referenceOut.data(), spec,
                                               ks::numeric::EmulationEngine::Reference);
                    }, once).medianSeconds;
                    const double fastSeconds = ks::measure([&] {
                        algorithm->runEmulated(p, x.data(), w.data(), bias.data(), fastOut.data(), spec, ks::numeric::EmulationEngine::Fast);
                    }, timing).medianSeconds;
                    const bool same = sameBits(std::vector<float>(fastOut.begin(), fastOut.end()),
                                               std::vector<float>(referenceOut.begin(), referenceOut.end()));
                    table.rows.push_back({name, workload, number("%.3f", convNativeSeconds * 1e3), number("%.1f", referenceSeconds * 1e3),
                                          number("%.2f", fastSeconds * 1e3), number("%.2f", p.flops() / fastSeconds * 1e-9),
                                          number("%.0f×", fastSeconds / convNativeSeconds), number("%.0f×", referenceSeconds / fastSeconds),
                                          same ? "yes" : "NO", lanes});
                    csv.rows.push_back({name, workload, number("%.6f", convNativeSeconds * 1e3), number("%.3f", referenceSeconds * 1e3),
                                        number("%.4f", fastSeconds * 1e3), number("%.2f", fastSeconds / convNativeSeconds),
                                        number("%.2f", referenceSeconds / fastSeconds), same ? "1" : "0", lanes});
                    if (!same) std::cerr << "kernelscope-cli: the fast engine's bits differ from the reference's for " << workload << " in " << name << "\n";
                }
            }
        }
        std::cout << "gemm: (" << m << "×" << k << ")·(" << k << "×" << n << "), native float32 "
                  << number("%.1f", flops / nativeSeconds * 1e-9) << " GFLOP/s; mlp: 2,000 digits; conv: " << convProblem.toString() << "; " << ks::threadCount()
                  << " thread(s) for native and fast, the reference on one; kernels for " << ks::isaName(ks::activeIsa()) << "\n"
                  << table.toText();
        if (args.has("csv")) ks::cli::writeText(args.get("csv"), csv.toCsv());
        return 0;
    };
    return c;
}
