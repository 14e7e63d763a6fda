#pragma once
// Helpers shared by the test executables (tests/support is on every test's include path).
#include <QString>

#include <exception>

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

}  // namespace ks::test
