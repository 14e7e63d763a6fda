#pragma once
// Text from core (std::string and exception messages, UTF-8) as QString: the one q() of ui/.
// Include it from .cpp files only, so that no header brings it into a file with a q() of its own.
#include <QString>

#include <string>

namespace ks::ui {

inline QString q(const std::string& s) { return QString::fromStdString(s); }
/// A C string such as std::exception::what().
inline QString q(const char* s) { return QString::fromUtf8(s); }

}  // namespace ks::ui
