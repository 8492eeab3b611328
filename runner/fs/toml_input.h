#pragma once
// Text made safe to hand to TOML++ 3.3 (Debian 12's): asked whether some non-ASCII
// characters outside a string (U+00A1..U+0499 among them) are whitespace, it reaches
// __builtin_unreachable(), undefined behaviour on a file a hostile project or install wrote.
// Outside strings TOML allows no such character anyway, so each of their bytes becomes '?':
// the parser then reports the same line:col as invalid (or skips it, in a comment), and
// strings keep their exact bytes.

#include <string>
#include <string_view>

namespace safeinstall::runner {

std::string toml_input(std::string_view text);

}  // namespace safeinstall::runner
