// libFuzzer target: any bytes through the weight-file readers and the model builder. Every input
// must end in a result or a std::exception: a crash, a sanitizer report or a huge allocation is a
// finding. Seed corpus: tests/data/weights/ (and tests/fuzz/corpus/weights/ for kept findings).
//   cmake -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DKS_FUZZ=ON -DKS_BUILD_GUI=OFF
//   ninja -C build-fuzz fuzz_weights && build-fuzz/tests/fuzz/fuzz_weights -max_total_time=300 \
//       -rss_limit_mb=2048 tests/fuzz/corpus/weights tests/data/weights
#include <cstddef>
#include <cstdint>
#include <exception>

#include "io/weights.hpp"
#include "nn/model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const auto set = ks::io::parseWeights({reinterpret_cast<const std::byte*>(data), size}, "fuzz");
        (void)ks::nn::Model::fromWeights(set);
    } catch (const std::exception&) {
    }
    return 0;
}
