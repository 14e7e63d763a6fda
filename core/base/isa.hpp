#pragma once
// Which instruction set the run-time-dispatched kernels use. The build compiles each such kernel once
// per instruction set (per-file -march flags, see core/matmul/CMakeLists.txt); at run time the widest
// one the CPU has is chosen, unless KS_ISA=generic|avx2|avx512 asks for a narrower one (tests and
// comparisons run each variant the machine can run, and always the generic one).
#include <optional>
#include <string>
#include <string_view>

namespace ks {

enum class Isa {
    Generic,  ///< x86-64 baseline (SSE2): portable C++ and GCC vector extensions
    Avx2,     ///< AVX2 + FMA + F16C (x86-64-v3)
    Avx512,   ///< AVX-512 F/BW/DQ/VL (x86-64-v4) + F16C
};

/// The widest instruction set this CPU runs (cpuid, via the compiler's builtins).
Isa detectedIsa();
/// The set the dispatched kernels use: detectedIsa(), or KS_ISA / setIsa() when narrower.
Isa activeIsa();
/// Forces a set (tests, benchmarks); std::invalid_argument when the CPU lacks it. nullopt: back to the
/// default (KS_ISA, else detected).
void setIsa(std::optional<Isa> isa);
bool isaSupported(Isa isa);

std::string isaName(Isa isa);
/// "generic", "avx2", "avx512"; std::invalid_argument naming the valid ones otherwise.
Isa parseIsa(std::string_view name);

}  // namespace ks
