#include "numeric/accumulator_model.hpp"

#include <charconv>
#include <stdexcept>
#include <string>

namespace ks::numeric {

namespace {

/// The whole number at the start of `text` (advanced past it), or none.
std::optional<int> leadingNumber(std::string_view& text) {
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end == text.data()) return std::nullopt;
    text.remove_prefix(std::size_t(end - text.data()));
    return value;
}

[[noreturn]] void bad(std::string_view text, const std::string& why) {
    throw std::invalid_argument("accumulator model '" + std::string(text) + "': " + why +
                                " (sequential, pairwise, blockedN, kahan or tcNxB, optionally followed by ,promoteN)");
}

}  // namespace

AccumulatorModel parseAccumulatorModel(std::string_view original) {
    AccumulatorModel m;
    std::string_view text = original;
    std::string_view promote;
    if (const auto comma = text.find(','); comma != std::string_view::npos) {
        promote = text.substr(comma + 1);
        text = text.substr(0, comma);
    }
    if (text == "sequential") m.order = SummationOrder::Sequential;
    else if (text == "pairwise") m.order = SummationOrder::Pairwise;
    else if (text == "kahan") m.order = SummationOrder::Kahan;
    else if (text.rfind("blocked", 0) == 0) {
        text.remove_prefix(7);
        const auto n = leadingNumber(text);
        if (!n || !text.empty() || *n < 1) bad(original, "blockedN needs a block size N ≥ 1");
        m.order = SummationOrder::Blocked;
        m.blockSize = *n;
    } else if (text.rfind("tc", 0) == 0) {
        text.remove_prefix(2);
        const auto n = leadingNumber(text);
        if (!n || text.empty() || text[0] != 'x') bad(original, "tcNxB needs a group size N and aligned bits B, e.g. tc4x24");
        text.remove_prefix(1);
        const auto b = leadingNumber(text);
        if (!b || !text.empty()) bad(original, "tcNxB needs a group size N and aligned bits B, e.g. tc4x24");
        if (*n < 1 || *n > 64) bad(original, "the group size must be 1…64");
        if (*b < 2 || *b > 53) bad(original, "the aligned bits must be 2…53");
        m.order = SummationOrder::TensorCore;
        m.groupSize = *n;
        m.alignedBits = *b;
    } else {
        bad(original, "unknown order");
    }
    if (!promote.empty() || original.find(',') != std::string_view::npos) {
        if (promote.rfind("promote", 0) != 0) bad(original, "after ',' comes promoteN");
        promote.remove_prefix(7);
        const auto n = leadingNumber(promote);
        if (!n || !promote.empty() || *n < 1) bad(original, "promoteN needs an interval N ≥ 1");
        m.promoteEvery = *n;
    }
    return m;
}

std::string accumulatorModelName(const AccumulatorModel& m) {
    std::string name;
    switch (m.order) {
        case SummationOrder::Sequential: name = "sequential"; break;
        case SummationOrder::Pairwise: name = "pairwise"; break;
        case SummationOrder::Blocked: name = "blocked" + std::to_string(m.blockSize); break;
        case SummationOrder::Kahan: name = "kahan"; break;
        case SummationOrder::TensorCore:
            name = "tc" + std::to_string(m.groupSize) + "x" + std::to_string(m.alignedBits);
            break;
    }
    if (m.promoteEvery > 0) name += ",promote" + std::to_string(m.promoteEvery);
    return name;
}

std::string describe(const AccumulatorModel& m) {
    std::string text;
    switch (m.order) {
        case SummationOrder::Sequential: text = "sums in order, each rounded"; break;
        case SummationOrder::Pairwise: text = "pairwise (tree) summation"; break;
        case SummationOrder::Blocked:
            text = "partial sums of " + std::to_string(m.blockSize) + " terms added to the running sum";
            break;
        case SummationOrder::Kahan: text = "Kahan-compensated sums"; break;
        case SummationOrder::TensorCore:
            text = "tensor-core sums: exact products, " + std::to_string(m.groupSize) +
                   " at a time aligned with the running sum to its largest exponent, truncated to " +
                   std::to_string(m.alignedBits) + " bits, normalised toward zero";
            break;
    }
    if (m.promoteEvery > 0)
        text += "; promoted into float32 every " + std::to_string(m.promoteEvery) + " products";
    return text;
}

}  // namespace ks::numeric
