#include "io/ppm.hpp"

#include <cctype>

#include "io/embedded_resources.hpp"

namespace ks::io {

namespace {

class Reader {
public:
    Reader(std::span<const std::byte> bytes, const std::string& what) : bytes_(bytes), what_(what) {}

    [[noreturn]] void fail(const std::string& message) const { throw PpmError(what_ + ": " + message); }

    int peek() const { return pos_ < bytes_.size() ? static_cast<int>(bytes_[pos_]) : -1; }

    /// Whitespace and '#' comments between header fields.
    void skipSeparators() {
        for (;;) {
            const int c = peek();
            if (c == '#') {
                while (peek() != -1 && peek() != '\n' && peek() != '\r') ++pos_;
            } else if (c != -1 && std::isspace(c)) {
                ++pos_;
            } else {
                return;
            }
        }
    }

    std::int64_t headerNumber(const char* field) {
        skipSeparators();
        if (peek() == -1) fail(std::string("file ends before the ") + field);
        if (!std::isdigit(peek())) fail(std::string("the ") + field + " is not a decimal number");
        std::int64_t value = 0;
        while (peek() != -1 && std::isdigit(peek())) {
            value = value * 10 + (peek() - '0');
            if (value > (std::int64_t{1} << 31)) fail(std::string("the ") + field + " is too large");
            ++pos_;
        }
        return value;
    }

    std::size_t position() const { return pos_; }
    void advance() { ++pos_; }
    std::size_t remaining() const { return bytes_.size() - pos_; }
    std::uint8_t byteAt(std::size_t i) const { return static_cast<std::uint8_t>(bytes_[i]); }

private:
    std::span<const std::byte> bytes_;
    std::string what_;
    std::size_t pos_ = 0;
};

}  // namespace

PpmImage parsePpm(std::span<const std::byte> bytes, const std::string& what) {
    Reader in(bytes, what);
    if (bytes.size() < 2 || static_cast<char>(bytes[0]) != 'P')
        in.fail("not a binary Netpbm image (expected the magic P6 or P5)");
    const char kind = static_cast<char>(bytes[1]);
    if (kind != '6' && kind != '5')
        in.fail(std::string("Netpbm type P") + kind + " is not supported (only binary P6 RGB and P5 grey)");
    in.advance();
    in.advance();

    PpmImage image;
    image.channels = kind == '6' ? 3 : 1;
    image.width = in.headerNumber("width");
    image.height = in.headerNumber("height");
    const std::int64_t maxValue = in.headerNumber("maximum value");
    if (image.width <= 0 || image.height <= 0)
        in.fail("image is " + std::to_string(image.width) + "×" + std::to_string(image.height) + ", must not be empty");
    if (image.width * image.height > kMaxPpmPixels)
        in.fail("image of " + std::to_string(image.width) + "×" + std::to_string(image.height) + " pixels is too large");
    if (maxValue < 1 || maxValue > 65535) in.fail("maximum value " + std::to_string(maxValue) + " is outside 1…65535");
    image.maxValue = static_cast<int>(maxValue);
    // Exactly one whitespace byte separates the header from the samples.
    if (in.peek() == -1 || !std::isspace(in.peek())) in.fail("no whitespace after the header");
    in.advance();

    const std::size_t bytesPerSample = maxValue > 255 ? 2 : 1;
    const std::size_t count = static_cast<std::size_t>(image.width * image.height * image.channels);
    const std::size_t needed = count * bytesPerSample;
    if (in.remaining() < needed)
        in.fail("truncated: the header promises " + std::to_string(needed) + " bytes of samples, the file has " +
                std::to_string(in.remaining()));
    image.samples.resize(count);
    const std::size_t start = in.position();
    for (std::size_t i = 0; i < count; ++i) {
        const std::uint16_t v = bytesPerSample == 1
                                    ? in.byteAt(start + i)
                                    : static_cast<std::uint16_t>(in.byteAt(start + 2 * i) << 8 | in.byteAt(start + 2 * i + 1));
        if (v > maxValue)
            in.fail("sample " + std::to_string(i) + " is " + std::to_string(v) + ", above the maximum value " +
                    std::to_string(maxValue));
        image.samples[i] = v;
    }
    return image;
}

TensorD PpmImage::toUnitTensor() const {
    TensorD t({height, width, static_cast<std::int64_t>(channels)});
    const double scale = 1.0 / double(maxValue);
    for (std::size_t i = 0; i < samples.size(); ++i) t[i] = double(samples[i]) * scale;
    return t;
}

TensorD embeddedPhoto() { return parsePpm(embeddedPhotoPpm(), "embedded photo chelsea.ppm").toUnitTensor(); }

}  // namespace ks::io
