#include "runner/profile/release_age.h"

#include <charconv>
#include <limits>

namespace safeinstall::runner {

Result<std::chrono::seconds> parse_age(std::string_view text) {
  auto bad = [&] {
    return plain_error("`" + std::string(text) + "` is not an age",
                       "a whole number and a unit: \"30m\", \"12h\", \"3d\" or \"2w\"");
  };
  if (text.size() < 2) return bad();
  std::int64_t unit = 0;
  switch (text.back()) {
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    case 'w':
      unit = 7 * 86400;
      break;
    default:
      return bad();
  }
  std::string_view digits = text.substr(0, text.size() - 1);
  std::int64_t number = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
  if (ec != std::errc() || end != digits.data() + digits.size() || number < 0) return bad();
  // Ten years is beyond any sensible quarantine and keeps the product far from overflow.
  if (number > 3650 * 86400 / unit) return bad();
  return std::chrono::seconds(number * unit);
}

std::string describe_age(std::chrono::seconds age) {
  std::int64_t s = age.count() < 0 ? 0 : age.count();
  if (s < 3600) return std::to_string(s / 60) + " min";
  if (s < 2 * 86400) return std::to_string(s / 3600) + " h";
  return std::to_string(s / 86400) + " d";
}

}  // namespace safeinstall::runner
