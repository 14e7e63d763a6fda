#include "base/timing_gate.hpp"

namespace ks {

std::shared_mutex& timingGate() {
    static std::shared_mutex gate;
    return gate;
}

}  // namespace ks
