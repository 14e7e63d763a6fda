// `kernelscope-cli info`: versions of the libraries in use and the machine's vector features.
#include <iostream>
#include <thread>

#include "base/version.hpp"
#include "command.hpp"

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
        return 0;
    };
    return c;
}
