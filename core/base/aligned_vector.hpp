#pragma once
// std::vector with 64-byte aligned storage: for data a kernel reads in whole vectors (packed weights,
// padded images). std::vector<float> is only 16-byte aligned, so where its storage lands decides
// whether every 32- or 64-byte load splits across two cache lines: the same kernel then ran 25%
// faster or slower from one heap layout to the next.
#include <cstddef>
#include <cstdlib>
#include <new>
#include <vector>

namespace ks {

template <class T, std::size_t Alignment = 64>
struct AlignedAllocator {
    using value_type = T;
    AlignedAllocator() = default;
    template <class U>
    AlignedAllocator(const AlignedAllocator<U, Alignment>&) noexcept {}
    template <class U>
    struct rebind {
        using other = AlignedAllocator<U, Alignment>;
    };

    T* allocate(std::size_t count) {
        if (count > std::size_t(-1) / sizeof(T) - Alignment) throw std::bad_array_new_length();
        const std::size_t bytes = (count * sizeof(T) + Alignment - 1) / Alignment * Alignment;
        void* p = std::aligned_alloc(Alignment, bytes);
        if (!p) throw std::bad_alloc();
        return static_cast<T*>(p);
    }
    void deallocate(T* p, std::size_t) noexcept { std::free(p); }
    template <class U>
    bool operator==(const AlignedAllocator<U, Alignment>&) const noexcept { return true; }
};

template <class T>
using AlignedVector = std::vector<T, AlignedAllocator<T>>;

}  // namespace ks
