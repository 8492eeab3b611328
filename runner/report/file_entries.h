#pragma once
// The entries of the report's `files`: the project's staged changes (files.project) and what
// the command left in its throwaway home and /tmp (files.home, files.tmp).

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runner/plan/run_plan.h"
#include "runner/staging/change_list.h"
#include "runner/supervise/supervisor.h"

namespace safeinstall::runner {

// One entry of files.project / files.home / files.tmp: path, change, category (once judged),
// type, mode ("0644"), size, flags, and target for symlinks.
nlohmann::json to_json(const Change& change);
// The array for files.project (or files.home / files.tmp).
nlohmann::json to_json(const ChangeList& list);

// One array per area ("home", "tmp"), in the report's files.* shape.
nlohmann::json written_area_changes(const std::vector<WrittenEntry>& written,
                                    const std::string& area, const RunPlan& plan);

}  // namespace safeinstall::runner
