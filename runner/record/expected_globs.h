#pragma once
// The `[files] expected` globs (and `--expect` values) that cover a run's unexpected project
// writes, narrowed from the paths: a directory the run created becomes `dir/**`, several
// writes under one existing top-level directory become `top/**`, anything else stays its own
// path (with fnmatch's special characters escaped). Never `**`, `*` or a pattern for the
// whole project: each glob names at least one directory or file the run wrote.

#include <string>
#include <vector>

#include "runner/staging/change_list.h"

namespace safeinstall::runner {

// Writes under one existing top-level directory from which on they are summed up as `top/**`.
inline constexpr std::size_t kWritesForDirectoryGlob = 3;

// `changes` categorized; only `unexpected` ones are covered (protected paths never are).
// `leave_out`: project-relative files not to cover (a manifest changed beyond its
// dependencies: allowing it wholesale would hide the part that needs a look).
std::vector<std::string> expected_globs_for(const ChangeList& changes,
                                            const std::vector<std::string>& leave_out = {});

// `path` as an fnmatch pattern that matches only itself.
std::string literal_glob(const std::string& path);

}  // namespace safeinstall::runner
