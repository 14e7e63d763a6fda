#pragma once
// A budget for single allocations, for tests of readers that take hostile input: an executable that
// links allocation_guard.cpp has its global operator new/delete replaced; while a guard is armed, a request
// above the budget is recorded and answered with std::bad_alloc instead of being made, so a loader that
// believes a lying header fails the test at once, on any machine, without taking the memory.
// It sees C++ allocations only: libzip and zlib call malloc, which the sanitizer build bounds through
// ASan's max_allocation_size_mb (tst_fuzz_corpus sets it to the same budget in __asan_default_options).
// Replacing operator new works under ASan too: ASan intercepts the malloc and free called here.
#include <cstddef>

namespace ks::test {

inline constexpr std::size_t kAllocationBudget = std::size_t{512} << 20;

/// Arms the guard for its lifetime (not reentrant; one thread arms it, any thread's allocations count).
class AllocationGuard {
public:
    explicit AllocationGuard(std::size_t budget = kAllocationBudget);
    ~AllocationGuard();
    AllocationGuard(const AllocationGuard&) = delete;
    AllocationGuard& operator=(const AllocationGuard&) = delete;
    /// The largest request above the budget since the guard was armed, 0 if none.
    std::size_t largestRefused() const;
};

}  // namespace ks::test
