// The float32-lane kernels for the avx2 instruction set (compile flags in core/matmul/CMakeLists.txt).
#define KS_LANE_NS avx2
#define KS_LANE_ISA ::ks::Isa::Avx2
#define KS_LANE_BYTES 32
#define KS_LANE_ROWS 2
#include "matmul/lane_kernels.inc"
