#pragma once
#include <string>

namespace ks {

/// "0.1.0"
std::string versionString();
/// The versions of the numeric libraries in use, e.g. "Eigen 3.4.0", "FFTW fftw-3.3.10".
std::string eigenVersion();
std::string fftwVersion();

}  // namespace ks
