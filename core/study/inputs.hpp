#pragma once
// Seeded test data for the studies: the distributions an error depends on.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/tensor.hpp"

namespace ks::study {

enum class Distribution {
    Normal,     ///< N(0, 1), the assignment's randn
    Uniform,    ///< U[-1, 1], as in Lavin & Gray's accuracy table
    ImageLike,  ///< smooth, non-negative, in [0, 1]: a sum of random Gaussian blobs (pixels of a photo)
    Activations,  ///< real activations: relu(fc1) of the embedded MLP on test digits (sparse, skewed),
                  ///< read in order from a seeded offset (needs the embedded weights)
};

std::string distributionName(Distribution d);
/// "normal", "uniform", "image", "activations"; std::invalid_argument listing them otherwise.
Distribution parseDistribution(std::string_view name);
std::vector<std::string> distributionNames();

/// A tensor of `shape` drawn from `d`; the last two dimensions are the image plane for ImageLike.
TensorD makeInput(Distribution d, const Shape& shape, std::uint64_t seed);

}  // namespace ks::study
