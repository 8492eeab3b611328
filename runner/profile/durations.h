#pragma once
// Ages as users write them, in profiles ([runs] max_age) and on the command line
// (`runs prune --older-than`).

#include <cstdint>
#include <string>

#include "sandbox/base/error.h"

namespace safeinstall::runner {

// "30d", "12h", "45m", "90s", "2w", or a plain number of days; in seconds.
Result<std::uint64_t> parse_age(const std::string& text);

}  // namespace safeinstall::runner
