#include "conv/conv_registry.hpp"

#include <stdexcept>

namespace ks::conv {

namespace {

struct Registry {
    std::vector<std::unique_ptr<ConvAlgorithm>> owned;
    std::vector<const ConvAlgorithm*> view;
    Registry() {
        owned.push_back(makeDirectConv());
        owned.push_back(makeIm2colConv());
        owned.push_back(makeWinogradConv(2));
        owned.push_back(makeWinogradConv(4));
        owned.push_back(makeWinogradConv(6));
        owned.push_back(makeFftConv());
        for (const auto& a : owned) view.push_back(a.get());
    }
};

const Registry& registry() {
    static const Registry instance;
    return instance;
}

}  // namespace

const std::vector<const ConvAlgorithm*>& convAlgorithms() { return registry().view; }

std::string convAlgorithmNames() {
    std::string names;
    for (const auto* a : convAlgorithms()) {
        if (!names.empty()) names += ", ";
        names += a->name();
        const auto aliases = a->aliases();
        if (!aliases.empty()) {
            names += " (";
            for (std::size_t i = 0; i < aliases.size(); ++i) names += (i ? ", " : "") + aliases[i];
            names += ")";
        }
    }
    return names;
}

const ConvAlgorithm& convAlgorithm(std::string_view nameOrAlias) {
    for (const auto* a : convAlgorithms()) {
        if (a->name() == nameOrAlias) return *a;
        for (const auto& alias : a->aliases())
            if (alias == nameOrAlias) return *a;
    }
    throw std::invalid_argument("unknown convolution algorithm '" + std::string(nameOrAlias) +
                                "'; valid: " + convAlgorithmNames());
}

}  // namespace ks::conv
