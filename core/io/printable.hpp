#pragma once
#include <string>
#include <string_view>

namespace ks::io {

/// `text` made safe to show in a terminal or a message: a string read from a file (a zip entry name, a tensor
/// name, a header field) may hold escape sequences that would recolour, retitle or rewrite the user's terminal,
/// or newlines that forge further lines of output. Valid printable UTF-8 is kept as it is; escaped are
///  - C0 controls (including ESC, TAB, LF, CR) and DEL, as \xNN;
///  - C1 controls U+0080..U+009F (a terminal reads U+009B as CSI), as the bytes of their encoding, \xC2\xNN;
///  - bytes that are not part of valid UTF-8 (stray continuation bytes, truncated or overlong sequences,
///    surrogates, code points above U+10FFFF), one \xNN per byte;
///  - bidirectional formatting characters (U+200E/F, U+202A..U+202E, U+2066..U+2069) and the line and paragraph
///    separators U+2028/U+2029, which reorder or break the text around them, as \u{NNNN}.
/// A backslash is kept, so that printable(printable(s)) == printable(s): a message holding an already escaped name
/// can be made safe once more (the CLI does so with every error message) without doubling its escapes.
std::string printable(std::string_view text);

}  // namespace ks::io
