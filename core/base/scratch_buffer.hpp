#pragma once
// Growable, 64-byte aligned float storage that keeps its capacity and is never zero-filled: for
// buffers a kernel overwrites on every call (packed panels, a layer's activations), where fresh
// pages or std::vector's fill would cost a measurable share of a short product.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>

namespace ks {

class ScratchBuffer {
public:
    /// At least `count` floats, their contents unspecified; earlier pointers are invalid when it grows.
    float* get(std::int64_t count) {
        if (count > capacity_) {
            const std::size_t bytes = (static_cast<std::size_t>(count) * sizeof(float) + 63) / 64 * 64;
            data_.reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
            if (!data_) throw std::bad_alloc();
            capacity_ = count;
        }
        return data_.get();
    }

private:
    struct Free {
        void operator()(float* p) const { std::free(p); }
    };
    std::unique_ptr<float, Free> data_;
    std::int64_t capacity_ = 0;
};

}  // namespace ks
