#pragma once
// Number formats that the precision slider walks through: one value type over four families.
//
// Names (parseFormat / formatName), lower case, no spaces:
//   fp64 fp32 tf32 fp16 bf16          IEEE-style binary floats (e11m52 e8m23 e8m10 e5m10 e8m7)
//   e5m2                              fp8 E5M2, IEEE-style (infinities, max 57344)
//   e4m3, fp8                         fp8 E4M3 as OCP defines it: no infinities, one NaN, max 448,
//                                     saturating (same as e4m3-fn)
//   eXmY                              any exponent width X in 2…11 and stored mantissa Y in 0…52
//   fixedW.F                          two's complement fixed point, W bits in all (2…53), F of them
//                                     fraction bits (0…64), saturating: fixed16.8 covers [-128, 128)
//   intN, intN@S                      symmetric N-bit integer (2…32) times a scale: per tensor when
//                                     no scale is given (see quantizeScaledInt), else the fixed S
//   lnsW.F                            W-bit logarithmic number (3…31): a sign bit and a
//                                     (W-1)-bit two's complement log2|x| with F fraction bits;
//                                     the most negative code is the explicit zero. lns8.3 is the
//                                     8-bit "1 sign, 4 integer, 3 fraction" design.
// Float names take '-'-separated suffixes after the base name, in this order:
//   -fn    OCP-style finite-only: the all-ones exponent holds numbers, only the all-ones code is NaN
//   -ieee  IEEE-style specials (only needed to ask for an IEEE e4m3)
//   -nosub no subnormals: results below the smallest normal round to 0 or to it (flush)
//   -sat   overflow saturates to the largest finite value;  -inf: overflow gives infinity
//          (for a finite-only format, -inf means the OCP non-saturating mode: overflow gives NaN)
// IEEE-style formats default to -inf, finite-only ones to -sat. formatName prints only the suffixes
// that differ from the defaults, so formatName(parseFormat(s)) == the canonical spelling of s.
#include <cstdint>
#include <stdexcept>
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

/// A format that cannot exist (bad widths) or a name that does not parse. The message names the input.
struct FormatError : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

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
    // ScaledInt: values are k * scale with |k| <= 2^(intBits-1) - 1.
    int intBits = 8;
    /// 0: the scale is chosen per tensor from its largest magnitude (quantizeScaledInt, roundArray);
    /// a single value cannot be rounded without one (roundTo throws). > 0: a fixed scale.
    double scale = 0.0;
    // Log: value = ±2^(code / 2^logFractionBits), code a (logIntegerBits + logFractionBits)-bit
    // two's complement integer whose most negative value stands for zero.
    int logIntegerBits = 4;
    int logFractionBits = 3;

    static Format floating(int exponentBits, int mantissaBits);
    static Format fixed(int wordBits, int fractionBits);
    static Format scaledInt(int bits);
    static Format scaledInt(int bits, double scale);
    static Format logarithmic(int integerBits, int fractionBits);
    static Format fp64() { return floating(11, 52); }
    static Format fp32() { return floating(8, 23); }
    static Format tf32() { return floating(8, 10); }
    static Format fp16() { return floating(5, 10); }
    static Format bf16() { return floating(8, 7); }
    static Format e5m2() { return floating(5, 2); }
    static Format e4m3();  ///< OCP: no infinities, max 448, saturating

    Format withSubnormals(bool on) const { Format f = *this; f.subnormals = on; return f; }
    Format withOverflow(Overflow o) const { Format f = *this; f.overflow = o; return f; }
    Format withScale(double s) const { Format f = *this; f.scale = s; return f; }

    bool operator==(const Format&) const = default;
};

/// Throws FormatError naming the field when the widths are out of the supported ranges (see above).
void validate(const Format& format);

/// Parse a format name (grammar at the top of this file). Throws FormatError quoting the input.
Format parseFormat(std::string_view name);
/// The canonical name: parseFormat(formatName(f)) == f for every valid f.
std::string formatName(const Format& format);
/// One line: kind, width, range, smallest subnormal / resolution, epsilon, overflow behaviour.
std::string describe(const Format& format);

/// Storage width in bits (ScaledInt: the integer alone, the per-tensor scale is extra).
int bitWidth(const Format& format);
/// Largest finite magnitude (ScaledInt: needs a scale; without one, the largest integer).
double maxFinite(const Format& format);
/// Smallest positive normal number (Float); the resolution for Fixed / scaled int; smallest for Log.
double minNormal(const Format& format);
/// Smallest positive number: the smallest subnormal for Float (minNormal without subnormals).
double minPositive(const Format& format);
/// Float: 2^-mantissaBits, the gap after 1. Fixed: the resolution 2^-F. Log: 2^(2^-F) - 1, the
/// relative gap between neighbours. ScaledInt: 1 / (2^(N-1) - 1), the step relative to the maximum.
double epsilon(const Format& format);
/// Float: mantissaBits + 1. Other kinds: 0 (no fixed relative precision).
int precisionBits(const Format& format);

/// Float codes (bit patterns of the format: sign, exponent, mantissa), for tests and storage.
/// encodeFloat requires x to be representable (round it first); NaN gives the canonical NaN code
/// (all exponent and mantissa bits set for finite-only formats, quiet NaN otherwise).
std::uint64_t encodeFloat(double x, const Format& format);
double decodeFloat(std::uint64_t code, const Format& format);

}  // namespace ks::numeric
