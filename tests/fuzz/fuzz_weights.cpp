// libFuzzer target: any bytes through the weight-file readers and the model builder (fuzz_inputs.hpp).
// Seed corpus: tests/data/weights/ (and tests/fuzz/corpus/weights/ for inputs that reached new coverage).
//   cmake -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DKS_FUZZ=ON -DKS_BUILD_GUI=OFF
//   ninja -C build-fuzz fuzz_weights && build-fuzz/tests/fuzz/fuzz_weights -max_total_time=300 \
//       -rss_limit_mb=2048 tests/fuzz/corpus/weights tests/data/weights
#include "fuzz_inputs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    (void)ks::fuzz::weightsInput({reinterpret_cast<const std::byte*>(data), size});
    return 0;
}
