#pragma once
// Glob sets over project-relative paths ("node_modules/x/index.js", never "./" or "/"-led),
// the vocabulary of the verdict: which writes a package manager is expected to make, which
// paths are protected, which home files are persistence points.
//
// Syntax: fnmatch(3) with FNM_PATHNAME, so `*`, `?` and `[...]` never match a '/'. A trailing
// `/**` means "this directory and everything below it" (`node_modules/**` matches
// `node_modules` and `node_modules/a/b`); `**` anywhere else is refused, because fnmatch has
// no recursive wildcard and silently treating it as `*` would match less than the user meant.
// A trailing `/` is read as `/**`.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/base/error.h"

namespace safeinstall::runner {

class GlobSet {
 public:
  // Refuses empty, absolute or `..`-containing patterns and `**` other than a trailing `/**`.
  static Result<GlobSet> from(std::span<const std::string> patterns);
  Result<void> add(std::string_view pattern);
  // Adds every pattern of another set (already validated).
  void add_all(const GlobSet& other);

  bool matches(std::string_view path) const;
  // The first pattern that matches `path`, for reasons shown to the user; empty when none.
  std::string matching_pattern(std::string_view path) const;
  // True when a `dir/**` pattern covers `path` and therefore everything below it: a deleted
  // or replaced directory counts as expected only when its whole old subtree was.
  bool matches_subtree(std::string_view path) const;
  // True when some pattern could match a path strictly below the directory `path`: deleting
  // or replacing `gradle` touches `gradle/wrapper/**` even though `gradle` itself is not
  // protected.
  bool may_match_below(std::string_view path) const;

  const std::vector<std::string>& patterns() const { return patterns_; }
  bool empty() const { return patterns_.empty(); }

 private:
  struct Pattern {
    std::string glob;  // what fnmatch sees (the prefix for recursive ones)
    bool recursive = false;
    // No wildcard or escape: compared as a string, which is what fnmatch would conclude
    // (tens of thousands of paths meet every pattern in a node_modules-sized verdict).
    bool literal = false;

    bool matches(const std::string& path) const;
  };
  // The index of the first pattern matching `path`.
  std::optional<std::size_t> first_match(std::string_view path) const;
  std::vector<std::string> patterns_;  // as written (normalised), for display
  std::vector<Pattern> compiled_;
};

// Paths whose change needs --allow-protected: version control, CI and editor configuration,
// package manager configuration that can run code or redirect registries, build entry
// points and wrappers, shell rc files, and safeinstall's own project configuration.
const GlobSet& protected_paths();

// Writes the package manager named by argv[0] (its basename: "/usr/bin/npm" → npm) makes in
// a project. Unknown names get an empty set: every write is then unexpected. A run judges with
// the set its plan holds (the profile's); this one serves where no profile was resolved.
GlobSet expected_writes_for(std::string_view argv0);

// The resolved profile's protected list, for the rest of the process (a run resolves one
// profile before anything is judged): protected_paths() is then the built-in list plus
// `extra_protected`, which no profile can shrink.
void use_profile_protected(const GlobSet& extra_protected);

// `set` plus the user's --expect globs (validated; an error names the flag and the glob).
Result<GlobSet> with_expect_flags(GlobSet set, std::span<const std::string> user_expect);

// Home-relative persistence points: shell rc and profile files, autostart and systemd user
// units, ssh, registry credentials and package manager rc files, git configuration and
// hooks, PATH directories, crontabs.
const GlobSet& persistence_paths();

}  // namespace safeinstall::runner
