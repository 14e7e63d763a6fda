#include "base/cpu_caches.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <stdexcept>

namespace ks {

namespace {

constexpr std::int64_t kKiB = 1024, kMiB = 1024 * kKiB, kGiB = 1024 * kMiB;

void validate(const CacheSizes& s) {
    if (!(s.l1d >= kKiB && s.l1d <= s.l2 && s.l2 <= kGiB && (s.l3 == 0 || s.l3 >= s.l2)))
        throw std::invalid_argument("cache sizes L1d=" + formatBytes(s.l1d) + ", L2=" + formatBytes(s.l2) + ", L3=" +
                                    formatBytes(s.l3) + ": need 1 KiB ≤ L1d ≤ L2 ≤ 1 GiB and L3 = 0 or ≥ L2");
}

std::int64_t parseSize(const std::string& item) {
    std::size_t used = 0;
    long long value = 0;
    try {
        value = std::stoll(item, &used);
    } catch (const std::exception&) {
        throw std::invalid_argument("'" + item + "' is not a size (bytes, or a number with K, M or G)");
    }
    std::int64_t unit = 1;
    const std::string suffix = item.substr(used);
    if (suffix == "K" || suffix == "k") unit = kKiB;
    else if (suffix == "M" || suffix == "m") unit = kMiB;
    else if (suffix == "G" || suffix == "g") unit = kGiB;
    else if (!suffix.empty()) throw std::invalid_argument("'" + item + "': unknown unit '" + suffix + "' (K, M or G)");
    if (value < 0 || value > 4 * kGiB / unit) throw std::invalid_argument("'" + item + "' is out of range");
    return value * unit;
}

/// Bytes of cpu0's cache of this level and type ("Data", "Unified") as Linux's sysfs lists it (the kernel's
/// reading of cpuid, per cache instance), or 0 when it does not.
std::int64_t sysfsCacheBytes(int level, const std::string& type) {
    for (int index = 0; index < 8; ++index) {
        const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/";
        std::ifstream levelFile(dir + "level"), typeFile(dir + "type"), sizeFile(dir + "size");
        int foundLevel = 0;
        std::string foundType, size;
        if (!(levelFile >> foundLevel) || !(typeFile >> foundType) || !(sizeFile >> size)) continue;
        if (foundLevel != level || foundType != type) continue;
        try {
            return parseSize(size);  // "32K"
        } catch (const std::invalid_argument&) {
            return 0;
        }
    }
    return 0;
}

std::mutex forcedMutex;
std::shared_ptr<const CacheSizes> forced;  // guarded by forcedMutex
std::atomic<unsigned> generation{0};

}  // namespace

CacheSizes detectedCacheSizes() {
    static const CacheSizes detected = [] {
        // sysfs first: it lists one instance of each cache, where glibc's sysconf may report the whole
        // package's L3 (256 MiB on an 8-CCD EPYC whose cores share 32 MiB); then sysconf; then a common core.
        CacheSizes s{sysfsCacheBytes(1, "Data"), sysfsCacheBytes(2, "Unified"), sysfsCacheBytes(3, "Unified"), "sysfs"};
        if (s.l1d == 0 || s.l2 == 0) {
            s = {32 * kKiB, 512 * kKiB, 8 * kMiB, "sysconf"};
            bool assumed = false;
            const auto read = [&](int name, std::int64_t& into) {
                const long value = sysconf(name);
                if (value > 0) into = value;
                else assumed = true;
            };
#if defined(_SC_LEVEL1_DCACHE_SIZE)
            read(_SC_LEVEL1_DCACHE_SIZE, s.l1d);
            read(_SC_LEVEL2_CACHE_SIZE, s.l2);
            read(_SC_LEVEL3_CACHE_SIZE, s.l3);
#else
            assumed = true;
#endif
            if (assumed) s.source = "assumed (the OS did not report every level)";
        }
        try {
            validate(s);
        } catch (const std::invalid_argument&) {  // an OS reporting nonsense: a common core's sizes
            s = {32 * kKiB, 512 * kKiB, 8 * kMiB, "assumed (the OS reported inconsistent sizes)"};
        }
        return s;
    }();
    return detected;
}

CacheSizes activeCacheSizes() {
    {
        const std::lock_guard lock(forcedMutex);
        if (forced) return *forced;
    }
    static const CacheSizes fromEnvironment = [] {
        const char* env = std::getenv("KS_CACHES");
        if (env && *env) {
            try {
                return parseCacheSizes(env);
            } catch (const std::invalid_argument&) {  // `kernelscope-cli info` reports it
            }
        }
        return detectedCacheSizes();
    }();
    return fromEnvironment;
}

void setCacheSizes(std::optional<CacheSizes> sizes) {
    if (sizes) {
        validate(*sizes);
        sizes->source = "set";
    }
    const std::lock_guard lock(forcedMutex);
    forced = sizes ? std::make_shared<const CacheSizes>(*sizes) : nullptr;
    generation.fetch_add(1, std::memory_order_release);
}

unsigned cacheSizesGeneration() { return generation.load(std::memory_order_acquire); }

CacheSizes parseCacheSizes(const std::string& text) {
    CacheSizes s;
    std::int64_t* fields[] = {&s.l1d, &s.l2, &s.l3};
    std::size_t start = 0;
    for (int i = 0; i < 3; ++i) {
        const std::size_t comma = text.find(',', start);
        if ((comma == std::string::npos) != (i == 2))
            throw std::invalid_argument("KS_CACHES='" + text + "': expected three sizes L1d,L2,L3, e.g. 32K,512K,32M");
        *fields[i] = parseSize(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        start = comma + 1;
    }
    s.source = "KS_CACHES";
    validate(s);
    return s;
}

std::string formatBytes(std::int64_t bytes) {
    if (bytes >= kMiB && bytes % kMiB == 0) return std::to_string(bytes / kMiB) + " MiB";
    if (bytes >= kKiB && bytes % kKiB == 0) return std::to_string(bytes / kKiB) + " KiB";
    return std::to_string(bytes) + " B";
}

}  // namespace ks
