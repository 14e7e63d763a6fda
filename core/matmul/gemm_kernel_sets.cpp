// Which of sgemm's kernel sets (gemm_kernels_<set>.cpp) runs: the widest the CPU has, unless KS_ISA or a
// test asks for another (the same choice as the fast emulation engine's lane kernels).
#include <atomic>
#include <stdexcept>
#include <string>

#include "matmul/gemm_kernel.hpp"

namespace ks::matmul::kernel {

namespace generic { extern const KernelSet kernelSet; }
namespace avx2 { extern const KernelSet kernelSet; }
namespace avx512 { extern const KernelSet kernelSet; }
namespace avx512_on_avx2 { extern const KernelSet kernelSet; }

namespace {
std::atomic<const KernelSet*> forcedSet{nullptr};
}

const KernelSet& kernelSetFor(Isa isa) {
    switch (isa) {
    case Isa::Avx512: return avx512::kernelSet;
    case Isa::Avx2: return avx2::kernelSet;
    case Isa::Generic: break;
    }
    return generic::kernelSet;
}

const KernelSet& activeKernelSet() {
    const KernelSet* forced = forcedSet.load(std::memory_order_acquire);
    return forced ? *forced : kernelSetFor(activeIsa());
}

std::vector<const KernelSet*> runnableKernelSets() {
    std::vector<const KernelSet*> sets;
    for (const KernelSet* set : {&generic::kernelSet, &avx2::kernelSet, &avx512_on_avx2::kernelSet, &avx512::kernelSet})
        if (isaSupported(set->isa)) sets.push_back(set);
    return sets;
}

void setActiveKernelSet(const KernelSet* set) {
    if (set && !isaSupported(set->isa))
        throw std::invalid_argument(std::string("this CPU cannot run the ") + set->name + " kernels (it has " +
                                    isaName(detectedIsa()) + ")");
    forcedSet.store(set, std::memory_order_release);
}

}  // namespace ks::matmul::kernel
