#include "study/shard.hpp"

#include <charconv>
#include <stdexcept>

namespace ks::study {

std::pair<std::size_t, std::size_t> Shard::slice(std::size_t total) const {
    // Boundaries at floor(total·i/N): every point in exactly one slice, for any total and N.
    const auto boundary = [&](int i) {
        return static_cast<std::size_t>((static_cast<unsigned long long>(total) * unsigned(i)) / unsigned(count));
    };
    return {boundary(index - 1), boundary(index)};
}

bool Shard::owns(std::size_t point, std::size_t total) const {
    const auto [first, last] = slice(total);
    return point >= first && point < last;
}

Shard parseShard(std::string_view text) {
    const auto slash = text.find('/');
    const auto number = [&](std::string_view part, const char* what) {
        int value = 0;
        const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
        if (part.empty() || ec != std::errc() || end != part.data() + part.size())
            throw std::invalid_argument("shard '" + std::string(text) + "': " + what + " is not a whole number (expected I/N, e.g. 3/8)");
        return value;
    };
    if (slash == std::string_view::npos)
        throw std::invalid_argument("shard '" + std::string(text) + "': expected I/N, e.g. 3/8 for the third of eight");
    Shard shard{number(text.substr(0, slash), "I"), number(text.substr(slash + 1), "N")};
    if (shard.count < 1 || shard.count > 100000)
        throw std::invalid_argument("shard '" + std::string(text) + "': N must be in 1…100000");
    if (shard.index < 1 || shard.index > shard.count)
        throw std::invalid_argument("shard '" + std::string(text) + "': I must be in 1…" + std::to_string(shard.count) +
                                    " (shards count from 1)");
    return shard;
}

}  // namespace ks::study
