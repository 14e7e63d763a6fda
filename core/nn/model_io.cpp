#include "nn/model_io.hpp"

#include "io/embedded_resources.hpp"
#include "io/weights.hpp"

namespace ks::nn {

Model loadModel(const std::string& source) {
    if (source == "embedded" || source == "embedded-cnn") {
        const bool cnn = source == "embedded-cnn";
        const auto bytes = cnn ? io::embeddedCnnWeights() : io::embeddedDefaultWeights();
        const std::string file = cnn ? "cnn-default.safetensors" : "mlp-default.safetensors";
        if (bytes.empty())
            throw ModelError("this build has no embedded weights (resources/weights/" + file +
                             " was missing when it was configured)");
        return Model::fromWeights(io::parseSafetensors(bytes, "embedded " + file));
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
