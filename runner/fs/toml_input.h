#pragma once
// Text made safe to hand to TOML++ 3.3 (Debian 12's): asked whether some non-ASCII
// characters (U+00A1..U+0499 among them) are whitespace, it reaches __builtin_unreachable(),
// undefined behaviour on a file a hostile project or install wrote. Its scanners look at
// such characters in more places than one can predict from outside (a malformed value is
// read on through what looks like a string), so no byte >= 0x80 reaches it at all:
// - in basic strings each character becomes its \u or \U escape (the same value);
// - a literal string holding one becomes the basic string with the same value;
// - elsewhere (comments, keys, junk) each byte becomes '?', which TOML refuses outside a
//   comment, so the parser reports the same line as invalid;
// - bytes that are not UTF-8 inside a string become DEL, which TOML refuses there too.
// Columns in the parser's errors can move right on a line after an escaped character.

#include <string>
#include <string_view>

namespace safeinstall::runner {

std::string toml_input(std::string_view text);

}  // namespace safeinstall::runner
