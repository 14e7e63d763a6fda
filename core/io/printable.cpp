#include "io/printable.hpp"

#include <cstdint>
#include <cstdio>

namespace ks::io {

namespace {

void appendByteEscape(std::string& out, unsigned char byte) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += "\\x";
    out += kHex[byte >> 4];
    out += kHex[byte & 0xf];
}

void appendCodePointEscape(std::string& out, std::uint32_t codePoint) {
    char text[16];
    std::snprintf(text, sizeof text, "\\u{%04x}", static_cast<unsigned>(codePoint));
    out += text;
}

/// Length of the valid UTF-8 sequence at the start of `text` and its code point, or 0 when the first byte does
/// not start one. The ranges are those of RFC 3629's table (no overlongs, no surrogates, nothing above U+10FFFF).
std::size_t decodeUtf8(std::string_view text, std::uint32_t& codePoint) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char lead = byte(0);
    std::size_t length = 0;
    unsigned char secondMin = 0x80, secondMax = 0xbf;
    if (lead < 0x80) {
        codePoint = lead;
        return 1;
    } else if (lead >= 0xc2 && lead <= 0xdf) {
        length = 2;
        codePoint = lead & 0x1fu;
    } else if (lead >= 0xe0 && lead <= 0xef) {
        length = 3;
        codePoint = lead & 0x0fu;
        if (lead == 0xe0) secondMin = 0xa0;  // below: overlong
        if (lead == 0xed) secondMax = 0x9f;  // above: UTF-16 surrogates
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        length = 4;
        codePoint = lead & 0x07u;
        if (lead == 0xf0) secondMin = 0x90;  // below: overlong
        if (lead == 0xf4) secondMax = 0x8f;  // above: beyond U+10FFFF
    } else {
        return 0;  // a continuation byte, an overlong lead (C0, C1) or F5..FF
    }
    if (text.size() < length) return 0;
    if (byte(1) < secondMin || byte(1) > secondMax) return 0;
    codePoint = (codePoint << 6) | (byte(1) & 0x3fu);
    for (std::size_t i = 2; i < length; ++i) {
        if ((byte(i) & 0xc0u) != 0x80u) return 0;
        codePoint = (codePoint << 6) | (byte(i) & 0x3fu);
    }
    return length;
}

bool reordersOrBreaksText(std::uint32_t codePoint) {
    return codePoint == 0x200e || codePoint == 0x200f || (codePoint >= 0x2028 && codePoint <= 0x202e) ||
           (codePoint >= 0x2066 && codePoint <= 0x2069);
}

}  // namespace

std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        std::uint32_t codePoint = 0;
        const std::size_t length = decodeUtf8(text.substr(i), codePoint);
        if (length == 0) {
            appendByteEscape(out, static_cast<unsigned char>(text[i]));
            ++i;
            continue;
        }
        if (codePoint < 0x20 || codePoint == 0x7f || (codePoint >= 0x80 && codePoint <= 0x9f)) {
            for (std::size_t k = 0; k < length; ++k) appendByteEscape(out, static_cast<unsigned char>(text[i + k]));
        } else if (reordersOrBreaksText(codePoint)) {
            appendCodePointEscape(out, codePoint);
        } else {
            out.append(text.substr(i, length));
        }
        i += length;
    }
    return out;
}

}  // namespace ks::io
