#include "conv/conv2d.hpp"

#include <stdexcept>

#include "conv/conv_registry.hpp"

namespace ks::conv {

namespace {

template <class T>
const T* biasData(const ConvProblem& p, const Tensor<T>* bias) {
    if (!bias) return nullptr;
    if (static_cast<std::int64_t>(bias->size()) != p.K)
        throw std::invalid_argument("bias has " + std::to_string(bias->size()) + " values " +
                                    shapeToString(bias->shape()) + ", the convolution has " + std::to_string(p.K) +
                                    " output channels");
    return bias->data();
}

template <class T>
Shape outputShapeFor(const ConvProblem& p, const Tensor<T>& input) {
    if (input.rank() == 2) return {p.P(), p.Q()};
    return p.outputShape();
}

}  // namespace

TensorF conv2d(const TensorF& input, const TensorF& weight, const TensorF* bias, std::string_view algorithm,
               std::int64_t stride, std::int64_t padding) {
    const ConvProblem p = problemFromShapes(input.shape(), weight.shape(), stride, padding);
    const ConvAlgorithm& algo = convAlgorithm(algorithm);
    TensorF out(outputShapeFor(p, input));
    algo.run(p, input.data(), weight.data(), biasData(p, bias), out.data());
    return out;
}

TensorD conv2d(const TensorD& input, const TensorD& weight, const TensorD* bias, std::string_view algorithm,
               std::int64_t stride, std::int64_t padding) {
    const ConvProblem p = problemFromShapes(input.shape(), weight.shape(), stride, padding);
    const ConvAlgorithm& algo = convAlgorithm(algorithm);
    TensorD out(outputShapeFor(p, input));
    algo.run(p, input.data(), weight.data(), biasData(p, bias), out.data());
    return out;
}

TensorD conv2d(const TensorD& input, const TensorD& weight, const TensorD* bias, std::string_view algorithm,
               const numeric::ComputeSpec& spec, std::int64_t stride, std::int64_t padding,
               numeric::EmulationEngine engine) {
    if (spec.native) {
        const TensorF biasF = bias ? bias->cast<float>() : TensorF();
        return conv2d(input.cast<float>(), weight.cast<float>(), bias ? &biasF : nullptr, algorithm, stride, padding)
            .cast<double>();
    }
    const ConvProblem p = problemFromShapes(input.shape(), weight.shape(), stride, padding);
    const ConvAlgorithm& algo = convAlgorithm(algorithm);
    TensorD out(outputShapeFor(p, input));
    algo.runEmulated(p, input.data(), weight.data(), biasData(p, bias), out.data(), spec, engine);
    return out;
}

TensorF conv2dSingle(const TensorF& image, const TensorF& kernel, float bias, std::string_view algorithm) {
    if (image.rank() != 2 || kernel.rank() != 2)
        throw std::invalid_argument("conv2dSingle needs a 2-D image and a 2-D kernel, got " +
                                    shapeToString(image.shape()) + " and " + shapeToString(kernel.shape()));
    const TensorF b({1}, bias);
    return conv2d(image, kernel, &b, algorithm);
}

}  // namespace ks::conv
