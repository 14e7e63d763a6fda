#pragma once
// Families of formats that a bit-width slider walks through: one parameter varies (mantissa bits,
// word length, log fraction bits, integer bits), the rest is fixed. Positions are that parameter's
// value, so a slider shows the number of bits directly; marked presets (fp32, bf16, ...) are ticks.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "numeric/format.hpp"

namespace ks::numeric {

class FormatFamily {
public:
    enum class Varies { MantissaBits, FixedWordBits, LogFractionBits, IntBits };
    struct Preset {
        int position;
        std::string name;  ///< formatName of the format at that position, or a familiar alias
    };

    /// `base` holds the fixed parameters; for FixedWordBits, base.wordBits - base.fractionBits
    /// (the integer bits, sign included) stays fixed while the word grows.
    FormatFamily(std::string id, std::string label, Varies varies, Format base, int first, int last);

    const std::string& id() const { return id_; }
    const std::string& label() const { return label_; }
    int first() const { return first_; }
    int last() const { return last_; }
    Varies varies() const { return varies_; }
    /// The format at a position in [first, last]; std::out_of_range naming the family otherwise.
    Format at(int position) const;
    /// The position of f in this family, if it belongs to it.
    std::optional<int> positionOf(const Format& f) const;
    /// Positions whose format is a well-known one (fp32, bf16, fp16, e4m3, int8, ...).
    std::vector<Preset> presets() const;
    /// Where a slider starts: the widest familiar member (fp16, fp32, int8, ...), else the last position.
    int defaultPosition() const;

private:
    std::string id_, label_;
    Varies varies_;
    Format base_;
    int first_, last_;
};

/// e8 (mantissa 1…23: bf16, tf32, fp32), e5 (1…10: e5m2, fp16), e4 finite-only (1…6: e4m3),
/// e11 (1…52: fp64), fixed (4 integer bits, 4…32 bits), lns (5 integer bits, fraction 0…10),
/// int (per-tensor scaled, 2…16 bits).
const std::vector<FormatFamily>& standardFamilies();
/// A standard family by id; std::invalid_argument listing the ids otherwise.
const FormatFamily& standardFamily(std::string_view id);

}  // namespace ks::numeric
