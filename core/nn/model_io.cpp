#include "nn/model_io.hpp"

#include <cctype>
#include <fstream>

#include "io/embedded_resources.hpp"
#include "io/onnx_file.hpp"
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
    if (isOnnxFile(source)) {
        const Graph graph = Graph::readOnnx(source);
        std::string why;
        if (std::optional<Model> model = graph.toModel(&why)) return std::move(*model);
        throw ModelError(std::filesystem::path(source).filename().string() + ": not a sequential network (" + why +
                         "); `kernelscope-cli eval` and `layers` run any ONNX graph, the other studies a chain of "
                         "Conv, Gemm, Relu, MaxPool, Flatten and LogSoftmax");
    }
    const io::WeightSet weights = io::readWeights(source);
    try {
        return Model::fromWeights(weights);
    } catch (const ModelError& e) {
        throw ModelError(source + ": " + e.what());
    }
}

bool isOnnxFile(const std::filesystem::path& path) {
    std::string ext = path.extension().string();
    for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
    if (ext == ".onnx") return true;
    std::error_code error;
    if (!std::filesystem::is_regular_file(path, error)) return false;  // a FIFO would block the open
    std::ifstream in(path, std::ios::binary);
    char head[3] = {};
    if (!in.read(head, 3)) return false;
    return io::looksLikeOnnx(std::as_bytes(std::span(head)));
}

Graph loadGraph(const std::string& source) {
    if (source != "embedded" && source != "embedded-cnn" && isOnnxFile(source)) return Graph::readOnnx(source);
    return Graph::fromModel(loadModel(source));
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
