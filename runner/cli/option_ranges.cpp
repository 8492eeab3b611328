#include "runner/cli/option_ranges.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "sandbox/base/escaped_text.h"

namespace safeinstall::runner {
namespace {

// What the error quotes of the value given: a hostile or pasted value stays one short line.
constexpr std::size_t kShownValueLength = 40;

std::string shown_value(const std::string& value) {
  std::string shown = sandbox::printable(value);
  if (shown.size() > kShownValueLength) shown = shown.substr(0, kShownValueLength) + "…";
  return shown.empty() ? "nothing" : shown;
}

bool parses_within(const std::string& text, const OptionRange& range) {
  if (text.empty()) return false;
  errno = 0;
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0' || errno == ERANGE || !std::isfinite(value)) return false;
  if (range.whole && value != std::floor(value)) return false;
  return value >= range.min && value <= range.max;
}

}  // namespace

CLI::Validator within(const OptionRange& range) {
  return CLI::Validator(
      [range](std::string& text) -> std::string {
        if (parses_within(text, range)) return {};
        return "must be " + range.shown + ", got " + shown_value(text);
      },
      "", "within");
}

OptionRange seconds_range() {
  return {1, 7 * 24 * 3600, "between 1 s and 7 d (604800 s)"};
}

OptionRange process_range() {
  // PID_MAX_LIMIT on 64-bit kernels.
  return {1, 4194304, "a whole number between 1 and 4194304", true};
}

OptionRange file_count_range() {
  return {1, 1e12, "a whole number between 1 and 10^12", true};
}

OptionRange days_range() {
  return {0, 36500, "between 0 and 36500 days"};
}

}  // namespace safeinstall::runner
