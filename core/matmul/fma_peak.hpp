#pragma once
// The machine's float32 multiply-add ceiling, measured: what every kernel's GFLOP/s is to be read
// against (`kernelscope-cli bench peak`). Published peaks assume a clock and a number of FMA units;
// on a shared virtual machine only a measurement says what a core delivers.
namespace ks::matmul {

/// GFLOP/s of `threads` threads together (at most ks::threadCount(): a team of the parallel layer, all
/// running at once), each running independent chains of fused multiply-adds on registers (no memory
/// traffic: the limit of the FMA units alone) for about `seconds`.
/// std::invalid_argument unless threads ≥ 1 and seconds > 0.
double fmaPeakGflops(int threads, double seconds);

/// The instructions it runs, e.g. "avx2-fma, 12 chains of 8 floats".
const char* fmaPeakKernel();

}  // namespace ks::matmul
