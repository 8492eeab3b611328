#pragma once
// Ages as the package policy writes them ([policy] min_release_age = "3d"): a whole number
// and one unit, m (minutes), h (hours), d (days) or w (weeks).

#include <chrono>
#include <string>
#include <string_view>

#include "sandbox/base/error.h"

namespace safeinstall::runner {

Result<std::chrono::seconds> parse_age(std::string_view text);

// The largest unit that keeps the number whole-ish and readable: "42 min", "2 h", "5 d".
std::string describe_age(std::chrono::seconds age);

}  // namespace safeinstall::runner
