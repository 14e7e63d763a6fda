#pragma once
// The machine's float32 multiply-add ceiling, measured: what every kernel's GFLOP/s is to be read
// against (`kernelscope-cli bench peak`). Published peaks assume a clock and a number of FMA units;
// on a shared virtual machine only a measurement says what a core delivers.
#include <string>

#include "base/isa.hpp"

namespace ks::matmul {

/// GFLOP/s of `threads` threads together (at most ks::threadCount(): a team of the parallel layer, all
/// running at once), each running independent chains of fused multiply-adds on registers (no memory
/// traffic: the limit of the FMA units alone) for about `seconds`, in the vectors of `isa` (sgemm's kernel
/// set for it). std::invalid_argument unless threads ≥ 1, seconds > 0 and the CPU runs `isa`.
double fmaPeakGflops(int threads, double seconds, Isa isa = activeIsa());

/// The instructions it runs, e.g. "avx2: 12 chains of 8-float FMAs".
std::string fmaPeakKernel(Isa isa = activeIsa());

}  // namespace ks::matmul
