// Inference with the Linear products done by any method of core/matmul's registry.

#include "nn/layer_kernels.hpp"
#include "nn/model.hpp"

namespace ks::nn {

namespace {

/// C (N×out) = A (N×in) · Wᵀ through `method`; W is out×in row-major, so B = Wᵀ is copied once.
MatrixF product(const MatrixF& a, const MatrixF& w, const matmul::MatmulAlgorithm& method,
                const matmul::MatmulOptions& options, matmul::MatmulReport* report) {
    const MatrixF b = w.transpose();
    MatrixF c(a.rows(), w.rows());
    matmul::MatmulProblem problem;
    problem.m = a.rows();
    problem.k = a.cols();
    problem.n = w.rows();
    if (const auto reason = method.supports(problem, options))
        throw ModelError("matmul algorithm '" + method.name() + "' cannot run " + problem.toString() + ": " + *reason);
    const matmul::MatmulReport r =
        method.run(problem, std::span<const float>(a.data(), std::size_t(a.size())),
                   std::span<const float>(b.data(), std::size_t(b.size())), std::span<float>(c.data(), std::size_t(c.size())),
                   options);
    if (report) {
        report->inputOverflows += r.inputOverflows;
        report->inputUnderflows += r.inputUnderflows;
        report->accumulatorOverflows += r.accumulatorOverflows;
        report->accumulatorUnderflows += r.accumulatorUnderflows;
        report->outputOverflows += r.outputOverflows;
        report->outputUnderflows += r.outputUnderflows;
    }
    return c;
}

}  // namespace

MatrixF Model::forward(const MatrixF& input, const matmul::MatmulAlgorithm& method, const matmul::MatmulOptions& options,
                       matmul::MatmulReport* report) const {
    if (input.cols() != inputFeatures())
        throw ModelError("the model takes " + std::to_string(inputFeatures()) + " features per sample, the input has " +
                         std::to_string(input.cols()));
    if (hasConvolutions())
        throw ModelError("matmul methods run networks of Linear layers only; this network's convolutions run "
                         "through the conv registry (choose their algorithm and compute spec instead)");
    MatrixF a = input;
    for (const auto& l : layers_) {
        switch (l.kind) {
            case LayerKind::Linear:
                a = product(a, l.weight, method, options, report);
                if (l.bias.size()) a.rowwise() += l.bias.transpose();
                break;
            case LayerKind::LowRankLinear:
                a = product(product(a, l.down, method, options, report), l.up, method, options, report);
                if (l.bias.size()) a.rowwise() += l.bias.transpose();
                break;
            case LayerKind::ReLU: a = a.cwiseMax(0.0f); break;
            case LayerKind::Conv2d:
            case LayerKind::MaxPool2d:
            case LayerKind::Flatten: break;  // excluded above
            case LayerKind::LogSoftmax: detail::logSoftmaxRows(a); break;
        }
    }
    return a;
}

}  // namespace ks::nn
