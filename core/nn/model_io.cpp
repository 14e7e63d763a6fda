#include "nn/model_io.hpp"

#include "io/embedded_resources.hpp"
#include "io/weights.hpp"

namespace ks::nn {

Model loadModel(const std::string& source) {
    if (source == "embedded") {
        const auto bytes = io::embeddedDefaultWeights();
        if (bytes.empty())
            throw ModelError("this build has no embedded weights (resources/weights/mlp-default.safetensors was "
                             "missing when it was configured)");
        return Model::fromWeights(io::parseSafetensors(bytes, "embedded default weights"));
    }
    const io::WeightSet weights = io::readWeights(source);
    try {
        return Model::fromWeights(weights);
    } catch (const ModelError& e) {
        throw ModelError(source + ": " + e.what());
    }
}

void saveModel(const std::filesystem::path& path, const Model& model,
               const std::vector<std::pair<std::string, std::string>>& metadata) {
    io::writeSafetensors(path, model.toNamedTensors(), metadata);
}

io::DigitSplit loadDigits(const std::string& source) {
    if (source == "embedded") return io::embeddedSplit();
    return io::readMnistDirectory(source);
}

}  // namespace ks::nn
