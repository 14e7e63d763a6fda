#pragma once
// One of N deterministic slices of a sweep (`--shard I/N`): sweeps are embarrassingly parallel, so a study
// too large for one machine runs as N jobs (a Slurm array, GNU parallel) whose tables, joined in shard order,
// are the table of one unsharded run. A sweep lists its points in a fixed order and runs the contiguous
// slice its shard owns; the points' random inputs never depend on which points run.
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace ks::study {

struct Shard {
    int index = 1;  ///< 1…count, as "I/N" reads: the I-th of N
    int count = 1;

    bool whole() const { return count == 1; }
    /// The points [first, last) of `total` this shard runs: contiguous, in order, sizes differing by at most one;
    /// with more shards than points some slices are empty.
    std::pair<std::size_t, std::size_t> slice(std::size_t total) const;
    bool owns(std::size_t point, std::size_t total) const;
    std::string toString() const { return std::to_string(index) + "/" + std::to_string(count); }
};

/// "I/N" with 1 ≤ I ≤ N ≤ 100000; std::invalid_argument naming what is wrong.
Shard parseShard(std::string_view text);

}  // namespace ks::study
