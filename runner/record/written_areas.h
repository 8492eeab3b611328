#pragma once
// files.home and files.tmp of the report: what the command left in its throwaway home and
// /tmp, with the places malware uses for persistence flagged.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runner/plan/run_plan.h"
#include "runner/supervise/supervisor.h"

namespace safeinstall::runner {

// "persistence" for shell rc files, autostart and systemd user units, authorized_keys,
// registry credential files, git configuration and hooks, crontabs.
bool is_persistence_path(const std::string& home_relative_path);

// One array per area ("home", "tmp"), in the report's files.* shape. Directories the
// sandbox created only to hold its own mount points are left out.
nlohmann::json written_area_changes(const std::vector<WrittenEntry>& written,
                                    const std::string& area, const RunPlan& plan);

}  // namespace safeinstall::runner
