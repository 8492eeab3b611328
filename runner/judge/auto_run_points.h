#pragma once
// Auto-run points: files inside the expected paths that run later by themselves, on the
// host and unsandboxed, without the project importing anything — a .pth line python runs at
// every start, a rewritten venv activate script, a node_modules/.bin link that leads into
// another package, a rewritten gem wrapper. The profile's [autorun] points say where to
// look and which check applies (profile_schema.h); only files the run added or changed
// there are read, so an install that leaves them alone costs one glob test per change.
//
// Each file that fails its check is a finding (kind auto_run) with the point's severity,
// its path, the package it belongs to (package_owners.h) and why it runs by itself. A file
// the user accepted in [autorun] accept, by glob and sha256 of its content, is an `info`
// finding naming the acceptance instead.

#include <string>
#include <vector>

#include "runner/finding.h"
#include "runner/profile/auto_run_rules.h"
#include "runner/staging/change_list.h"
#include "runner/supervise/process_tree.h"

namespace safeinstall::runner {

// `changes` categorized (only `expected` ones are looked at: the others already hold the
// run); `upper_dir` holds the staged contents, `project` is the real project's canonical
// path (the one the sandbox showed, which shebangs of the venv name).
std::vector<Finding> auto_run_findings(const ChangeList& changes, const std::string& upper_dir,
                                       const std::string& project, const AutoRunRules& rules,
                                       const std::vector<ProcessRecord>& processes);

}  // namespace safeinstall::runner
