#include "numeric/format.hpp"

#include "numeric/compute_spec.hpp"

namespace ks::numeric {

Format Format::floating(int exponentBits, int mantissaBits) {
    Format f;
    f.kind = FormatKind::Float;
    f.exponentBits = exponentBits;
    f.mantissaBits = mantissaBits;
    return f;
}

Format Format::e4m3() {
    Format f = floating(4, 3);
    f.specials = Specials::FiniteOnlyOcp;
    f.overflow = Overflow::Saturate;
    return f;
}

Format Format::fixed(int wordBits, int fractionBits) {
    Format f;
    f.kind = FormatKind::Fixed;
    f.wordBits = wordBits;
    f.fractionBits = fractionBits;
    return f;
}

Format Format::scaledInt(int bits) {
    Format f;
    f.kind = FormatKind::ScaledInt;
    f.intBits = bits;
    return f;
}

Format Format::logarithmic(int integerBits, int fractionBits) {
    Format f;
    f.kind = FormatKind::Log;
    f.logIntegerBits = integerBits;
    f.logFractionBits = fractionBits;
    return f;
}

ComputeSpec ComputeSpec::uniform(const Format& f, Rounding r) {
    return mixed(f, f, r);
}

ComputeSpec ComputeSpec::mixed(const Format& storage, const Format& accumulate, Rounding r) {
    ComputeSpec s;
    s.storage = storage;
    s.product = storage;
    s.accumulate = accumulate;
    s.rounding = r;
    s.native = false;
    return s;
}

}  // namespace ks::numeric
