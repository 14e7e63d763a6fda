#include "conv/conv_problem.hpp"

#include <cstdio>
#include <fstream>
#include <stdexcept>

#include <sys/resource.h>
#include <unistd.h>

namespace ks::conv {

namespace {

std::string gigabytes(double bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f GB", bytes * 1e-9);
    return text;
}

MemoryLimit findMemoryLimit() {
    MemoryLimit limit;
    const long pages = ::sysconf(_SC_PHYS_PAGES), pageSize = ::sysconf(_SC_PAGESIZE);
    limit.bytes = pages > 0 && pageSize > 0 ? std::uint64_t(pages) * std::uint64_t(pageSize) : UINT64_MAX;
    limit.source = "the machine's physical memory";
    const auto lower = [&](std::uint64_t bytes, const char* source) {
        if (bytes < limit.bytes) {
            limit.bytes = bytes;
            limit.source = source;
        }
    };
    struct rlimit r {};
    if (::getrlimit(RLIMIT_AS, &r) == 0 && r.rlim_cur != RLIM_INFINITY)
        lower(r.rlim_cur, "the address-space limit (ulimit -v)");
    if (::getrlimit(RLIMIT_DATA, &r) == 0 && r.rlim_cur != RLIM_INFINITY)
        lower(r.rlim_cur, "the data-segment limit (ulimit -d)");
    // cgroup v2 as a container sees it: "max" or a number of bytes.
    std::ifstream cgroup("/sys/fs/cgroup/memory.max");
    std::uint64_t cgroupBytes = 0;
    if (cgroup >> cgroupBytes) lower(cgroupBytes, "the cgroup's memory.max");
    return limit;
}

}  // namespace

const MemoryLimit& memoryLimit() {
    static const MemoryLimit limit = findMemoryLimit();
    return limit;
}

double ConvProblem::minimumBytes() const {
    const double paddedInput = padH || padW ? double(N) * double(C) * double(H + 2 * padH) * double(W + 2 * padW) : 0;
    return 4.0 * (double(N) * C * H * W + double(K) * C * R * S + double(N) * K * P() * Q() + paddedInput);
}

ConvProblem ConvProblem::single(std::int64_t height, std::int64_t width, std::int64_t kernelHeight,
                                std::int64_t kernelWidth) {
    ConvProblem p;
    p.H = height;
    p.W = width;
    p.R = kernelHeight;
    p.S = kernelWidth;
    return p;
}

ConvProblem ConvProblem::layer(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w,
                               std::int64_t k, std::int64_t kernel, std::int64_t stride, std::int64_t pad) {
    ConvProblem p;
    p.N = n;
    p.C = c;
    p.H = h;
    p.W = w;
    p.K = k;
    p.R = p.S = kernel;
    p.strideH = p.strideW = stride;
    p.padH = p.padW = pad;
    return p;
}

double ConvProblem::flops() const {
    return 2.0 * static_cast<double>(N) * static_cast<double>(K) * static_cast<double>(C) *
           static_cast<double>(P()) * static_cast<double>(Q()) * static_cast<double>(R) * static_cast<double>(S);
}

std::optional<std::string> ConvProblem::validationError() const {
    const auto positive = [](const char* what, std::int64_t v) -> std::optional<std::string> {
        if (v < 1) return std::string(what) + " must be at least 1, got " + std::to_string(v);
        return std::nullopt;
    };
    for (auto check : {positive("batch N", N), positive("input channels C", C), positive("input height H", H),
                       positive("input width W", W), positive("output channels K", K),
                       positive("kernel height R", R), positive("kernel width S", S),
                       positive("stride height", strideH), positive("stride width", strideW)})
        if (check) return check;
    if (padH < 0 || padW < 0)
        return "padding must not be negative, got " + std::to_string(padH) + "x" + std::to_string(padW);
    if (R > H + 2 * padH || S > W + 2 * padW)
        return "kernel " + std::to_string(R) + "x" + std::to_string(S) + " is larger than the padded input " +
               std::to_string(H + 2 * padH) + "x" + std::to_string(W + 2 * padW);
    // Keep every index and element count comfortably inside 64 bits and in memory terms sane.
    constexpr std::int64_t limit = std::int64_t{1} << 40;
    const double counts[] = {double(N) * C * H * W, double(K) * C * R * S, double(N) * K * P() * Q()};
    for (double c : counts)
        if (c > double(limit)) return "problem too large (more than 2^40 elements in one tensor)";
    const MemoryLimit& memory = memoryLimit();
    if (minimumBytes() > double(memory.bytes)) {
        const double outputBytes = 4.0 * double(N) * K * P() * Q();
        return "too large for memory: the output " + std::to_string(N) + "x" + std::to_string(K) + "x" +
               std::to_string(P()) + "x" + std::to_string(Q()) + " takes " + gigabytes(outputBytes) +
               " as float32, and with the input" + (padH || padW ? ", its padded copy" : "") + " and the weights " +
               gigabytes(minimumBytes()) + ", more than the " + gigabytes(double(memory.bytes)) + " of " +
               memory.source;
    }
    return std::nullopt;
}

void ConvProblem::validate() const {
    if (auto error = validationError()) throw std::invalid_argument("convolution " + toString() + ": " + *error);
}

std::string ConvProblem::toString() const {
    std::string s = "N=" + std::to_string(N) + " C=" + std::to_string(C) + " H=" + std::to_string(H) +
                    " W=" + std::to_string(W) + " K=" + std::to_string(K) + " R=" + std::to_string(R) +
                    " S=" + std::to_string(S);
    s += strideH == strideW ? " stride=" + std::to_string(strideH)
                            : " stride=" + std::to_string(strideH) + "x" + std::to_string(strideW);
    s += padH == padW ? " pad=" + std::to_string(padH)
                      : " pad=" + std::to_string(padH) + "x" + std::to_string(padW);
    return s;
}

ConvProblem problemFromShapes(const Shape& input, const Shape& weight, std::int64_t stride, std::int64_t pad) {
    ConvProblem p;
    if (input.size() == 2 && weight.size() == 2) {
        p = ConvProblem::single(input[0], input[1], weight[0], weight[1]);
    } else if (input.size() == 4 && weight.size() == 4) {
        if (input[1] != weight[1])
            throw std::invalid_argument("input has " + std::to_string(input[1]) + " channels " +
                                        shapeToString(input) + " but the weights expect " +
                                        std::to_string(weight[1]) + " " + shapeToString(weight));
        p = ConvProblem::layer(input[0], input[1], input[2], input[3], weight[0], 1);
        p.R = weight[2];
        p.S = weight[3];
    } else {
        throw std::invalid_argument("convolution needs a 2-D input with a 2-D kernel (single channel) or a 4-D "
                                    "NCHW input with 4-D KCRS weights; got input " +
                                    shapeToString(input) + " and weights " + shapeToString(weight));
    }
    p.strideH = p.strideW = stride;
    p.padH = p.padW = pad;
    p.validate();
    return p;
}

}  // namespace ks::conv
