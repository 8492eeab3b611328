#include "runner/profile/byte_size.h"

#include <charconv>

namespace safeinstall::runner {

Result<std::uint64_t> parse_size(const std::string& text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data())
    return plain_error("size `" + text + "` must look like 512M or 2G");
  std::string suffix(end, text.data() + text.size());
  std::uint64_t scale = 1;
  if (suffix == "k" || suffix == "K")
    scale = 1ULL << 10;
  else if (suffix == "m" || suffix == "M")
    scale = 1ULL << 20;
  else if (suffix == "g" || suffix == "G")
    scale = 1ULL << 30;
  else if (!suffix.empty())
    return plain_error("size `" + text + "` has an unknown unit (use k, M or G)");
  if (value == 0) return plain_error("size `" + text + "` must be greater than zero");
  if (value > UINT64_MAX / scale) return plain_error("size `" + text + "` is too large");
  return value * scale;
}

}  // namespace safeinstall::runner
