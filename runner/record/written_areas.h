#pragma once
// What the command left in its throwaway home and /tmp (files.home and files.tmp of the
// report), with the places malware uses for persistence flagged.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runner/plan/run_plan.h"
#include "runner/supervise/supervisor.h"

namespace safeinstall::runner {

// "persistence" for shell rc files, autostart and systemd user units, authorized_keys,
// registry credential files, git configuration and hooks, crontabs.
bool is_persistence_path(const std::string& home_relative_path);

// "file", "dir", "symlink" or "special" for an entry's st_mode.
std::string_view written_type(std::uint32_t mode);

// The report's flags of an entry: executable, setuid, setgid, special-file, persistence.
std::vector<std::string_view> written_flags(const WrittenEntry& entry);

// The entries of one area ("home", "tmp"), in order. Directories the sandbox created only to
// hold its own mount points are left out.
std::vector<WrittenEntry> written_in_area(const std::vector<WrittenEntry>& written,
                                          const std::string& area, const RunPlan& plan);

}  // namespace safeinstall::runner
