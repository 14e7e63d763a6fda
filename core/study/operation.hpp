#pragma once
// The primitive a study investigates (convolution, matrix multiply), as one handle resolved once:
// the studies and pages ask it for its algorithms, its operands, its exact reference, its emulated
// runs and its timings, and never branch on which operation it is. Each operation's knowledge lives
// in its own file (study/conv_operation.cpp, study/matmul_operation.cpp); adding an algorithm to a
// registry adds it to every study and page.
#include <cstdint>
#include <optional>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

#include "base/algorithm.hpp"
#include "base/tensor.hpp"
#include "conv/conv_problem.hpp"
#include "numeric/arithmetic.hpp"
#include "numeric/compute_spec.hpp"
#include "numeric/format.hpp"

namespace ks::study {

/// The problem of each operation a study carries; an operation reads its own.
struct ProblemShapes {
    conv::ConvProblem conv;
    std::int64_t m = 0, k = 0, n = 0;  ///< matmul: (m×k)·(k×n)
};

/// Operands of one trial and the double-precision result they should give.
struct Operands {
    TensorD a, b;  ///< conv: input (NCHW), weight (KCRS); matmul: A (m×k), B (k×n)
    TensorD exact;
};

/// One algorithm's float32 fast path on a shape, as the runtime study reports it.
struct AlgorithmTiming {
    std::string status = "ok";  ///< or why it did not run
    std::string note;           ///< what the numbers alone do not show (rank, LNS format)
    double medianSeconds = 0;
    double minSeconds = 0, maxSeconds = 0;  ///< fastest and slowest of the repeats
    double workspaceBytes = 0;
    double maxAbsError = 0;  ///< float32 output against the double-precision reference
};

struct RuntimeFind;  // study/runtime_study.hpp

class OperationImpl;

class Operation {
public:
    static const Operation Conv;
    static const Operation Matmul;
    /// Every operation, in the order the GUI offers them.
    static const std::vector<Operation>& all();
    /// By id ("conv", "matmul"); std::invalid_argument listing the ids otherwise.
    static Operation byId(std::string_view id);

    std::string id() const;     ///< "conv": CSV column, CLI --operation, file names
    std::string label() const;  ///< "Convolution"
    std::string shapeSyntax() const;  ///< the CLI's --shape ("M,K,N")
    /// Sets this operation's shape in `shapes` from the CLI's list of dimensions; the reason if it cannot.
    std::optional<std::string> setShape(ProblemShapes& shapes, const std::vector<std::int64_t>& dims) const;
    /// The sizes a runtime-vs-size sweep starts with.
    std::vector<std::int64_t> defaultScalingSizes() const;
    /// The registry's algorithms in order, the reference first.
    const std::vector<const Algorithm*>& algorithms() const;
    const Algorithm& algorithm(std::string_view nameOrAlias) const;
    const Algorithm& reference() const { return *algorithms().front(); }
    /// The float32 algorithm a user runs by default (conv: direct; matmul: dense), highlighted in runtime charts.
    std::string everydayAlgorithm() const;
    /// Canonical names of `requested` (every algorithm when empty), in the given order without
    /// repeats; std::invalid_argument for an unknown name, listing the valid ones.
    std::vector<std::string> resolve(const std::vector<std::string>& requested) const;

    const OperationImpl& impl() const;
    bool operator==(const Operation& other) const { return index_ == other.index_; }

private:
    explicit constexpr Operation(int index) : index_(index) {}
    int index_;  ///< into the table of implementations in operation.cpp
};

inline constexpr Operation Operation::Conv{0};
inline constexpr Operation Operation::Matmul{1};

/// What each operation provides to the studies (internal to core/study: the studies call it, the
/// pages use Operation). Implementations: study/conv_operation.cpp, study/matmul_operation.cpp.
class OperationImpl {
public:
    virtual ~OperationImpl() = default;
    virtual std::string id() const = 0;
    virtual std::string label() const = 0;
    virtual const std::vector<const Algorithm*>& algorithms() const = 0;
    virtual const Algorithm& algorithm(std::string_view nameOrAlias) const = 0;
    virtual std::string everydayAlgorithm() const = 0;

    /// Throws std::invalid_argument naming what is wrong with the operation's shape.
    virtual void validate(const ProblemShapes& shapes) const = 0;
    /// "N=1 C=16 H=20 …" / "(16×144)·(144×324)": titles and cache keys.
    virtual std::string describe(const ProblemShapes& shapes) const = 0;
    /// How the CLI's --shape lists the operation's dimensions ("M,K,N").
    virtual std::string shapeSyntax() const = 0;
    /// Sets the operation's shape from such a list; the reason when the list does not make one.
    virtual std::optional<std::string> setShape(ProblemShapes& shapes, const std::vector<std::int64_t>& dims) const = 0;
    /// Shapes of the two operands (conv: input, weight; matmul: A, B).
    virtual std::pair<Shape, Shape> operandShapes(const ProblemShapes& shapes) const = 0;
    /// The exact result in double precision, computed independently of the algorithms studied.
    virtual TensorD exact(const ProblemShapes& shapes, const TensorD& a, const TensorD& b) const = 0;

    /// Why `algorithm` cannot compute the shape in `spec` (format: the swept format, for the log-domain
    /// algorithms), or nothing.
    virtual std::optional<std::string> supports(const Algorithm& algorithm, const ProblemShapes& shapes,
                                                const numeric::ComputeSpec& spec, const numeric::Format& format) const = 0;
    /// The algorithm's output with every intermediate rounded as `spec` says, on `engine`.
    virtual TensorD emulate(const Algorithm& algorithm, const ProblemShapes& shapes, const numeric::ComputeSpec& spec,
                            const numeric::Format& format, numeric::EmulationEngine engine, const TensorD& a,
                            const TensorD& b) const = 0;
    /// The 2-D pictures of an operand or result: conv the first image's first channel, matmul the matrix.
    virtual TensorD inputPicture(const ProblemShapes& shapes, const TensorD& a) const = 0;
    virtual TensorD outputPicture(const ProblemShapes& shapes, const TensorD& y) const = 0;

    /// The algorithm's float32 fast path timed on `shapes` (ks::measure, with the find's timing, seed,
    /// ranks and formats), with its error against a double-precision reference; status says why when it
    /// cannot run or would take too long.
    virtual AlgorithmTiming time(const Algorithm& algorithm, const ProblemShapes& shapes, const RuntimeFind& find) const = 0;
    /// FLOPs of the direct definition (conv 2·N·K·C·P·Q·R·S, matmul 2·M·K·N): the effective GFLOP/s of
    /// every algorithm are rated against it, as cuDNN and oneDNN rate Winograd, FFT and low-rank products.
    virtual double flops(const ProblemShapes& shapes) const = 0;
    /// `shapes` scaled to size `side` for the runtime-vs-size sweep (conv: one-channel side² images
    /// with the kernel kept; matmul: side³), or why that size does not make sense.
    virtual std::optional<std::string> scaleTo(ProblemShapes& shapes, std::int64_t side) const = 0;
    virtual std::string sizeLabel() const = 0;       ///< the scaling chart's x axis
    /// The sizes a runtime-vs-size sweep starts with (each at most seconds on a laptop).
    virtual std::vector<std::int64_t> defaultScalingSizes() const = 0;
    virtual std::string scalingTitle(const ProblemShapes& base) const = 0;
};

}  // namespace ks::study
