#pragma once
// Benchmark timing: warm-up, then repeated runs until both a count and a time budget are met;
// the median is the figure to quote (these machines are shared and noisy).
#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "base/statistics.hpp"
#include "base/timing_gate.hpp"

namespace ks {

struct TimingOptions {
    int warmupRuns = 2;
    int minRepeats = 5;
    int maxRepeats = 1000;
    double minSeconds = 0.2;  ///< keep repeating until this much time was measured
};

struct TimingResult {
    double medianSeconds = 0;
    double minSeconds = 0;
    double maxSeconds = 0;
    int repeats = 0;
};

/// "median of ≥ 5 repeats and ≥ 0.05 s after 1 warm-up run": how a figure was timed, for captions.
std::string describeTiming(const TimingOptions& options);

/// Warm-up and repeats of `fn`, alone: holds the timing gate exclusively (base/timing_gate.hpp), so that no other
/// study's work in this process shares the cores meanwhile.
template <class Fn>
TimingResult measure(Fn&& fn, const TimingOptions& options = {}) {
    using Clock = std::chrono::steady_clock;
    const ExclusiveTimingScope alone;
    for (int i = 0; i < options.warmupRuns; ++i) fn();
    std::vector<double> samples;
    double total = 0;
    while (static_cast<int>(samples.size()) < options.maxRepeats &&
           (static_cast<int>(samples.size()) < options.minRepeats || total < options.minSeconds)) {
        const auto start = Clock::now();
        fn();
        const double s = std::chrono::duration<double>(Clock::now() - start).count();
        samples.push_back(s);
        total += s;
    }
    TimingResult r;
    r.repeats = static_cast<int>(samples.size());
    r.medianSeconds = median(samples);
    r.minSeconds = *std::min_element(samples.begin(), samples.end());
    r.maxSeconds = *std::max_element(samples.begin(), samples.end());
    return r;
}

}  // namespace ks
