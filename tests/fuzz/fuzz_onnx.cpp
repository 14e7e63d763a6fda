// libFuzzer target: any bytes through the ONNX reader and the graph builder (fuzz_inputs.hpp).
// Seed corpus: tests/data/onnx/ and tests/fuzz/corpus/onnx/ (make_hostile_onnx.py).
//   cmake -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DKS_FUZZ=ON -DKS_BUILD_GUI=OFF
//   ninja -C build-fuzz fuzz_onnx && build-fuzz/tests/fuzz/fuzz_onnx -max_total_time=300 \
//       -rss_limit_mb=2048 tests/fuzz/corpus/onnx tests/data/onnx
#include "fuzz_inputs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    (void)ks::fuzz::onnxInput({reinterpret_cast<const std::byte*>(data), size});
    return 0;
}
