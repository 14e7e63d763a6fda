// Replacements of every global operator new and delete (see allocation_guard.hpp). All of them allocate
// with malloc or aligned_alloc and free with free, so any delete matches any new.
#include "allocation_guard.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {

std::atomic<std::size_t> g_budget{0};  // 0: not armed
std::atomic<std::size_t> g_largestRefused{0};

void* allocate(std::size_t size, std::size_t alignment) {
    const std::size_t budget = g_budget.load(std::memory_order_relaxed);
    if (budget != 0 && size > budget) {
        std::size_t seen = g_largestRefused.load();
        while (size > seen && !g_largestRefused.compare_exchange_weak(seen, size)) {
        }
        throw std::bad_alloc();
    }
    if (size == 0) size = 1;
    void* p = nullptr;
    if (alignment <= alignof(std::max_align_t)) {
        p = std::malloc(size);
    } else {
        const std::size_t rounded = (size + alignment - 1) / alignment * alignment;  // aligned_alloc wants a multiple
        p = std::aligned_alloc(alignment, rounded);
    }
    if (!p) throw std::bad_alloc();
    return p;
}

void* allocateNoThrow(std::size_t size, std::size_t alignment) noexcept {
    try {
        return allocate(size, alignment);
    } catch (const std::bad_alloc&) {
        return nullptr;
    }
}

}  // namespace

namespace ks::test {

AllocationGuard::AllocationGuard(std::size_t budget) {
    g_largestRefused = 0;
    g_budget = budget;
}
AllocationGuard::~AllocationGuard() { g_budget = 0; }
std::size_t AllocationGuard::largestRefused() const { return g_largestRefused.load(); }

}  // namespace ks::test

constexpr std::size_t kPlain = alignof(std::max_align_t);

void* operator new(std::size_t n) { return allocate(n, kPlain); }
void* operator new[](std::size_t n) { return allocate(n, kPlain); }
void* operator new(std::size_t n, std::align_val_t a) { return allocate(n, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return allocate(n, static_cast<std::size_t>(a)); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return allocateNoThrow(n, kPlain); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return allocateNoThrow(n, kPlain); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return allocateNoThrow(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return allocateNoThrow(n, static_cast<std::size_t>(a));
}

void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
