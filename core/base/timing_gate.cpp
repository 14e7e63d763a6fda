#include "base/timing_gate.hpp"

#include <sstream>

#include "base/timing.hpp"

namespace ks {

std::shared_mutex& timingGate() {
    static std::shared_mutex gate;
    return gate;
}

std::string describeTiming(const TimingOptions& o) {
    std::ostringstream out;
    out << "median of ≥ " << o.minRepeats << " repeats and ≥ " << o.minSeconds << " s after " << o.warmupRuns << " warm-up run"
        << (o.warmupRuns == 1 ? "" : "s") << ", timed alone";
    return out.str();
}

}  // namespace ks
