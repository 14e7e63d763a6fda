// `kernelscope-cli info`: versions of the libraries in use, the machine's vector features and caches, and
// which kernels were chosen for them (and why).
#include <cstdlib>
#include <stdexcept>
#include <iostream>
#include <thread>

#include "base/cpu_caches.hpp"
#include "base/isa.hpp"
#include "base/version.hpp"
#include "command.hpp"
#include "matmul/gemm_blocking.hpp"
#include "matmul/gemm_kernel.hpp"

KS_CLI_COMMAND(infoCommand) {
    ks::cli::Command c;
    c.name = "info";
    c.summary = "Print the versions of KernelScope, Eigen and FFTW, and the CPU features in use";
    c.run = [](const ks::cli::Args&) {
        std::cout << "KernelScope " << ks::versionString() << "\n"
                  << "Eigen       " << ks::eigenVersion() << "\n"
                  << "FFTW        " << ks::fftwVersion() << "\n"
                  << "threads     " << std::thread::hardware_concurrency() << "\n"
                  << "compiled for:"
#ifdef __AVX512F__
                  << " avx512f"
#endif
#ifdef __AVX2__
                  << " avx2"
#endif
#ifdef __FMA__
                  << " fma"
#endif
#ifdef __F16C__
                  << " f16c"
#endif
                  << "\n";
        // The run-time-dispatched kernels: sgemm's and the fast emulation engine's float32 lanes.
        const char* forced = std::getenv("KS_ISA");
        std::cout << "dispatched kernels: " << ks::isaName(ks::activeIsa()) << " (the CPU runs "
                  << ks::isaName(ks::detectedIsa());
        if (forced && *forced) {
            bool known = true;
            try {
                (void)ks::parseIsa(forced);
            } catch (const std::invalid_argument&) {
                known = false;
            }
            std::cout << "; KS_ISA=" << forced
                      << (!known ? " is not generic, avx2 or avx512: ignored"
                                 : ks::isaSupported(ks::parseIsa(forced)) ? "" : " is beyond this CPU: ignored");
        }
        std::cout << ")\n";
        const ks::CacheSizes caches = ks::activeCacheSizes();
        std::cout << "caches: L1d " << ks::formatBytes(caches.l1d) << ", L2 " << ks::formatBytes(caches.l2) << ", L3 "
                  << (caches.l3 ? ks::formatBytes(caches.l3) : std::string("none")) << " (" << caches.source;
        if (const char* env = std::getenv("KS_CACHES"); env && *env && caches.source != "KS_CACHES") {
            try {
                (void)ks::parseCacheSizes(env);
            } catch (const std::invalid_argument& e) {
                std::cout << "; " << e.what() << ": ignored";
            }
        }
        std::cout << ")\n"
                  << "sgemm: " << ks::matmul::describeGemmPlan(ks::matmul::activeGemmPlan()) << "\n"
                  << "  (tiles of the dispatched set; KC, MC, NC derived from the caches above)\n";
        const ks::matmul::kernel::KernelSet& set = ks::matmul::kernel::activeKernelSet();
        std::cout << "winograd: alpha^2 products on sgemm's " << set.wide.name << " micro-kernel (" << set.narrow.name
                  << " up to " << set.narrow.nr << " tiles), blocks of " << set.wide.nr
                  << " tiles; transforms avx2, 8 tiles a vector\n";
        return 0;
    };
    return c;
}
