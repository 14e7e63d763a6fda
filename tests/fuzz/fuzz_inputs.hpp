#pragma once
// What one fuzz input does, shared by the libFuzzer targets (clang, coverage-guided, run by hand)
// and tst_fuzz_corpus (every build, CI's sanitizer build included: the kept corpus replayed, then
// seeded random mutations of it). An input must end in a result or a std::exception; a crash, a
// sanitizer report or a huge allocation is a finding.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <span>

#include "io/mnist.hpp"
#include "io/weights.hpp"
#include "nn/model.hpp"

namespace ks::fuzz {

/// Any bytes through the weight-file readers (format sniffed from the content) and the model builder.
inline void weightsInput(std::span<const std::byte> bytes) {
    try {
        const auto set = io::parseWeights(bytes, "fuzz");
        (void)nn::Model::fromWeights(set);
    } catch (const std::exception&) {
    }
}

/// The IDX / gzip digit reader: the input is split at its first byte's position into an image file
/// and a label file, so that one input exercises both and their consistency checks.
inline void idxInput(std::span<const std::byte> bytes) {
    if (bytes.empty()) return;
    const std::size_t cut = 1 + (bytes.size() - 1) * std::to_integer<std::size_t>(bytes[0]) / 255;
    try {
        (void)io::parseIdx(bytes.subspan(1, cut - 1), bytes.subspan(cut), "fuzz");
    } catch (const std::exception&) {
    }
}

}  // namespace ks::fuzz
