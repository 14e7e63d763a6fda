#include "base/isa.hpp"

#include <atomic>
#include <cstdlib>
#include <stdexcept>

namespace ks {

namespace {

std::atomic<int> forcedIsa{-1};  // -1: not forced by setIsa

Isa fromEnvironment() {
    const char* env = std::getenv("KS_ISA");
    if (!env || !*env) return detectedIsa();
    try {
        const Isa asked = parseIsa(env);
        return isaSupported(asked) ? asked : detectedIsa();
    } catch (const std::invalid_argument&) {
        return detectedIsa();  // `kernelscope-cli info` reports the bad value; kernels still run
    }
}

}  // namespace

Isa detectedIsa() {
#if defined(__x86_64__) || defined(__i386__)
    static const Isa detected = [] {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("f16c"))
            return Isa::Avx512;
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))
            return Isa::Avx2;
        return Isa::Generic;
    }();
    return detected;
#else
    return Isa::Generic;
#endif
}

bool isaSupported(Isa isa) { return static_cast<int>(isa) <= static_cast<int>(detectedIsa()); }

Isa activeIsa() {
    const int forced = forcedIsa.load(std::memory_order_relaxed);
    if (forced >= 0) return static_cast<Isa>(forced);
    static const Isa fromEnv = fromEnvironment();
    return fromEnv;
}

void setIsa(std::optional<Isa> isa) {
    if (isa && !isaSupported(*isa))
        throw std::invalid_argument("this CPU cannot run the " + isaName(*isa) + " kernels (it has " +
                                    isaName(detectedIsa()) + ")");
    forcedIsa.store(isa ? static_cast<int>(*isa) : -1, std::memory_order_relaxed);
}

std::string isaName(Isa isa) {
    switch (isa) {
    case Isa::Generic: return "generic";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
    }
    return "?";
}

Isa parseIsa(std::string_view name) {
    for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512})
        if (name == isaName(isa)) return isa;
    throw std::invalid_argument("unknown instruction set '" + std::string(name) + "' (expected generic, avx2 or avx512)");
}

}  // namespace ks
