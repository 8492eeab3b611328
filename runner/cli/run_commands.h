#pragma once
// The subcommands for kept runs: `safeinstall runs`, `promote RUN_ID`, `discard RUN_ID`, `gc`.
// Each returns safeinstall's exit code and says what it did on stderr (the list of runs goes
// to stdout).

#include <string>

namespace safeinstall::runner {

int list_runs_command();
int promote_command(const std::string& run_id, bool allow_protected);
int discard_command(const std::string& run_id);
int gc_command(bool include_kept, double older_than_days);

}  // namespace safeinstall::runner
