#pragma once
// Sizes as users write them, in profiles ([limits], [home]) and on the command line
// (--memory, --disk).

#include <cstdint>
#include <string>

#include "sandbox/base/error.h"

namespace safeinstall::runner {

// "1G", "512M", "64k" or a plain byte count.
Result<std::uint64_t> parse_size(const std::string& text);

}  // namespace safeinstall::runner
