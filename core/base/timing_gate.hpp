#pragma once
// Timings are only the kernel's when nothing else in the process shares the cores meanwhile. The GUI runs
// several studies at once (a sweep, the current setting, a bit-width curve, another page's SVD), and a median
// taken beside them was up to 10× the same setting measured alone. So: ks::measure holds this gate exclusively
// for its whole run, and heavy untimed work that may run beside it holds it shared, one chunk at a time (a
// precision point, an SVD, an accuracy pass), so that a timing waits for the chunk in progress and no new chunk
// starts until it is done.
//
// Never nest: no shared holder may call ks::measure, and nothing inside a timed function takes the gate
// (std::shared_mutex is not recursive). Kernels never take it; studies do, around whole steps.
#include <mutex>
#include <shared_mutex>

namespace ks {

std::shared_mutex& timingGate();

/// Held by untimed heavy work for one chunk.
class SharedComputeScope {
public:
    SharedComputeScope() : lock_(timingGate()) {}

private:
    std::shared_lock<std::shared_mutex> lock_;
};

/// Held by a timing for its whole run.
class ExclusiveTimingScope {
public:
    ExclusiveTimingScope() : lock_(timingGate()) {}

private:
    std::unique_lock<std::shared_mutex> lock_;
};

}  // namespace ks
