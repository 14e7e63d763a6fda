#pragma once
// Helpers shared by the test executables (tests/support is on every test's include path).
#include <QString>
#include <QTest>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <span>
#include <type_traits>

namespace ks::test {

/// The message of the exception `fn` throws, or an empty string when it throws none.
template <class Fn>
QString errorOf(Fn&& fn) {
    try {
        fn();
    } catch (const std::exception& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}

// Bit-exact comparison. Qt 6's QCOMPARE on float/double is fuzzy (relative 1e-12 for double, 1e-5 for
// float, and near zero it only checks that both sides are tiny), so it cannot tell neighbouring values,
// +0 from -0, or a flushed subnormal from zero. Values that are exact by construction are compared here
// bit for bit: same type on both sides (no silent conversion), -0 differs from +0, NaN equals only the
// same NaN pattern.

template <class T>
concept ExactFloat = std::is_same_v<T, float> || std::is_same_v<T, double>;

template <ExactFloat T>
auto bitsOf(T v) {
    if constexpr (std::is_same_v<T, float>)
        return std::bit_cast<std::uint32_t>(v);
    else
        return std::bit_cast<std::uint64_t>(v);
}

template <ExactFloat T>
bool sameBits(T a, T b) {
    return bitsOf(a) == bitsOf(b);
}

/// The same value bit for bit, or both NaN (whatever their payloads and signs).
template <ExactFloat T>
bool sameResult(T a, T b) {
    return std::isnan(a) ? std::isnan(b) : sameBits(a, b);
}

/// "0x1.8p+0 (1.5, bits 0x3ff8000000000000)": hex float, shortest decimal and the raw bits.
template <ExactFloat T>
QByteArray describeBits(T v) {
    char text[128];
    std::snprintf(text, sizeof text, "%a (%.*g, bits 0x%llx)", static_cast<double>(v),
                  std::is_same_v<T, float> ? 9 : 17, static_cast<double>(v),
                  static_cast<unsigned long long>(bitsOf(v)));
    return QByteArray(text);
}

/// A double as a hex float, exact and short (QString::arg and QString::asprintf have no 'a' format).
inline QString hexFloat(double v) {
    char text[64];
    std::snprintf(text, sizeof text, "%a", v);
    return QString::fromLatin1(text);
}

/// Reports a mismatch through QTest and returns false; used by KS_COMPARE_EXACT.
template <class A, class E>
bool compareExact(A actual, E expected, const char* actualText, const char* expectedText, const char* file,
                  int line) {
    static_assert(ExactFloat<A> && std::is_same_v<A, E>,
                  "KS_COMPARE_EXACT compares two values of the same floating type (float or double)");
    if (sameBits(actual, expected)) return true;
    const QByteArray message = QByteArray("Values differ bit for bit.\n   Actual   (") + actualText +
                               "): " + describeBits(actual) + "\n   Expected (" + expectedText +
                               "): " + describeBits(expected);
    QTest::qFail(message.constData(), file, line);
    return false;
}

/// Index of the first element whose bits differ, or -1 when the two spans are identical bit for bit.
template <ExactFloat T>
std::ptrdiff_t firstBitDifference(std::span<const T> a, std::span<const T> b) {
    if (a.size() != b.size()) return 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (!sameBits(a[i], b[i])) return static_cast<std::ptrdiff_t>(i);
    return -1;
}

}  // namespace ks::test

/// QCOMPARE for values that must be equal bit for bit (see ks::test::compareExact).
#define KS_COMPARE_EXACT(actual, expected)                                                                 \
    do {                                                                                                   \
        if (!::ks::test::compareExact((actual), (expected), #actual, #expected, __FILE__, __LINE__)) return; \
    } while (false)
