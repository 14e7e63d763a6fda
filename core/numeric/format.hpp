#pragma once
// Number formats that the precision slider walks through: one value type over four families.
#include <cstdint>
#include <string>
#include <string_view>

namespace ks::numeric {

enum class FormatKind : std::uint8_t {
    Float,      ///< binary floating point: exponentBits, mantissaBits (stored, without the hidden bit)
    Fixed,      ///< two's complement fixed point: wordBits, fractionBits, saturating
    ScaledInt,  ///< symmetric int-N with a per-tensor scale from the largest magnitude
    Log,        ///< sign + log2|x| with integer and fraction bits, explicit zero
};

enum class Overflow : std::uint8_t { Infinity, Saturate };

/// The OCP FP8 E4M3 format keeps the all-ones exponent for finite numbers (only S.1111.111 is NaN).
enum class Specials : std::uint8_t { Ieee, FiniteOnlyOcp };

struct Format {
    FormatKind kind = FormatKind::Float;
    // Float
    int exponentBits = 8;
    int mantissaBits = 23;
    bool subnormals = true;
    Overflow overflow = Overflow::Infinity;
    Specials specials = Specials::Ieee;
    // Fixed
    int wordBits = 16;
    int fractionBits = 8;
    // ScaledInt
    int intBits = 8;
    // Log
    int logIntegerBits = 4;
    int logFractionBits = 3;

    static Format floating(int exponentBits, int mantissaBits);
    static Format fixed(int wordBits, int fractionBits);
    static Format scaledInt(int bits);
    static Format logarithmic(int integerBits, int fractionBits);
    static Format fp64() { return floating(11, 52); }
    static Format fp32() { return floating(8, 23); }
    static Format tf32() { return floating(8, 10); }
    static Format fp16() { return floating(5, 10); }
    static Format bf16() { return floating(8, 7); }
    static Format e5m2() { return floating(5, 2); }
    static Format e4m3();  ///< OCP: no infinities, max 448, saturating

    bool operator==(const Format&) const = default;
};

}  // namespace ks::numeric
