#pragma once
// zlib's compressor for test fixtures: the files our readers inflate are made by a library we did not write.
#include <zlib.h>

#include <string>

namespace ks::test {

/// `data` compressed by zlib at level 9. windowBits as deflateInit2 takes it: MAX_WBITS + 16 for a gzip member (as
/// gzip(1) writes it), -MAX_WBITS for raw DEFLATE. flush: Z_FINISH for a whole stream, Z_SYNC_FLUSH for non-final
/// blocks ending on a byte boundary (pieces compressed on their own that can follow one another in one stream).
inline std::string deflateWith(const std::string& data, int windowBits, int flush) {
    z_stream z{};
    if (deflateInit2(&z, 9, Z_DEFLATED, windowBits, 9, Z_DEFAULT_STRATEGY) != Z_OK) return {};
    std::string out(deflateBound(&z, static_cast<uLong>(data.size())) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, flush);
    out.resize(z.total_out);  // one call: everything written since deflateInit2
    deflateEnd(&z);
    return out;
}

}  // namespace ks::test
