#pragma once
// The registry's factories, one per algorithm file (internal header).
#include <memory>

#include "matmul/matmul_algorithm.hpp"

namespace ks::matmul {

std::unique_ptr<MatmulAlgorithm> makeNaiveMatmul();
std::unique_ptr<MatmulAlgorithm> makeDenseMatmul();
std::unique_ptr<MatmulAlgorithm> makeSvdMatmul();
std::unique_ptr<MatmulAlgorithm> makeLogMatmul();
std::unique_ptr<MatmulAlgorithm> makeLnsSequentialMatmul();
std::unique_ptr<MatmulAlgorithm> makeLnsBinnedMatmul();

}  // namespace ks::matmul
