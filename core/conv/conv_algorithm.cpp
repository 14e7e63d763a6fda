#include "conv/conv_algorithm.hpp"

#include <stdexcept>
#include <vector>

#include "base/isa.hpp"
#include "numeric/fast_arithmetic.hpp"
#include "numeric/modelled_dot.hpp"

namespace ks::conv {

std::string ConvAlgorithm::fastEmulationPath(const numeric::ComputeSpec& spec) const {
    if (auto reason = numeric::fastArithmeticRefusal(spec)) return "reference: " + *reason;
    return "double";
}

std::string ConvAlgorithm::fastEmulationPath(const numeric::ComputeSpec& spec, const std::optional<std::string>& laneRefusal) {
    if (!laneRefusal) return "float32 " + isaName(activeIsa());
    const auto doubleRefusal = numeric::fastArithmeticRefusal(spec);
    if (!doubleRefusal) return "double";
    if (spec.rounding != numeric::Rounding::NearestEven && !spec.native) return "reference: " + *laneRefusal;
    return "reference: " + *doubleRefusal;
}

std::string ConvAlgorithm::fastEmulationPath(const numeric::ComputeSpec& spec, const std::optional<std::string>& laneRefusal,
                                            bool modelsAccumulation) {
    if (modelsAccumulation && !spec.accumulation.plain() && !numeric::accumulatorRefusal(spec))
        return spec.accumulation.order == numeric::SummationOrder::TensorCore ? "modelled, 8 outputs side by side"
                                                                              : "modelled, one output at a time";
    return fastEmulationPath(spec, laneRefusal);
}

void ConvAlgorithm::check(const ConvProblem& problem) const {
    problem.validate();
    if (auto reason = supports(problem))
        throw std::invalid_argument(name() + " cannot compute " + problem.toString() + ": " + *reason);
}

std::unique_ptr<ConvPlan> ConvAlgorithm::plan(const ConvProblem& problem, const float* weight) const {
    check(problem);
    return doPlan(problem, weight);
}

void ConvAlgorithm::run(const ConvProblem& problem, const float* input, const float* weight, const float* bias,
                        float* output) const {
    plan(problem, weight)->execute(input, bias, output);
}

void ConvAlgorithm::run(const ConvProblem& problem, const double* input, const double* weight,
                        const double* bias, double* output) const {
    check(problem);
    doRun(problem, input, weight, bias, output);
}

std::optional<std::string> ConvAlgorithm::emulationRefusal(const numeric::ComputeSpec& spec) const {
    if (spec.accumulation.plain()) return std::nullopt;
    if (!modelsAccumulation())
        return "its sums run through the transforms' butterflies, not dot products of stored operands: the accumulator "
               "model " + numeric::accumulatorModelName(spec.accumulation) + " is modelled for direct, im2col and Winograd";
    return numeric::accumulatorRefusal(spec);
}

void ConvAlgorithm::run(const ConvProblem& problem, const double* input, const double* weight,
                        const double* bias, double* output, numeric::EmulatedArithmetic& arithmetic) const {
    check(problem);
    if (auto reason = emulationRefusal(arithmetic.spec()))
        throw std::invalid_argument(name() + " cannot emulate " + numeric::computeSpecName(arithmetic.spec()) + ": " + *reason);
    doRun(problem, input, weight, bias, output, arithmetic);
}

void quantizeConvOperands(const ConvProblem& p, const numeric::ComputeSpec& spec, std::vector<double>& input,
                          std::vector<double>& weight) {
    numeric::quantizeOperand(spec, input, {p.N, p.C, p.H * p.W});
    numeric::quantizeOperand(spec, weight, {p.K, p.C, p.R * p.S});
}

void ConvAlgorithm::runEmulated(const ConvProblem& problem, const double* input, const double* weight, const double* bias,
                                double* output, const numeric::ComputeSpec& spec, numeric::EmulationEngine engine,
                                std::uint32_t tensorBase) const {
    numeric::EmulatedArithmetic arithmetic(spec.elementwise(), engine);
    arithmetic.setTensorBase(tensorBase);
    if (!spec.scaledStorage) return run(problem, input, weight, bias, output, arithmetic);
    check(problem);
    if (auto reason = emulationRefusal(spec))
        throw std::invalid_argument(name() + " cannot emulate " + numeric::computeSpecName(spec) + ": " + *reason);
    if (spec.scalePlacement == numeric::ScalePlacement::TransformedTiles && transformsOperands())
        return doRunScaledTiles(problem, input, weight, bias, output, arithmetic, *spec.scaledStorage);
    std::vector<double> x(input, input + problem.inputCount()), w(weight, weight + problem.weightCount());
    quantizeConvOperands(problem, spec, x, w);
    doRun(problem, x.data(), w.data(), bias, output, arithmetic);
}

void ConvAlgorithm::doRunScaledTiles(const ConvProblem&, const double*, const double*, const double*, double*,
                                     numeric::EmulatedArithmetic&, const numeric::ScaledFormat&) const {
    throw std::logic_error(name() + " does not transform its operands: it has no tiles to scale");
}

}  // namespace ks::conv
