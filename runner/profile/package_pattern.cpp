#include "runner/profile/package_pattern.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "runner/profile/carryover/config_text.h"

namespace safeinstall::runner {
namespace {

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '@' || c == '/' || c == '.' ||
         c == '_' || c == '-' || c == '*';
}

// "1.2.3-beta+x" -> {1, 2, 3}; a component that is not a number ends the list.
std::vector<long> numeric_components(std::string_view version) {
  std::vector<long> out;
  std::string_view core = version.substr(0, version.find_first_of("-+"));
  while (!core.empty()) {
    std::size_t dot = core.find('.');
    std::string_view part = core.substr(0, dot);
    long number = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), number);
    if (ec != std::errc() || end != part.data() + part.size()) break;
    out.push_back(number);
    if (dot == std::string_view::npos) break;
    core = core.substr(dot + 1);
  }
  return out;
}

bool at_least(const std::vector<long>& version, const std::vector<long>& floor) {
  for (std::size_t i = 0; i < floor.size(); ++i) {
    long have = i < version.size() ? version[i] : 0;
    if (have != floor[i]) return have > floor[i];
  }
  return true;
}

bool same_leading(const std::vector<long>& version, const std::vector<long>& floor,
                  std::size_t count) {
  if (floor.size() < count || version.size() < count) return false;
  return std::equal(floor.begin(), floor.begin() + static_cast<long>(count), version.begin());
}

bool valid_range(std::string_view range) {
  std::string_view body = range;
  if (body.starts_with('^') || body.starts_with('~')) body.remove_prefix(1);
  if (body.empty()) return false;
  auto numbers = numeric_components(body);
  if (range.starts_with('^') || range.starts_with('~'))
    return !numbers.empty() && (range[0] == '^' || numbers.size() >= 2);
  return std::ranges::all_of(body, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+';
  });
}

}  // namespace

bool version_matches(std::string_view range, std::string_view version) {
  if (range.empty()) return true;
  auto have = numeric_components(version);
  if (range.starts_with('^')) {
    auto floor = numeric_components(range.substr(1));
    return same_leading(have, floor, 1) && at_least(have, floor);
  }
  if (range.starts_with('~')) {
    auto floor = numeric_components(range.substr(1));
    return same_leading(have, floor, 2) && at_least(have, floor);
  }
  if (version == range) return true;
  // A prefix of whole components: "0.33" takes "0.33.1", not "0.330.0".
  return version.size() > range.size() && version.starts_with(range) &&
         version[range.size()] == '.';
}

bool PackagePattern::matches_name(std::string_view package_name) const {
  return glob_matches(name, package_name);
}

bool PackagePattern::matches(std::string_view package_name,
                             std::string_view package_version) const {
  return matches_name(package_name) && version_matches(version, package_version);
}

Result<PackagePattern> parse_package_pattern(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return plain_error("package pattern `" + std::string(text) + "`: " + why,
                       "a name or glob, optionally with a version: \"lodash\", \"@myorg/*\", "
                       "\"react@^18\", \"sharp@0.33\"");
  };
  // A scope's '@' comes first; a version's '@' after the name.
  std::size_t at = text.find('@', 1);
  std::string_view name = text.substr(0, at);
  std::string_view version =
      at == std::string_view::npos ? std::string_view() : text.substr(at + 1);
  if (name.empty()) return bad("no name");
  if (!std::ranges::all_of(name, is_name_char)) return bad("unexpected character in the name");
  if (name.find('@', 1) != std::string_view::npos) return bad("more than one '@'");
  if (name.starts_with('@') &&
      (name.find('/') == std::string_view::npos || name.find('/') == 1 || name.ends_with('/')))
    return bad("a scoped name is @scope/name");
  if (at != std::string_view::npos && !valid_range(version))
    return bad("the version after '@' must be \"X.Y.Z\", a prefix \"X.Y\", \"^X\" or \"~X.Y\"");
  return PackagePattern{lowercase(name), std::string(version), std::string(text)};
}

bool any_matches(const std::vector<PackagePattern>& patterns, std::string_view name,
                 std::string_view version) {
  return std::ranges::any_of(patterns,
                             [&](const PackagePattern& p) { return p.matches(name, version); });
}

}  // namespace safeinstall::runner
