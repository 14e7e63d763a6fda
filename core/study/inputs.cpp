#include "study/inputs.hpp"

#include <cmath>
#include <random>
#include <stdexcept>

#include "study/rank_study.hpp"

namespace ks::study {

std::string distributionName(Distribution d) {
    switch (d) {
    case Distribution::Normal: return "normal";
    case Distribution::Uniform: return "uniform";
    case Distribution::ImageLike: return "image";
    case Distribution::Activations: return "activations";
    }
    return "?";
}

std::vector<std::string> distributionNames() { return {"normal", "uniform", "image", "activations"}; }

Distribution parseDistribution(std::string_view name) {
    for (auto d : {Distribution::Normal, Distribution::Uniform, Distribution::ImageLike, Distribution::Activations})
        if (name == distributionName(d)) return d;
    throw std::invalid_argument("unknown distribution '" + std::string(name) +
                                "' (choose normal, uniform, image or activations)");
}

TensorD makeInput(Distribution d, const Shape& shape, std::uint64_t seed) {
    TensorD t(shape);
    std::mt19937_64 rng(seed);
    switch (d) {
    case Distribution::Normal: {
        std::normal_distribution<double> normal(0.0, 1.0);
        for (auto& v : t.storage()) v = normal(rng);
        break;
    }
    case Distribution::Uniform: {
        std::uniform_real_distribution<double> uniform(-1.0, 1.0);
        for (auto& v : t.storage()) v = uniform(rng);
        break;
    }
    case Distribution::Activations: {
        // One matrix of real activations (computed once), read from a seeded offset, wrapping around.
        static const TensorD activations = makeRankInput(RankInputKind::Activation).matrix;
        const std::size_t n = activations.size();
        std::size_t at = static_cast<std::size_t>(rng() % n);
        for (auto& v : t.storage()) {
            v = activations[at];
            at = (at + 1) % n;
        }
        break;
    }
    case Distribution::ImageLike: {
        const std::int64_t h = shape.size() >= 2 ? shape[shape.size() - 2] : 1;
        const std::int64_t w = shape.empty() ? 1 : shape.back();
        const std::int64_t planes = h * w > 0 ? elementCount(shape) / (h * w) : 0;
        std::uniform_real_distribution<double> unit(0.0, 1.0);
        for (std::int64_t p = 0; p < planes; ++p) {
            double* plane = t.data() + p * h * w;
            const int blobs = 6;
            double cy[blobs], cx[blobs], radius[blobs], weight[blobs];
            for (int b = 0; b < blobs; ++b) {
                cy[b] = unit(rng) * double(h);
                cx[b] = unit(rng) * double(w);
                radius[b] = (0.15 + 0.35 * unit(rng)) * double(std::max(h, w));
                weight[b] = unit(rng);
            }
            double lo = INFINITY, hi = -INFINITY;
            for (std::int64_t y = 0; y < h; ++y)
                for (std::int64_t x = 0; x < w; ++x) {
                    double v = 0;
                    for (int b = 0; b < blobs; ++b) {
                        const double dy = (double(y) - cy[b]) / radius[b], dx = (double(x) - cx[b]) / radius[b];
                        v += weight[b] * std::exp(-(dy * dy + dx * dx));
                    }
                    v += 0.02 * unit(rng);  // sensor noise
                    plane[y * w + x] = v;
                    lo = std::min(lo, v), hi = std::max(hi, v);
                }
            for (std::int64_t i = 0; i < h * w; ++i) plane[i] = hi > lo ? (plane[i] - lo) / (hi - lo) : 0.0;
        }
        break;
    }
    }
    return t;
}

}  // namespace ks::study
