#pragma once
// The 2-D transform of conv_fft.cpp's fft2d (rows, then columns) on planes of Fh × Fw complex values
// (re and im apart, row-major), L rows or columns at a time through a gathered copy in which element i
// of lane l sits at [i·L + l]: the layout of the lane FFTs (fft_lanes.cpp on float32 lanes,
// fft_double_lanes.cpp on double lanes), which supply the 1-D transform of L interleaved sequences.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <vector>

namespace ks::conv::lanes {

/// `Transform` is callable as transform(n, rows, inverse, re, im): n interleaved points per lane, `rows`
/// true for the row transforms (length Fw) and false for the column ones (length Fh).
template <class T, std::int64_t L, class Transform>
class LanePlanes {
public:
    LanePlanes(std::int64_t fh, std::int64_t fw, Transform transform) : fh_(fh), fw_(fw), transform_(std::move(transform)) {
        // The forward transform of a row of +0 (re and im), which every such row of a plane has (+0 is not
        // a fixed point: +0 times a negative twiddle is −0); the padded planes have many.
        std::vector<T> re(static_cast<std::size_t>(fw * L), T(0)), im(re.size(), T(0));
        transform_(fw, true, false, re.data(), im.data());
        for (std::int64_t j = 0; j < fw; ++j) {
            zeroRowRe_.push_back(re[static_cast<std::size_t>(j * L)]);
            zeroRowIm_.push_back(im[static_cast<std::size_t>(j * L)]);
        }
    }

    /// What transform2d's `scratch` holds.
    std::int64_t scratchSize() const { return 2 * std::max(fh_, fw_) * L; }

    /// In place. Rows from `zeroFrom` on are +0 and not read (a forward transform's padding need not be
    /// written); the forward transform of rows of +0 is copied.
    void transform2d(T* re, T* im, bool inverse, T* scratch, std::int64_t zeroFrom = -1) const {
        T* sre = scratch;
        T* sim = scratch + std::max(fh_, fw_) * L;
        if (zeroFrom < 0 || inverse) zeroFrom = fh_;
        for (std::int64_t r0 = 0; r0 < fh_; r0 += L) {
            const std::int64_t rows = std::min(L, fh_ - r0);
            if (!inverse && (r0 >= zeroFrom || allPositiveZero(re + r0 * fw_, im + r0 * fw_, std::min(rows, zeroFrom - r0) * fw_))) {
                for (std::int64_t l = 0; l < rows; ++l) {
                    std::copy(zeroRowRe_.begin(), zeroRowRe_.end(), re + (r0 + l) * fw_);
                    std::copy(zeroRowIm_.begin(), zeroRowIm_.end(), im + (r0 + l) * fw_);
                }
                continue;
            }
            for (std::int64_t j = 0; j < fw_; ++j)
                for (std::int64_t l = 0; l < L; ++l) {
                    const bool read = l < rows && r0 + l < zeroFrom;
                    sre[j * L + l] = read ? re[(r0 + l) * fw_ + j] : T(0);
                    sim[j * L + l] = read ? im[(r0 + l) * fw_ + j] : T(0);
                }
            transform_(fw_, true, inverse, sre, sim);
            for (std::int64_t l = 0; l < rows; ++l)
                for (std::int64_t j = 0; j < fw_; ++j) {
                    re[(r0 + l) * fw_ + j] = sre[j * L + l];
                    im[(r0 + l) * fw_ + j] = sim[j * L + l];
                }
        }
        for (std::int64_t c0 = 0; c0 < fw_; c0 += L) {
            const std::int64_t cols = std::min(L, fw_ - c0);
            for (std::int64_t i = 0; i < fh_; ++i) {
                std::fill(sre + i * L, sre + (i + 1) * L, T(0));
                std::fill(sim + i * L, sim + (i + 1) * L, T(0));
                std::copy_n(re + i * fw_ + c0, cols, sre + i * L);
                std::copy_n(im + i * fw_ + c0, cols, sim + i * L);
            }
            transform_(fh_, false, inverse, sre, sim);
            for (std::int64_t i = 0; i < fh_; ++i) {
                std::copy_n(sre + i * L, cols, re + i * fw_ + c0);
                std::copy_n(sim + i * L, cols, im + i * fw_ + c0);
            }
        }
    }

private:
    static bool allPositiveZero(const T* re, const T* im, std::int64_t count) {
        for (std::int64_t i = 0; i < count; ++i)
            if (!isPositiveZero(re[i]) || !isPositiveZero(im[i])) return false;
        return true;
    }
    static bool isPositiveZero(T v) {
        if constexpr (sizeof(T) == 4) return std::bit_cast<std::uint32_t>(v) == 0;
        else return std::bit_cast<std::uint64_t>(v) == 0;
    }

    std::int64_t fh_, fw_;
    Transform transform_;
    std::vector<T> zeroRowRe_, zeroRowIm_;
};

}  // namespace ks::conv::lanes
