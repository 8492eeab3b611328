#pragma once
// Text that came from inside the sandbox (file names, argv, package and host names) made
// safe to show on a terminal. A byte a terminal would act on — C0 and C1 controls (ESC, CSI,
// OSC, BEL, CR, newline…) and DEL —, a byte that is not part of valid UTF-8, and a code
// point that reorders or breaks a line invisibly (bidi controls, U+2028/U+2029) is written
// as \DDD, its decimal value, the way DNS presentation format writes unusual label bytes.
// Everything else, non-ASCII text included, passes unchanged, so text that is already
// printable (a DNS name in presentation form) is left as it is.

#include <cstdint>
#include <string>
#include <string_view>

namespace safeinstall::sandbox {

// Appends `byte` as a backslash and three decimal digits: ESC is "\027".
void append_escaped_byte(std::string& out, std::uint8_t byte);

// `text` with every byte described above escaped; the one way text from inside the sandbox
// reaches a terminal.
std::string printable(std::string_view text);

}  // namespace safeinstall::sandbox
