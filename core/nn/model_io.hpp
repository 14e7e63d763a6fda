#pragma once
// Where models and digits come from: a weight file or the embedded default, the embedded digits or
// an MNIST directory. Shared by the CLI, the GUI and the studies.
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "io/mnist.hpp"
#include "nn/model.hpp"

namespace ks::nn {

/// "embedded" (the MLP, resources/weights/mlp-default.safetensors), "embedded-cnn" (the digit CNN,
/// resources/weights/cnn-default.safetensors), both compiled in, or a weight file's path.
Model loadModel(const std::string& source);
/// Saved as float32 .safetensors (written atomically), with string metadata.
void saveModel(const std::filesystem::path& path, const Model& model,
               const std::vector<std::pair<std::string, std::string>>& metadata = {});

/// "embedded" (the fixed 8,000 / 2,000 split of the embedded digits) or an MNIST IDX directory.
io::DigitSplit loadDigits(const std::string& source);

}  // namespace ks::nn
