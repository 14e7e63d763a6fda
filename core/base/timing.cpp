#include "base/timing.hpp"

#include <sstream>

namespace ks {

std::string describeTiming(const TimingOptions& o) {
    std::ostringstream out;
    out << "median of ≥ " << o.minRepeats << " repeats and ≥ " << o.minSeconds << " s after " << o.warmupRuns << " warm-up run"
        << (o.warmupRuns == 1 ? "" : "s") << ", timed alone";
    return out.str();
}

}  // namespace ks
