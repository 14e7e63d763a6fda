#pragma once
// Where models and digits come from: a weight file or the embedded default, the embedded digits or
// an MNIST directory. Shared by the CLI, the GUI and the studies.
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "io/mnist.hpp"
#include "nn/graph.hpp"
#include "nn/model.hpp"

namespace ks::nn {

/// "embedded" (the MLP, resources/weights/mlp-default.safetensors), "embedded-cnn" (the digit CNN,
/// resources/weights/cnn-default.safetensors), both compiled in, or a weight file's path, or an ONNX file's
/// (told by its content) whose graph is a sequential network (nn::Graph::toModel; ModelError saying which node
/// is not, for the others: `loadGraph` runs those).
Model loadModel(const std::string& source);
/// Any network: an ONNX file as its graph, every other source (see loadModel) as its Model's graph.
Graph loadGraph(const std::string& source);
/// True when the file at `path` is an ONNX model: named *.onnx, or holding one (by its content).
bool isOnnxFile(const std::filesystem::path& path);
/// Saved as float32 .safetensors (written atomically), with string metadata.
void saveModel(const std::filesystem::path& path, const Model& model,
               const std::vector<std::pair<std::string, std::string>>& metadata = {});

/// "embedded" (the fixed 8,000 / 2,000 split of the embedded digits) or an MNIST IDX directory.
io::DigitSplit loadDigits(const std::string& source);

}  // namespace ks::nn
