#include "runner/fs/deep_glob.h"

#include <fnmatch.h>

#include <algorithm>

namespace safeinstall::runner {
namespace {

constexpr std::string_view kWildcards = "*?[\\";

std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    auto slash = path.find('/', start);
    parts.push_back(path.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) return parts;
    start = slash + 1;
  }
}

bool component_matches(const std::string& glob, bool literal, std::string_view name) {
  if (literal) return glob == name;
  return ::fnmatch(glob.c_str(), std::string(name).c_str(), FNM_PATHNAME) == 0;
}

std::unexpected<Error> refused(std::string_view pattern, const std::string& why) {
  return plain_error("auto-run glob `" + std::string(pattern) + "` " + why,
                     "components separated by '/', with at most one `**` standing alone for "
                     "any number of directories: \"**/site-packages/*.pth\", "
                     "\"node_modules/**/.npmrc\"");
}

}  // namespace

Result<DeepGlobSet> DeepGlobSet::from(std::span<const std::string> patterns) {
  DeepGlobSet set;
  for (const auto& p : patterns) {
    if (auto added = set.add(p); !added) return propagate(added);
  }
  return set;
}

Result<void> DeepGlobSet::add(std::string_view pattern) {
  if (pattern.empty()) return refused(pattern, "is empty");
  if (pattern.front() == '/') return refused(pattern, "is absolute; paths are project-relative");
  Pattern compiled;
  for (auto part : split(pattern)) {
    if (part.empty()) return refused(pattern, "has an empty component");
    if (part == "..") return refused(pattern, "climbs out with `..`");
    if (part == "**") {
      if (compiled.deep) return refused(pattern, "has more than one `**`");
      compiled.deep = true;
      continue;
    }
    if (part.find("**") != std::string_view::npos)
      return refused(pattern, "has `**` inside a component");
    Component c{std::string(part), part.find_first_of(kWildcards) == std::string_view::npos};
    (compiled.deep ? compiled.tail : compiled.head).push_back(std::move(c));
  }
  auto first = pattern.find_first_of(kWildcards);
  compiled.literal_prefix = std::string(pattern.substr(0, first));
  auto last = pattern.find_last_of(kWildcards);
  compiled.literal_suffix =
      last == std::string_view::npos ? std::string() : std::string(pattern.substr(last + 1));
  // A trailing `**` matches the directory itself, so "a/**" must also accept "a".
  if (compiled.deep && compiled.tail.empty() && compiled.literal_prefix.ends_with('/'))
    compiled.literal_prefix.pop_back();
  patterns_.emplace_back(pattern);
  compiled_.push_back(std::move(compiled));
  return {};
}

bool DeepGlobSet::matches(const Pattern& p, std::string_view path,
                          std::span<const std::string_view> parts) {
  if (!path.starts_with(p.literal_prefix) || !path.ends_with(p.literal_suffix)) return false;
  std::size_t fixed = p.head.size() + p.tail.size();
  if (p.deep ? parts.size() < fixed : parts.size() != fixed) return false;
  for (std::size_t i = 0; i < p.head.size(); ++i)
    if (!component_matches(p.head[i].glob, p.head[i].literal, parts[i])) return false;
  std::size_t tail_start = parts.size() - p.tail.size();
  for (std::size_t i = 0; i < p.tail.size(); ++i)
    if (!component_matches(p.tail[i].glob, p.tail[i].literal, parts[tail_start + i])) return false;
  return true;
}

bool DeepGlobSet::matches(std::string_view path) const {
  if (compiled_.empty() || path.empty()) return false;
  // Most paths fail every pattern on its literal prefix or suffix; split only when one
  // passes.
  auto passes_literals = [&](const Pattern& p) {
    return path.starts_with(p.literal_prefix) && path.ends_with(p.literal_suffix);
  };
  if (std::ranges::none_of(compiled_, passes_literals)) return false;
  auto parts = split(path);
  return std::ranges::any_of(compiled_, [&](const Pattern& p) { return matches(p, path, parts); });
}

}  // namespace safeinstall::runner
