// The float32-lane kernels for the generic instruction set (compile flags in core/matmul/CMakeLists.txt).
#define KS_LANE_NS generic
#define KS_LANE_ISA ::ks::Isa::Generic
#define KS_LANE_BYTES 16
#define KS_LANE_ROWS 1
#include "matmul/lane_kernels.inc"
