#include "runner/shim/shim_table.h"

namespace safeinstall::runner {
namespace {

// The next line of `text` from `at` (without its '\n'); `at` moves past it.
std::string_view next_line(std::string_view text, std::size_t& at) {
  auto end = text.find('\n', at);
  if (end == std::string_view::npos) end = text.size();
  auto line = text.substr(at, end - at);
  at = end + 1;
  return line;
}

template <std::size_t N>
bool append(std::array<std::string_view, N>& list, std::size_t& count, std::string_view value) {
  if (count == N || value.empty()) return false;
  list[count++] = value;
  return true;
}

bool take_line(std::string_view line, ShimTable& out) {
  if (line.empty() || line.front() == '#') return true;
  auto space = line.find(' ');
  auto key = line.substr(0, space);
  auto value = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
  if (key == "tool") {
    out.tool = value;
    return !value.empty() && value.find('/') == std::string_view::npos;
  }
  if (key == "safeinstall") {
    out.safeinstall = value;
    return value.starts_with('/');
  }
  if (key == "install") return append(out.install, out.install_count, value);
  if (key == "global") return append(out.global, out.global_count, value);
  if (key == "value-option") return append(out.value_options, out.value_option_count, value);
  if (key == "option-prefix") return append(out.option_prefixes, out.option_prefix_count, value);
  if (key == "always") return out.always = value.empty();
  if (key == "bare") return out.bare = value.empty();
  return false;
}

}  // namespace

bool looks_like_shim(std::string_view head) {
  if (!head.starts_with("#!")) return false;
  auto newline = head.find('\n');
  return newline != std::string_view::npos && head.substr(newline + 1).starts_with(kShimMarker);
}

bool parse_shim_table(std::string_view text, ShimTable& out) {
  if (!looks_like_shim(text)) return false;
  out = ShimTable{};
  std::size_t at = 0;
  next_line(text, at);  // the #! line
  while (at < text.size()) {
    if (!take_line(next_line(text, at), out)) return false;
  }
  return !out.tool.empty() && !out.safeinstall.empty();
}

}  // namespace safeinstall::runner
