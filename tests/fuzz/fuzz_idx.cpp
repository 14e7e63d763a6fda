// libFuzzer target: the IDX / gzip digit reader. The input is split at its first byte's position
// into an image file and a label file. See fuzz_weights.cpp for how to build and run.
#include <cstddef>
#include <cstdint>
#include <exception>

#include "io/mnist.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t cut = 1 + (size - 1) * data[0] / 255;
    const auto* bytes = reinterpret_cast<const std::byte*>(data);
    try {
        (void)ks::io::parseIdx({bytes + 1, cut - 1}, {bytes + cut, size - cut}, "fuzz");
    } catch (const std::exception&) {
    }
    return 0;
}
