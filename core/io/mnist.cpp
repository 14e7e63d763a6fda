#include "io/mnist.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <numeric>

#include "io/embedded_resources.hpp"
#include "io/file_util.hpp"
#include "io/inflate.hpp"

namespace ks::io {

namespace {

/// No MNIST-like set needs more; keeps a lying header from allocating gigabytes.
constexpr std::uint64_t kMaxIdxBytes = std::uint64_t{1} << 30;

std::uint32_t bigEndian32(std::span<const std::byte> b, std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | std::to_integer<std::uint32_t>(b[at + i]);
    return v;
}

std::string maybeGunzip(std::span<const std::byte> bytes, const std::string& what) {
    if (looksGzipped(bytes)) {
        try {
            return gunzip(bytes, kMaxIdxBytes, what);
        } catch (const InflateError& e) {
            throw DigitDataError(e.what());
        }
    }
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

std::filesystem::path findIdx(const std::filesystem::path& directory, const std::string& name) {
    for (const auto& candidate : {name, name + ".gz"}) {
        const auto path = directory / candidate;
        if (std::filesystem::exists(path)) return path;
    }
    // Some downloads use a '.' instead of the '-' before idx.
    std::string dotted = name;
    dotted[dotted.rfind('-')] = '.';
    for (const auto& candidate : {dotted, dotted + ".gz"}) {
        const auto path = directory / candidate;
        if (std::filesystem::exists(path)) return path;
    }
    throw DigitDataError(directory.string() + ": no " + name + " (or " + name + ".gz)");
}

}  // namespace

DigitSet DigitSet::subset(std::span<const std::size_t> indices) const {
    DigitSet out;
    out.rows = rows;
    out.cols = cols;
    const std::size_t n = pixelsPerImage();
    out.labels.reserve(indices.size());
    out.pixels.reserve(indices.size() * n);
    for (const std::size_t i : indices) {
        out.labels.push_back(labels.at(i));
        out.pixels.insert(out.pixels.end(), pixels.begin() + static_cast<long>(i * n),
                          pixels.begin() + static_cast<long>((i + 1) * n));
    }
    return out;
}

TensorF DigitSet::normalisedImages() const {
    TensorF out({static_cast<std::int64_t>(count()), static_cast<std::int64_t>(pixelsPerImage())});
    std::array<float, 256> table{};
    for (int k = 0; k < 256; ++k) table[static_cast<std::size_t>(k)] = (static_cast<float>(k) / 255.0f - kMnistMean) / kMnistStd;
    for (std::size_t i = 0; i < pixels.size(); ++i) out[i] = table[pixels[i]];
    return out;
}

std::vector<std::size_t> DigitSet::classCounts() const {
    std::vector<std::size_t> counts(10, 0);
    for (const auto l : labels) ++counts.at(l);
    return counts;
}

DigitSet parseIdx(std::span<const std::byte> imageBytes, std::span<const std::byte> labelBytes, const std::string& what) {
    const std::string images = maybeGunzip(imageBytes, what + " (images)");
    const std::string labels = maybeGunzip(labelBytes, what + " (labels)");
    const auto im = std::as_bytes(std::span(images));
    const auto lb = std::as_bytes(std::span(labels));
    if (im.size() < 16 || bigEndian32(im, 0) != 0x00000803)
        throw DigitDataError(what + ": the image file is not an IDX file of unsigned bytes with 3 dimensions "
                                    "(magic 0x00000803)");
    if (lb.size() < 8 || bigEndian32(lb, 0) != 0x00000801)
        throw DigitDataError(what + ": the label file is not an IDX file of unsigned bytes with 1 dimension "
                                    "(magic 0x00000801)");
    const std::uint64_t count = bigEndian32(im, 4);
    const std::uint64_t rows = bigEndian32(im, 8);
    const std::uint64_t cols = bigEndian32(im, 12);
    if (rows == 0 || cols == 0 || rows > 1024 || cols > 1024)
        throw DigitDataError(what + ": images of " + std::to_string(rows) + "×" + std::to_string(cols) + " pixels");
    if (im.size() - 16 != count * rows * cols)
        throw DigitDataError(what + ": the image file holds " + std::to_string(im.size() - 16) + " pixel bytes, its header says " +
                             std::to_string(count) + " × " + std::to_string(rows) + " × " + std::to_string(cols));
    if (bigEndian32(lb, 4) != count || lb.size() - 8 != count)
        throw DigitDataError(what + ": " + std::to_string(count) + " images but the label file has " +
                             std::to_string(lb.size() - 8) + " labels (header says " + std::to_string(bigEndian32(lb, 4)) + ")");
    DigitSet set;
    set.rows = static_cast<int>(rows);
    set.cols = static_cast<int>(cols);
    set.pixels.resize(static_cast<std::size_t>(count * rows * cols));
    std::memcpy(set.pixels.data(), im.data() + 16, set.pixels.size());
    set.labels.resize(static_cast<std::size_t>(count));
    std::memcpy(set.labels.data(), lb.data() + 8, set.labels.size());
    for (std::size_t i = 0; i < set.labels.size(); ++i)
        if (set.labels[i] > 9)
            throw DigitDataError(what + ": label " + std::to_string(i) + " is " + std::to_string(set.labels[i]) + ", not a digit");
    return set;
}

DigitSet readIdx(const std::filesystem::path& images, const std::filesystem::path& labels) {
    const std::string a = readFile(images);
    const std::string b = readFile(labels);
    return parseIdx(std::as_bytes(std::span(a)), std::as_bytes(std::span(b)), images.string());
}

DigitSplit readMnistDirectory(const std::filesystem::path& directory) {
    if (!std::filesystem::is_directory(directory)) throw DigitDataError(directory.string() + ": not a directory");
    DigitSplit split;
    split.train = readIdx(findIdx(directory, "train-images-idx3-ubyte"), findIdx(directory, "train-labels-idx1-ubyte"));
    split.test = readIdx(findIdx(directory, "t10k-images-idx3-ubyte"), findIdx(directory, "t10k-labels-idx1-ubyte"));
    return split;
}

DigitSet embeddedDigits() {
    return parseIdx(embeddedMnistImagesGz(), embeddedMnistLabelsGz(), "embedded MNIST digits");
}

DigitSplit embeddedSplit() { return stratifiedSplit(embeddedDigits(), 2000); }

std::vector<bool> stratifiedTestMask(std::span<const std::uint8_t> labels, std::size_t testCount) {
    if (testCount > labels.size())
        throw DigitDataError("cannot take " + std::to_string(testCount) + " test digits from " + std::to_string(labels.size()));
    std::vector<std::size_t> counts(256, 0);
    for (const auto l : labels) ++counts[l];
    // Largest-remainder shares of testCount, proportional to the class sizes (ties: lower class).
    std::vector<std::size_t> share(256, 0);
    std::vector<std::pair<std::size_t, std::size_t>> remainders;  // (remainder numerator, class)
    std::size_t given = 0;
    for (std::size_t c = 0; c < 256; ++c) {
        share[c] = counts[c] * testCount / labels.size();
        given += share[c];
        if (counts[c]) remainders.emplace_back(counts[c] * testCount % labels.size(), c);
    }
    std::stable_sort(remainders.begin(), remainders.end(), [](auto a, auto b) { return a.first > b.first; });
    for (std::size_t i = 0; given < testCount; ++i, ++given) ++share[remainders[i].second];

    std::vector<bool> mask(labels.size(), false);
    std::vector<std::size_t> seen(256, 0);
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const std::size_t c = labels[i];
        const std::size_t k = seen[c]++;
        mask[i] = (k + 1) * share[c] / counts[c] > k * share[c] / counts[c];
    }
    return mask;
}

DigitSplit stratifiedSplit(const DigitSet& digits, std::size_t testCount) {
    const auto mask = stratifiedTestMask(digits.labels, testCount);
    std::vector<std::size_t> train, test;
    for (std::size_t i = 0; i < mask.size(); ++i) (mask[i] ? test : train).push_back(i);
    return {digits.subset(train), digits.subset(test)};
}

}  // namespace ks::io
