#include "conv/conv_registry.hpp"

namespace ks::conv {

const Registry<ConvAlgorithm>& convRegistry() {
    static const Registry<ConvAlgorithm> registry = [] {
        std::vector<std::unique_ptr<const ConvAlgorithm>> algorithms;
        algorithms.push_back(makeDirectConv());  // the reference, first
        algorithms.push_back(makeIm2colConv());
        algorithms.push_back(makeWinogradConv(2));
        algorithms.push_back(makeWinogradConv(4));
        algorithms.push_back(makeWinogradConv(6));
        algorithms.push_back(makeFftConv());
        return Registry<ConvAlgorithm>("convolution algorithm", std::move(algorithms));
    }();
    return registry;
}

}  // namespace ks::conv
