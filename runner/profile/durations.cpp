#include "runner/profile/durations.h"

#include <charconv>
#include <limits>

namespace safeinstall::runner {

Result<std::uint64_t> parse_age(const std::string& text) {
  std::uint64_t number = 0;
  const char* end = text.data() + text.size();
  auto [rest, ec] = std::from_chars(text.data(), end, number);
  if (ec != std::errc() || rest == text.data())
    return plain_error("`" + text + "` is not an age", "for example 30d, 12h, 45m or 90s");
  std::string unit(rest, end);
  std::uint64_t seconds_per = 0;
  if (unit.empty() || unit == "d") {
    seconds_per = 86400;
  } else if (unit == "w") {
    seconds_per = 7 * 86400;
  } else if (unit == "h") {
    seconds_per = 3600;
  } else if (unit == "m") {
    seconds_per = 60;
  } else if (unit == "s") {
    seconds_per = 1;
  } else {
    return plain_error("`" + text + "` has an unknown unit `" + unit + "`",
                       "d (days), w, h, m or s: 30d, 12h");
  }
  // Beyond a century an age means "never"; more would overflow the clock's arithmetic.
  constexpr std::uint64_t kLongest = std::uint64_t{100} * 365 * 86400;
  if (number > kLongest / seconds_per)
    return plain_error("`" + text + "` is longer than 100 years", "for example 30d");
  return number * seconds_per;
}

}  // namespace safeinstall::runner
