#pragma once
// Work sharing for a loop over [0, count) split into one block per thread, on a shared machine: each
// thread takes the pieces of its own block first, then the pieces left in the others' blocks. A
// thread that is slowed down (a vCPU descheduled for a while) leaves the rest of its block to the
// others instead of making them wait for it at the end; when nobody is slowed down, every thread
// runs exactly its own block, in order, as a static split would. (With a static split, the rank-8
// factored product's median was 1.4× its best time while the machine was busy, 1.2× with this.)
// The parallel layer's helper: loops use it through parallelClaims / parallelClaimsPerThread
// (base/parallel.hpp), which give each thread its block.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>

namespace ks {

class BlockClaims {
public:
    /// Blocks [count·b / blocks, count·(b + 1) / blocks), claimed in pieces of at most `piece`.
    BlockClaims(std::int64_t count, int blocks, std::int64_t piece)
        : count_(count), blocks_(std::max(blocks, 1)), piece_(std::max<std::int64_t>(piece, 1)),
          next_(std::make_unique<std::atomic<std::int64_t>[]>(static_cast<std::size_t>(blocks_))) {
        for (int b = 0; b < blocks_; ++b) next_[static_cast<std::size_t>(b)].store(blockBegin(b), std::memory_order_relaxed);
    }

    int blocks() const { return blocks_; }

    /// fn(begin, end) for every piece this thread claims: block `own` first, then the others in turn.
    /// Each piece goes to exactly one caller; together the callers cover [0, count).
    template <class Fn>
    void run(int own, Fn&& fn) {
        for (int i = 0; i < blocks_; ++i) {
            const int block = (own + i) % blocks_;
            const std::int64_t end = blockBegin(block + 1);
            std::atomic<std::int64_t>& next = next_[static_cast<std::size_t>(block)];
            for (std::int64_t begin; (begin = next.fetch_add(piece_, std::memory_order_relaxed)) < end;)
                fn(begin, std::min(begin + piece_, end));
        }
    }

private:
    std::int64_t blockBegin(int block) const { return count_ * block / blocks_; }

    std::int64_t count_;
    int blocks_;
    std::int64_t piece_;
    std::unique_ptr<std::atomic<std::int64_t>[]> next_;
};

}  // namespace ks
