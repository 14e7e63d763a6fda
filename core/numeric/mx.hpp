#pragma once
// OCP Microscaling (MX v1.0) block-scaled formats, quantise-dequantise: blocks of k consecutive elements
// (32 in the spec) share one E8M0 scale X = 2^(floor(log2(max |v|)) − emax), where emax is the exponent of
// the element format's largest normal; each v / X is rounded to the element format (nearest, ties to even)
// and saturates at its largest finite value, as microsoft/microxcaling does. (Groundwork of issue 18: the
// formats are not yet offered by the studies.)
//
// Element formats, every code a number unless said: E4M3 (OCP: only S.1111.111 is NaN; max 448), E5M2
// (IEEE-like, the all-ones exponent is inf/NaN; max 57344), E3M2 (FP6, max 28), E2M3 (FP6, max 7.5), E2M1
// (FP4: ±{0, 0.5, 1, 1.5, 2, 3, 4, 6}), INT8 (MXINT8: two's complement 1.6 fixed point, k/64, max 127/64,
// symmetric: −128/64 is not used).
//
// Edge cases, as defined here: a block whose values are all zero has the smallest scale (2^-127) and stays
// zero; a block holding a NaN or an infinity has the NaN scale (E8M0 0xFF) and every element becomes NaN; the
// shared exponent is clamped to E8M0's range [−127, 127]; a row whose length is not a multiple of k ends with
// a shorter block, which is the same as padding it with zeros (zeros change neither its scale nor its values).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ks::numeric {

enum class MxElement { E4M3, E5M2, E3M2, E2M3, E2M1, Int8 };

/// "mxfp8-e4m3", "mxfp8-e5m2", "mxfp6-e3m2", "mxfp6-e2m3", "mxfp4", "mxint8".
std::string mxName(MxElement element);
/// The element format an MX name names ("mxfp8" is mxfp8-e4m3), or none.
std::optional<MxElement> parseMxName(std::string_view name);
/// Every MX name, in the order above.
std::vector<std::string> mxNames();
/// The element format's exponent of its largest normal (E4M3 8, E5M2 15, E3M2 4, E2M3 2, E2M1 2, INT8 0).
int mxElementEmax(MxElement element);
/// The element format's values ≥ 0 in ascending order; for the float formats the i-th is the value of code i
/// (so a tie is broken toward the even index, the even mantissa).
const std::vector<double>& mxElementMagnitudes(MxElement element);
/// `v` rounded to the element format: nearest, ties to even, saturating at ± the largest finite value; NaN stays NaN.
double roundToMxElement(double v, MxElement element);
/// The shared exponent of a block with largest magnitude `amax`: floor(log2(amax)) − emax clamped to [−127, 127];
/// −127 for amax = 0; none (the NaN scale) for a NaN or infinite amax.
std::optional<int> mxSharedExponent(double amax, MxElement element);

/// Quantise-dequantise `in` (rows of `rowLength`, blocks of `blockSize` along each row) into `out`.
/// std::invalid_argument for a row length or block size < 1, or sizes that do not match.
void mxQuantize(std::span<const float> in, std::span<float> out, std::int64_t rowLength, MxElement element,
                int blockSize = 32);
/// The same for doubles (the scaled elements are exact in double).
void mxQuantize(std::span<const double> in, std::span<double> out, std::int64_t rowLength, MxElement element,
                int blockSize = 32);

}  // namespace ks::numeric
