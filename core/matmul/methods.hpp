#pragma once
// The registry's view of the implementations: one accessor per method file (internal header).
#include "matmul/matmul_method.hpp"

namespace ks::matmul {

const MatmulMethod& naiveMethod();
const MatmulMethod& denseMethod();
const MatmulMethod& svdMethod();
const MatmulMethod& logMethod();
const MatmulMethod& lnsSequentialMethod();
const MatmulMethod& lnsBinnedMethod();

}  // namespace ks::matmul
