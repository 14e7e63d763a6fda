#include "study/network_files.hpp"

#include <system_error>

#include "nn/model_io.hpp"

namespace ks::study {

namespace {

/// Every occurrence of `from` in `s` replaced by `to`.
std::string replaceAll(std::string s, const std::string& from, const std::string& to) {
    for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
    return s;
}

}  // namespace

NetworkFileKind networkFileKind(const std::filesystem::path& path) {
    return path.filename().string().find("idx3-ubyte") != std::string::npos ? NetworkFileKind::MnistImages
                                                                             : NetworkFileKind::Weights;
}

std::vector<std::string> networkFileSuffixes() { return {"pt", "pth", "safetensors", "npz", "onnx", "idx3-ubyte", "idx3-ubyte.gz"}; }

std::filesystem::path mnistLabelsFileFor(const std::filesystem::path& images) {
    const std::string name = images.filename().string();
    std::string labels = replaceAll(name, "images-idx3-ubyte", "labels-idx1-ubyte");
    labels = replaceAll(labels, "images.idx3-ubyte", "labels.idx1-ubyte");
    if (labels == name) return {};
    // A bare name's folder is "." (spelled out, as the messages about the labels file have always shown it).
    return (images.has_parent_path() ? images.parent_path() : std::filesystem::path(".")) / labels;
}

io::DigitSet readMnistTestDigits(const std::filesystem::path& images) {
    const std::string name = images.filename().string();
    auto fail = [&](const std::string& why) { return NetworkFileError(name + ": " + why); };
    const std::filesystem::path labels = mnistLabelsFileFor(images);
    if (labels.empty()) throw fail("not an MNIST images file (expected a name like t10k-images-idx3-ubyte)");
    std::error_code ec;
    if (!std::filesystem::exists(labels, ec)) throw fail("its labels file " + labels.filename().string() + " is not beside it");
    io::DigitSet digits;
    try {
        digits = io::readIdx(images, labels);
    } catch (const std::exception& e) {
        throw fail(e.what());
    }
    if (digits.rows != kDigitRows || digits.cols != kDigitCols)
        throw fail("the digits are " + std::to_string(digits.rows) + "×" + std::to_string(digits.cols) + " pixels; the network reads " +
                   std::to_string(kDigitRows) + "×" + std::to_string(kDigitCols));
    if (digits.count() == 0) throw fail("it holds no digits");
    return digits;
}

std::optional<std::string> digitClassifierMismatch(const nn::Model& model) {
    const std::int64_t pixels = std::int64_t{kDigitRows} * kDigitCols;
    if (model.inputFeatures() == pixels && model.outputFeatures() == kDigitClasses) return std::nullopt;
    return "the network maps " + std::to_string(model.inputFeatures()) + " inputs to " + std::to_string(model.outputFeatures()) +
           " outputs; digits need " + std::to_string(pixels) + " inputs (" + std::to_string(kDigitRows) + "×" +
           std::to_string(kDigitCols) + " pixels) and " + std::to_string(kDigitClasses) + " classes";
}

nn::Model loadDigitClassifier(const std::filesystem::path& path) {
    const std::string file = path.filename().string();
    auto fail = [&](const std::string& why) {
        return NetworkFileError(why.find(file) != std::string::npos ? why : file + ": " + why);
    };
    nn::Model model;
    try {
        model = nn::loadModel(path.string());
    } catch (const std::exception& e) {
        throw fail(e.what());
    }
    if (const auto mismatch = digitClassifierMismatch(model)) throw fail(*mismatch);
    return model;
}

}  // namespace ks::study
