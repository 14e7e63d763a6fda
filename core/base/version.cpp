#include "base/version.hpp"

#include <fftw3.h>

#include <Eigen/Core>

namespace ks {

std::string versionString() { return KS_VERSION; }

std::string eigenVersion() {
    return std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
           std::to_string(EIGEN_MINOR_VERSION);
}

std::string fftwVersion() {
    std::string v = fftw_version;  // "fftw-3.3.10-sse2-avx"
    if (v.rfind("fftw-", 0) == 0) v = v.substr(5);
    return v;
}

}  // namespace ks
