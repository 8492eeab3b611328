#pragma once
// A package manager links a local dependency into the project (node_modules/sib ->
// ../../sib for "sib": "file:../sib"): a symlink that leaves the project, which is otherwise
// a hard violation. A link whose target lies inside a directory the manifest named as a
// local dependency (RunPlan::local_dependencies) is what the manifest asked for, and is not
// one; every other escaping link still is.

#include <string>
#include <vector>

#include "runner/staging/change_list.h"

namespace safeinstall::runner {

// Clears flags.symlink_escape on links into `local_dependencies` (canonical directories);
// returns how many.
std::size_t accept_local_dependency_links(ChangeList& changes, const std::string& project,
                                          const std::vector<std::string>& local_dependencies);

}  // namespace safeinstall::runner
