#pragma once
// Scaled storage formats: groups of elements that share a scale, and where the groups lie.
//
// A scaled format is an element format, how far a scale reaches (the whole tensor, one channel, or a
// block of consecutive elements) and how the scale is chosen and stored:
//   MX (OCP Microscaling v1.0)   an E8M0 power of two per block: 2^(floor(log2 amax) − emax), elements
//                                rounded to the MX element (nearest-even, saturating; numeric/mx.hpp)
//   NVFP4 (NVIDIA Blackwell)     E2M1 elements, an E4M3 scale per block of 16 and a float32 scale per
//                                tensor (TransformerEngine's recipe: the tensor scale amax / (448·6) puts
//                                the block scales amax_block / 6 within E4M3's range)
//   any other format             a float32 scale amax / (the element's largest value); float elements
//                                rounded to nearest-even and saturated, integers symmetric (no −2^(N−1))
// Names (parseScaledFormat / scaledFormatName):
//   mxfp8-e4m3 (mxfp8), mxfp8-e5m2, mxfp6-e3m2, mxfp6-e2m3, mxfp4, mxint8   blocks of 32
//   nvfp4                                                                 blocks of 16
//   F@tensor, F@channel, F@blockN   F a float format (e4m3, fp16, e2m1, ...) or intN: e4m3@channel, int4@block64
//   the MX names and nvfp4 take the same suffixes to change their reach: mxfp4@block16
//
// Where the groups lie: a tensor is seen as lines along its reduction axis (ReductionLines: a matrix
// product's K; a convolution's input channels C), as hardware blocks them. "channel" gives each line
// one scale (a weight matrix's output channel, an activation's row); "blockN" splits each line into
// blocks of N consecutive elements, the last one shorter when N does not divide the line (the same as
// padding it with zeros, which change neither a block's scale nor its values).
//
// Extremes: a float32 scale is kept within float32's range (double inputs beyond it saturate); an NVFP4 block whose
// scale rounds to zero in E4M3 (its largest value below about 2^-9 / 448 of the tensor's) becomes zero.
// Special values: a group holding a NaN or an infinity becomes all NaN (MX: the NaN scale 0xFF; the
// others the same, for one rule); an all-zero group stays zero. The quantisation rounds to nearest
// whatever the compute specification's rounding mode: MX and NVFP4 define it so; the mode applies to the
// products and sums that follow.
//
// Dequantised values are element × scale(s) in double: exact for MX (at most 8 significant bits times a
// power of two), at most 30 bits for NVFP4 and 35 for float32-scaled fp16; a kernel then stores them
// in float32, its storage format for these specifications (numeric/compute_spec.hpp). NVFP4's tensor scale is
// thereby folded into the stored values, where hardware applies it after the product: the two differ by that one
// float32 rounding, below 2^-24 relative.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "numeric/format.hpp"
#include "numeric/mx.hpp"

namespace ks::numeric {

enum class ScaleReach : std::uint8_t { Tensor, Channel, Block };

/// How the scales are chosen and stored.
enum class ScaleScheme : std::uint8_t {
    Mx,       ///< E8M0 powers of two, the element an MX element (mx)
    Nvfp4,    ///< E2M1 elements, E4M3 block scales, one float32 tensor scale
    Float32,  ///< one float32 scale per group, the element any Float format or intN (element)
};

struct ScaledFormat {
    ScaleScheme scheme = ScaleScheme::Mx;
    MxElement mx = MxElement::E4M3;  ///< Mx only
    Format element = Format::fp32(); ///< Float32 only: a Float format or a ScaledInt (its intBits)
    ScaleReach reach = ScaleReach::Block;
    int blockSize = 32;              ///< Block only, ≥ 1

    static ScaledFormat mxFormat(MxElement e, int blockSize = 32);
    static ScaledFormat nvfp4(int blockSize = 16);
    static ScaledFormat withFloat32Scale(const Format& element, ScaleReach reach, int blockSize = 0);

    bool operator==(const ScaledFormat&) const = default;
};

/// The largest block size a name may give.
inline constexpr int kMaxScaleBlock = 1 << 20;

/// A scaled format's name parsed (grammar above); none when `name` is not one (then it may be an element-wise
/// format). Throws FormatError for a name that is one but is wrong (int4@block0, mxfp4@row).
std::optional<ScaledFormat> parseScaledFormat(std::string_view name);
/// The canonical name: parseScaledFormat(scaledFormatName(f)) == f.
std::string scaledFormatName(const ScaledFormat& format);
/// One line for `formats`: element, scale, reach, bits per element including the scales' share.
std::string describe(const ScaledFormat& format);
/// The element's width plus the block scale's bits spread over the block (MX 8/32, NVFP4 8/16; per channel
/// or tensor: the element's width).
double bitsPerElement(const ScaledFormat& format);
/// Throws FormatError when the format cannot exist (block size, an element that is not a Float or intN).
void validate(const ScaledFormat& format);

/// A tensor as lines along its reduction axis: element (o, r, i) at (o·length + r)·inner + i, the scales running
/// along r. A row-major M×K matrix reduced over K is {M, K, 1}; a K×N one reduced over K is {1, K, N}; NCHW
/// activations reduced over C are {N, C, H·W}.
struct ReductionLines {
    std::int64_t outer = 1, length = 1, inner = 1;
    std::int64_t count() const { return outer * length * inner; }
};

/// Quantise-dequantise `values` in place (std::invalid_argument when the lines do not match its size).
void quantizeScaled(std::span<double> values, ReductionLines lines, const ScaledFormat& format);
/// The same on float32 values; the dequantised values rounded to float32 (nearest).
void quantizeScaled(std::span<float> values, ReductionLines lines, const ScaledFormat& format);

}  // namespace ks::numeric
