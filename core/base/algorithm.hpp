#pragma once
// The shape every operation's implementations share (oneDNN's implementation list, FFTW's solvers):
//   Algorithm       what an implementation says about itself: name, aliases, description, whether
//                   the GUI shows it by default. Each operation derives its interface from it
//                   (conv::ConvAlgorithm, matmul::MatmulAlgorithm) with the same members:
//                   supports(problem, ...) -> the reason it cannot, or nothing; workspaceBytes();
//                   flops(); a public run() that checks the problem first and throws
//                   std::invalid_argument with the reason, over protected do*() overrides.
//   Registry<A>     the operation's implementations in a fixed order, the reference first; lookup by
//                   name or alias with an error listing the valid names. The GUI's choices, the CLI,
//                   the tests and the benchmarks all iterate it.
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ks {

class Algorithm {
public:
    virtual ~Algorithm() = default;

    virtual std::string name() const = 0;
    /// Other names the registry accepts ("naive" for conv's direct).
    virtual std::vector<std::string> aliases() const { return {}; }
    /// One or two sentences for tooltips, --help and reports: what it computes and how.
    virtual std::string description() const = 0;
    /// Whether a page that lists the operation's algorithms shows this one checked at first.
    virtual bool shownByDefault() const { return true; }

    bool answersTo(std::string_view nameOrAlias) const {
        if (name() == nameOrAlias) return true;
        for (const auto& alias : aliases())
            if (alias == nameOrAlias) return true;
        return false;
    }
};

/// The implementations of one operation. The first is the reference the others are tested against.
template <class A>
class Registry {
public:
    /// `operation` names it in messages ("convolution algorithm").
    Registry(std::string operation, std::vector<std::unique_ptr<const A>> algorithms)
        : operation_(std::move(operation)), owned_(std::move(algorithms)) {
        if (owned_.empty()) throw std::logic_error("a registry needs its reference implementation");
        for (const auto& a : owned_) view_.push_back(a.get());
    }

    const std::vector<const A*>& all() const { return view_; }
    const A& reference() const { return *view_.front(); }

    /// By name or alias (case-sensitive); std::invalid_argument naming the value and the valid names.
    const A& find(std::string_view nameOrAlias) const {
        for (const A* a : view_)
            if (a->answersTo(nameOrAlias)) return *a;
        throw std::invalid_argument("unknown " + operation_ + " '" + std::string(nameOrAlias) + "'; valid: " + names());
    }

    /// Canonical names in registry order.
    std::vector<std::string> canonicalNames() const {
        std::vector<std::string> out;
        for (const A* a : view_) out.push_back(a->name());
        return out;
    }

    /// "direct (naive), im2col, winograd-2x2 (winograd), ..." for messages and --help.
    std::string names() const {
        std::string out;
        for (const A* a : view_) {
            if (!out.empty()) out += ", ";
            out += a->name();
            const auto aliases = a->aliases();
            for (std::size_t i = 0; i < aliases.size(); ++i) out += (i ? ", " : " (") + aliases[i];
            if (!aliases.empty()) out += ")";
        }
        return out;
    }

private:
    std::string operation_;
    std::vector<std::unique_ptr<const A>> owned_;
    std::vector<const A*> view_;
};

}  // namespace ks
