#pragma once
// Globs over project-relative paths in which `**` may stand anywhere as a whole component:
// "**/site-packages/*.pth" finds a .pth in every site-packages, "node_modules/**/.npmrc" an
// .npmrc at any depth of node_modules. path_globs.h allows `**` only at the end; the auto-run
// points of a profile need it in front or in the middle.
//
// Syntax: components separated by '/'. A component `**` matches zero or more components;
// at most one per pattern. Any other component is an fnmatch(3) pattern for exactly one
// component (`*`, `?` and `[...]` never match a '/'). A trailing `**` also matches the
// directory itself ("a/**" matches "a").

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/base/error.h"

namespace safeinstall::runner {

class DeepGlobSet {
 public:
  // Refuses empty, absolute or `..`-containing patterns, more than one `**`, and `**` inside
  // a component ("a**b"). The error's step says what is wrong, its hint the expected form.
  static Result<DeepGlobSet> from(std::span<const std::string> patterns);
  Result<void> add(std::string_view pattern);
  // Adds every pattern of another set (already validated).
  void add_all(const DeepGlobSet& other);

  bool matches(std::string_view path) const;
  bool empty() const { return patterns_.empty(); }
  const std::vector<std::string>& patterns() const { return patterns_; }

 private:
  struct Component {
    std::string glob;
    bool literal = false;  // compared as a string
  };
  struct Pattern {
    std::vector<Component> head;  // before `**` (all of them when there is none)
    std::vector<Component> tail;  // after `**`
    bool deep = false;            // has a `**`
    // Cheap rejections before any component is compared: the pattern's text up to its first
    // wildcard must begin the path, its text after the last wildcard must end it, and a
    // literal last component (".npmrc") or one before it (".bin" in ".bin/*") must be the
    // path's.
    std::string literal_prefix;
    std::string literal_suffix;
    std::optional<std::string> literal_leaf;
    std::optional<std::string> literal_parent;
  };
  struct PathParts {
    std::string_view whole;
    std::string_view leaf;
    std::optional<std::string_view> parent;
  };
  static bool matches(const Pattern& pattern, const PathParts& path);
  std::vector<std::string> patterns_;
  std::vector<Pattern> compiled_;
};

}  // namespace safeinstall::runner
