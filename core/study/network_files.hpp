#pragma once
// The files the network study opens (the GUI's Network page: File ▸ Open…, drag-and-drop, its own
// button): weight files of a digit classifier, and MNIST IDX test digits, an images file with its
// labels file beside it. Which kind a path is, how the two IDX files pair, and whether a network and
// digits fit each other are decided here; every error names the file it is about.
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "io/mnist.hpp"
#include "nn/model.hpp"

namespace ks::study {

/// A file the network study cannot use: the message starts with (or holds) the file's name.
struct NetworkFileError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// What a file handed to the network study is, by its name (case as written).
enum class NetworkFileKind {
    MnistImages,  ///< the name holds "idx3-ubyte" (t10k-images-idx3-ubyte, ….gz, t10k-images.idx3-ubyte)
    Weights,      ///< anything else: read as a weight file, whose loader says what is wrong with it
};
NetworkFileKind networkFileKind(const std::filesystem::path& path);

/// The ends of the names the network study opens (lower case, no leading dot): the weight files
/// (pt, pth, safetensors, npz), ONNX models (onnx: those that are a chain of Model layers, nn::Graph::toModel),
/// then the MNIST images files (idx3-ubyte, idx3-ubyte.gz).
std::vector<std::string> networkFileSuffixes();

/// The labels file that belongs to an MNIST images file: the same name with "images-idx3-ubyte" →
/// "labels-idx1-ubyte" (or "images.idx3-ubyte" → "labels.idx1-ubyte"), in the same folder. Empty when
/// the name is not an images file's. Names only: whether the file is there is not checked.
std::filesystem::path mnistLabelsFileFor(const std::filesystem::path& images);

/// The pixels of every digit the networks read (28×28) and the classes they tell apart.
inline constexpr int kDigitRows = 28;
inline constexpr int kDigitCols = 28;
inline constexpr std::int64_t kDigitClasses = 10;

/// Test digits from an MNIST images file and its labels file beside it (each plain or gzip'ed):
/// 28×28 pixels, at least one digit. NetworkFileError "<images file name>: <why>" otherwise (not an
/// images file's name, no labels file beside it, what the IDX reader refuses, other sizes, no digits).
io::DigitSet readMnistTestDigits(const std::filesystem::path& images);

/// Why `model` cannot classify the digits (784 inputs, 10 outputs); nullopt when it can.
std::optional<std::string> digitClassifierMismatch(const nn::Model& model);

/// A weight file's network (nn::loadModel), checked to be a digit classifier. NetworkFileError naming the
/// file otherwise: the loader's message, or the mismatch, prefixed "<file name>: " unless it names it.
nn::Model loadDigitClassifier(const std::filesystem::path& path);

}  // namespace ks::study
