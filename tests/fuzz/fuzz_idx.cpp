// libFuzzer target: the IDX / gzip digit reader (fuzz_inputs.hpp). See fuzz_weights.cpp for how to
// build and run.
#include "fuzz_inputs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    (void)ks::fuzz::idxInput({reinterpret_cast<const std::byte*>(data), size});
    return 0;
}
