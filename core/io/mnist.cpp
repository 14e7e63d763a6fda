#include "io/mnist.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <numeric>
#include <optional>

#include "io/embedded_resources.hpp"
#include "io/file_util.hpp"
#include "io/inflate.hpp"

namespace ks::io {

namespace {

/// The most pixel (or label) bytes one IDX file may declare: MNIST's 60,000 training digits take 47 MB, EMNIST's
/// 240,000 "digits" 188 MB; the images become 4-byte floats in memory. A header declaring more is refused
/// before anything is allocated or inflated.
constexpr std::uint64_t kMaxIdxBytes = std::uint64_t{256} << 20;

std::uint32_t bigEndian32(const std::byte* b) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | std::to_integer<std::uint32_t>(b[i]);
    return v;
}

/// One IDX file, plain or gzip'ed, read front to back: its header first, so that its declared size is checked
/// before the data is allocated, and a gzip'ed file is inflated only as far as its header says.
class IdxReader {
public:
    IdxReader(std::span<const std::byte> bytes, std::string what) : bytes_(bytes), what_(std::move(what)) {
        if (looksGzipped(bytes)) gzip_.emplace(bytes, what_);
    }

    /// The next out.size() bytes (header or data); false when a plain file ends first (a gzip'ed one throws,
    /// naming where its data ends).
    bool read(std::span<std::byte> out) {
        if (gzip_) return guard([&] {
            gzip_->readExactly(out);
            return true;
        });
        if (out.size() > bytes_.size() - pos_) return false;
        if (out.empty()) return true;  // an empty vector's data() may be null, which memcpy may not be given
        std::memcpy(out.data(), bytes_.data() + pos_, out.size());
        pos_ += out.size();
        return true;
    }
    /// Whether `size` more bytes can be there: what is left of a plain file, what DEFLATE can encode in a gzip'ed one.
    bool couldHold(std::uint64_t size) const {
        return gzip_ ? size <= maxInflatedSize(bytes_.size()) : size <= bytes_.size() - pos_;
    }
    std::uint64_t plainBytesLeft() const { return bytes_.size() - pos_; }
    bool gzipped() const { return gzip_.has_value(); }
    /// Whether the file ends here (a gzip'ed file's trailers checked).
    bool atEnd() {
        if (gzip_) return guard([&] {
            std::byte spare;
            return gzip_->readSome(std::span(&spare, 1)) == 0;
        });
        return pos_ == bytes_.size();
    }

private:
    template <class Fn>
    bool guard(Fn&& fn) {
        try {
            return fn();
        } catch (const InflateError& e) {
            throw DigitDataError(e.what());
        }
    }

    std::span<const std::byte> bytes_;
    std::string what_;
    std::size_t pos_ = 0;
    std::optional<GzipReader> gzip_;
};

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
    IdxReader images(imageBytes, what + " (images)");
    IdxReader labels(labelBytes, what + " (labels)");
    std::array<std::byte, 16> imageHeader{};
    std::array<std::byte, 8> labelHeader{};
    if (!images.read(imageHeader) || bigEndian32(imageHeader.data()) != 0x00000803)
        throw DigitDataError(what + ": the image file is not an IDX file of unsigned bytes with 3 dimensions "
                                    "(magic 0x00000803)");
    if (!labels.read(labelHeader) || bigEndian32(labelHeader.data()) != 0x00000801)
        throw DigitDataError(what + ": the label file is not an IDX file of unsigned bytes with 1 dimension "
                                    "(magic 0x00000801)");
    const std::uint64_t count = bigEndian32(imageHeader.data() + 4);
    const std::uint64_t rows = bigEndian32(imageHeader.data() + 8);
    const std::uint64_t cols = bigEndian32(imageHeader.data() + 12);
    const std::uint64_t labelCount = bigEndian32(labelHeader.data() + 4);
    if (rows == 0 || cols == 0 || rows > 1024 || cols > 1024)
        throw DigitDataError(what + ": images of " + std::to_string(rows) + "×" + std::to_string(cols) + " pixels");
    const std::uint64_t pixelBytes = count * rows * cols;  // < 2^32 · 2^10 · 2^10: no overflow
    const std::string declared = std::to_string(count) + " × " + std::to_string(rows) + " × " + std::to_string(cols);
    if (pixelBytes > kMaxIdxBytes)
        throw DigitDataError(what + ": the image file's header says " + declared + " = " + std::to_string(pixelBytes) +
                             " bytes of pixels, more than the " + std::to_string(kMaxIdxBytes) +
                             " a digit set may have");
    if (!images.couldHold(pixelBytes))
        throw DigitDataError(what + ": the image file's header says " + declared + " but the file " +
                             (images.gzipped() ? "is too small to inflate to that"
                                               : "holds " + std::to_string(images.plainBytesLeft()) + " pixel bytes"));
    const std::uint64_t labelsHeld = labels.gzipped() ? labelCount : labels.plainBytesLeft();
    if (labelCount != count || labelsHeld != count)
        throw DigitDataError(what + ": " + std::to_string(count) + " images but the label file has " +
                             std::to_string(labelsHeld) + " labels (header says " + std::to_string(labelCount) + ")");
    if (!labels.couldHold(count))
        throw DigitDataError(what + ": the label file is too small to inflate to " + std::to_string(count) + " labels");

    DigitSet set;
    set.rows = static_cast<int>(rows);
    set.cols = static_cast<int>(cols);
    set.pixels.resize(static_cast<std::size_t>(pixelBytes));
    set.labels.resize(static_cast<std::size_t>(count));
    if (!images.read(std::as_writable_bytes(std::span(set.pixels))))
        throw DigitDataError(what + ": the image file ends before the " + declared + " pixels its header says");
    if (!images.atEnd())
        throw DigitDataError(what + ": the image file holds more than the " + declared + " pixels its header says");
    if (!labels.read(std::as_writable_bytes(std::span(set.labels))))
        throw DigitDataError(what + ": the label file ends before the " + std::to_string(count) +
                             " labels its header says");
    if (!labels.atEnd())
        throw DigitDataError(what + ": the label file holds more than the " + std::to_string(count) +
                             " labels its header says");
    for (std::size_t i = 0; i < set.labels.size(); ++i)
        if (set.labels[i] > 9)
            throw DigitDataError(what + ": label " + std::to_string(i) + " is " + std::to_string(set.labels[i]) + ", not a digit");
    return set;
}

DigitSet readIdx(const std::filesystem::path& images, const std::filesystem::path& labels) {
    // Neither file can be larger than the pixels the cap allows, plus its header and gzip's framing (stored
    // blocks add 5 bytes per 64 KiB when the data does not compress).
    constexpr std::uint64_t kMaxIdxFileBytes = kMaxIdxBytes + kMaxIdxBytes / 1024 + 4096;
    const std::string a = readFile(images, kMaxIdxFileBytes);
    const std::string b = readFile(labels, kMaxIdxFileBytes);
    return parseIdx(std::as_bytes(std::span(a)), std::as_bytes(std::span(b)), images.string());
}

DigitSet readMnistTestSet(const std::filesystem::path& directory) {
    if (!std::filesystem::is_directory(directory)) throw DigitDataError(directory.string() + ": not a directory");
    const auto images = findIdx(directory, "t10k-images-idx3-ubyte");  // named first when both are missing
    return readIdx(images, findIdx(directory, "t10k-labels-idx1-ubyte"));
}

DigitSplit readMnistDirectory(const std::filesystem::path& directory) {
    DigitSplit split;
    split.test = readMnistTestSet(directory);
    const auto images = findIdx(directory, "train-images-idx3-ubyte");
    split.train = readIdx(images, findIdx(directory, "train-labels-idx1-ubyte"));
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
