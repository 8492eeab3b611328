#include "runner/fs/deep_glob.h"

#include <fnmatch.h>

#include <algorithm>
#include <cstring>
#include <optional>

namespace safeinstall::runner {
namespace {

constexpr std::string_view kWildcards = "*?[\\";

bool component_matches(const std::string& glob, bool literal, std::string_view name) {
  if (literal) return glob == name;
  if (glob == "*") return !name.empty();
  // fnmatch wants NUL-terminated text; a path component is copied onto the stack, not the
  // heap (tens of thousands of paths meet every pattern in a node_modules-sized verdict).
  char buffer[256];
  if (name.size() >= sizeof buffer)
    return ::fnmatch(glob.c_str(), std::string(name).c_str(), FNM_PATHNAME) == 0;
  std::memcpy(buffer, name.data(), name.size());
  buffer[name.size()] = '\0';
  return ::fnmatch(glob.c_str(), buffer, FNM_PATHNAME) == 0;
}

// The path's components one at a time, from the front or from the back, without splitting
// it into a vector.
class Components {
 public:
  explicit Components(std::string_view path) : rest_(path) {}
  bool empty() const { return done_; }
  std::string_view front() {
    auto slash = rest_.find('/');
    std::string_view part = rest_.substr(0, slash);
    if (slash == std::string_view::npos)
      done_ = true;
    else
      rest_.remove_prefix(slash + 1);
    return part;
  }
  std::string_view back() {
    auto slash = rest_.rfind('/');
    std::string_view part = slash == std::string_view::npos ? rest_ : rest_.substr(slash + 1);
    if (slash == std::string_view::npos)
      done_ = true;
    else
      rest_.remove_suffix(rest_.size() - slash);
    return part;
  }

 private:
  std::string_view rest_;
  bool done_ = false;
};

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
  std::vector<std::string_view> parts;
  for (Components c(pattern); !c.empty();) parts.push_back(c.front());
  for (auto part : parts) {
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
  // The last two components, when both lie on the same side of `**`.
  const auto& side = compiled.tail.empty() && !compiled.deep ? compiled.head : compiled.tail;
  if (!side.empty() && side.back().literal) compiled.literal_leaf = side.back().glob;
  if (side.size() >= 2 && side[side.size() - 2].literal)
    compiled.literal_parent = side[side.size() - 2].glob;
  // A trailing `**` matches the directory itself, so "a/**" must also accept "a".
  if (compiled.deep && compiled.tail.empty() && compiled.literal_prefix.ends_with('/'))
    compiled.literal_prefix.pop_back();
  patterns_.emplace_back(pattern);
  compiled_.push_back(std::move(compiled));
  return {};
}

namespace {

// starts_with/ends_with, rejecting on one byte before calling memcmp: most paths differ from
// a pattern's literal text at its last byte or its first.
bool begins_with(std::string_view path, const std::string& prefix) {
  if (prefix.empty()) return true;
  return path.size() >= prefix.size() && path[prefix.size() - 1] == prefix.back() &&
         std::memcmp(path.data(), prefix.data(), prefix.size()) == 0;
}

bool finishes_with(std::string_view path, const std::string& suffix) {
  if (suffix.empty()) return true;
  return path.size() >= suffix.size() && path[path.size() - suffix.size()] == suffix.front() &&
         std::memcmp(path.data() + path.size() - suffix.size(), suffix.data(), suffix.size()) == 0;
}

bool same(std::string_view part, const std::string& literal) {
  return part.size() == literal.size() && (part.empty() || part.front() == literal.front()) &&
         part == literal;
}

}  // namespace

void DeepGlobSet::add_all(const DeepGlobSet& other) {
  patterns_.insert(patterns_.end(), other.patterns_.begin(), other.patterns_.end());
  compiled_.insert(compiled_.end(), other.compiled_.begin(), other.compiled_.end());
}

bool DeepGlobSet::matches(const Pattern& p, const PathParts& path) {
  if (p.literal_leaf && !same(path.leaf, *p.literal_leaf)) return false;
  if (p.literal_parent && (!path.parent || !same(*path.parent, *p.literal_parent))) return false;
  if (!begins_with(path.whole, p.literal_prefix) || !finishes_with(path.whole, p.literal_suffix))
    return false;
  Components parts(path.whole);
  for (const auto& c : p.head) {
    if (parts.empty() || !component_matches(c.glob, c.literal, parts.front())) return false;
  }
  if (!p.deep) return parts.empty();
  for (auto c = p.tail.rbegin(); c != p.tail.rend(); ++c) {
    if (parts.empty() || !component_matches(c->glob, c->literal, parts.back())) return false;
  }
  return true;
}

bool DeepGlobSet::matches(std::string_view path) const {
  if (path.empty()) return false;
  // The last two components once, for every pattern's literal leaf and parent.
  PathParts parts{path, path, std::nullopt};
  if (auto slash = path.rfind('/'); slash != std::string_view::npos) {
    parts.leaf = path.substr(slash + 1);
    std::string_view dir = path.substr(0, slash);
    auto up = dir.rfind('/');
    parts.parent = up == std::string_view::npos ? dir : dir.substr(up + 1);
  }
  for (const auto& p : compiled_)
    if (matches(p, parts)) return true;
  return false;
}

}  // namespace safeinstall::runner
