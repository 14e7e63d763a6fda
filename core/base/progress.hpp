#pragma once
// Progress reports and cooperative cancellation for long work (sweeps, training, benchmarks).
// Core code calls `progress.step(done, total)` at natural points; a cancelled run throws Cancelled
// from there, so every long loop stops within one step.
#include <atomic>
#include <functional>
#include <stdexcept>

namespace ks {

struct Cancelled : std::runtime_error {
    Cancelled() : std::runtime_error("cancelled") {}
};

class Progress {
public:
    using Callback = std::function<void(double fraction)>;

    Progress() = default;
    Progress(Callback callback, const std::atomic<bool>* cancelFlag)
        : callback_(std::move(callback)), cancel_(cancelFlag) {}

    bool cancelled() const { return cancel_ && cancel_->load(std::memory_order_relaxed); }
    /// Throws Cancelled when cancellation was requested.
    void check() const {
        if (cancelled()) throw Cancelled();
    }
    /// Report `done` of `total` units and check for cancellation.
    void step(double done, double total) const {
        check();
        if (callback_ && total > 0) callback_(done / total);
    }

private:
    Callback callback_;
    const std::atomic<bool>* cancel_ = nullptr;
};

}  // namespace ks
