#pragma once
// What one fuzz input does, shared by the libFuzzer targets (clang, coverage-guided, run by hand)
// and tst_fuzz_corpus (every build, CI's sanitizer build included: the kept corpus replayed, then
// seeded random mutations of it). An input must end in a result or the readers' documented error:
// WeightFileError from the weight readers (weights.hpp), ModelError from the model builder (model.hpp),
// DigitDataError from the IDX reader (mnist.hpp), OnnxError from the ONNX reader (onnx_file.hpp). Any other exception (std::bad_alloc, a ZipError or
// nlohmann's own leaking out, ...) propagates: libFuzzer reports it as a crash, tst_fuzz_corpus fails.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "io/mnist.hpp"
#include "io/onnx_file.hpp"
#include "io/weights.hpp"
#include "nn/graph.hpp"
#include "nn/model.hpp"

namespace ks::fuzz {

struct Outcome {
    bool loaded = false;
    std::string error;  ///< the documented error's message when refused
};

/// Any bytes through the weight-file readers (format sniffed from the content) and the model builder.
inline Outcome weightsInput(std::span<const std::byte> bytes) {
    try {
        const auto set = io::parseWeights(bytes, "fuzz");
        (void)nn::Model::fromWeights(set);
        return {true, {}};
    } catch (const io::WeightFileError& e) {
        return {false, e.what()};
    } catch (const nn::ModelError& e) {
        return {false, std::string("fuzz: ") + e.what()};  // the model builder's messages name no file
    }
}

/// Any bytes through the ONNX reader and the graph builder (nn::Graph::fromOnnx), and, for a graph that
/// converts, the sequential model.
inline Outcome onnxInput(std::span<const std::byte> bytes) {
    try {
        const nn::Graph graph = nn::Graph::fromOnnx(io::parseOnnx(bytes, "fuzz"));
        (void)graph.toModel();
        return {true, {}};
    } catch (const io::OnnxError& e) {
        return {false, e.what()};
    } catch (const nn::ModelError& e) {
        return {false, std::string("fuzz: ") + e.what()};
    }
}

/// The IDX / gzip digit reader: the input is split at its first byte's position into an image file
/// and a label file, so that one input exercises both and their consistency checks.
inline Outcome idxInput(std::span<const std::byte> bytes) {
    if (bytes.empty()) return {false, "fuzz: empty input"};
    const std::size_t cut = 1 + (bytes.size() - 1) * std::to_integer<std::size_t>(bytes[0]) / 255;
    try {
        (void)io::parseIdx(bytes.subspan(1, cut - 1), bytes.subspan(cut), "fuzz");
        return {true, {}};
    } catch (const io::DigitDataError& e) {
        return {false, e.what()};
    }
}

}  // namespace ks::fuzz
