// Convolution as the studies see it: conv::ConvProblem, the conv registry, conv::findConvAlgorithms.
#include <algorithm>
#include <stdexcept>

#include "conv/conv_find.hpp"
#include "conv/conv_registry.hpp"
#include "numeric/arithmetic.hpp"
#include "study/operation.hpp"
#include "study/runtime_study.hpp"

namespace ks::study {

namespace {

const conv::ConvAlgorithm& asConv(const Algorithm& algorithm) {
    const auto* a = dynamic_cast<const conv::ConvAlgorithm*>(&algorithm);
    if (!a) throw std::logic_error("'" + algorithm.name() + "' is not a convolution algorithm");
    return *a;
}

/// The first H×W plane (first image, first channel) of an NCHW tensor.
TensorD firstPlane(const TensorD& t, std::int64_t h, std::int64_t w) {
    TensorD plane({h, w});
    std::copy(t.data(), t.data() + h * w, plane.data());
    return plane;
}

class ConvOperation final : public OperationImpl {
public:
    ConvOperation() {
        for (const conv::ConvAlgorithm* a : conv::convAlgorithms()) algorithms_.push_back(a);
    }

    std::string id() const override { return "conv"; }
    std::string label() const override { return "Convolution"; }
    const std::vector<const Algorithm*>& algorithms() const override { return algorithms_; }
    const Algorithm& algorithm(std::string_view nameOrAlias) const override { return conv::convAlgorithm(nameOrAlias); }
    std::string everydayAlgorithm() const override { return conv::convRegistry().reference().name(); }

    void validate(const ProblemShapes& shapes) const override { shapes.conv.validate(); }
    std::string describe(const ProblemShapes& shapes) const override { return shapes.conv.toString(); }
    std::string shapeSyntax() const override { return "N,C,H,W,K,R[,stride,pad]"; }
    std::optional<std::string> setShape(ProblemShapes& shapes, const std::vector<std::int64_t>& d) const override {
        if (d.size() != 6 && d.size() != 8) return "conv needs " + shapeSyntax();
        const conv::ConvProblem p = conv::ConvProblem::layer(d[0], d[1], d[2], d[3], d[4], d[5], d.size() == 8 ? d[6] : 1,
                                                             d.size() == 8 ? d[7] : 0);
        if (auto error = p.validationError()) return error;
        shapes.conv = p;
        return std::nullopt;
    }
    std::pair<Shape, Shape> operandShapes(const ProblemShapes& shapes) const override {
        return {shapes.conv.inputShape(), shapes.conv.weightShape()};
    }
    TensorD exact(const ProblemShapes& shapes, const TensorD& a, const TensorD& b) const override {
        // The reference algorithm (direct) in double precision: its own tests check it against closed forms.
        TensorD y(shapes.conv.outputShape());
        conv::convRegistry().reference().run(shapes.conv, a.data(), b.data(), nullptr, y.data());
        return y;
    }

    std::optional<std::string> supports(const Algorithm& algorithm, const ProblemShapes& shapes, const numeric::ComputeSpec& spec,
                                        const numeric::Format&) const override {
        if (auto reason = asConv(algorithm).supports(shapes.conv)) return reason;
        return asConv(algorithm).emulationRefusal(spec);
    }
    TensorD emulate(const Algorithm& algorithm, const ProblemShapes& shapes, const numeric::ComputeSpec& spec,
                    const numeric::Format&, numeric::EmulationEngine engine, const TensorD& a,
                    const TensorD& b) const override {
        TensorD y(shapes.conv.outputShape());
        asConv(algorithm).runEmulated(shapes.conv, a.data(), b.data(), nullptr, y.data(), spec, engine);
        return y;
    }
    TensorD inputPicture(const ProblemShapes& shapes, const TensorD& a) const override {
        return firstPlane(a, shapes.conv.H, shapes.conv.W);
    }
    TensorD outputPicture(const ProblemShapes& shapes, const TensorD& y) const override {
        return firstPlane(y, shapes.conv.P(), shapes.conv.Q());
    }

    AlgorithmTiming time(const Algorithm& algorithm, const ProblemShapes& shapes, const RuntimeFind& find) const override {
        conv::ConvFindOptions options;
        options.algorithms = {algorithm.name()};
        options.timing = find.timing;
        options.seed = find.seed;
        const conv::ConvFindResult r = conv::findConvAlgorithms(shapes.conv, options).front();
        AlgorithmTiming timing;
        if (r.unsupported) {
            timing.status = *r.unsupported;
            return timing;
        }
        timing.medianSeconds = r.medianSeconds;
        timing.minSeconds = r.minSeconds;
        timing.maxSeconds = r.maxSeconds;
        timing.workspaceBytes = double(r.workspaceBytes);
        timing.maxAbsError = r.maxAbsError;
        return timing;
    }
    double flops(const ProblemShapes& shapes) const override { return shapes.conv.flops(); }
    std::optional<std::string> scaleTo(ProblemShapes& shapes, std::int64_t side) const override {
        if (side < shapes.conv.R || side < shapes.conv.S) return "the kernel is larger than the image";
        // Batch, channels, filters, kernel, stride and padding as in the shape above: only the image grows.
        shapes.conv.H = shapes.conv.W = side;
        return std::nullopt;
    }
    std::string sizeLabel() const override { return "image side (pixels)"; }
    std::vector<std::int64_t> defaultScalingSizes() const override { return {32, 64, 128, 256}; }
    std::string scalingTitle(const ProblemShapes& base) const override {
        const conv::ConvProblem& b = base.conv;
        return label() + ": median runtime vs image side (N=" + std::to_string(b.N) + ", C=" + std::to_string(b.C) +
               ", K=" + std::to_string(b.K) + ", " + std::to_string(b.R) + "×" + std::to_string(b.S) + " kernel)";
    }

private:
    std::vector<const Algorithm*> algorithms_;
};

}  // namespace

const OperationImpl& convOperationImpl() {
    static const ConvOperation operation;
    return operation;
}

}  // namespace ks::study
