#pragma once
// The subcommands for kept runs: `safeinstall runs`, `promote RUN_ID`, `discard RUN_ID`, `gc`.
// Each returns safeinstall's exit code and says what it did on stderr (the list of runs goes
// to stdout).

#include <string>

namespace safeinstall::runner {

// `project`: only that project's runs (empty: all); `json`: one JSON array on stdout.
int list_runs_command(const std::string& project, bool json);
// One kept run: its verdict, findings and changes from its report, and where that is;
// `json` prints the report itself.
int show_run_command(const std::string& run_id, bool json);
int promote_command(const std::string& run_id, bool allow_protected);
int discard_command(const std::string& run_id);
int gc_command(bool include_kept, double older_than_days);

}  // namespace safeinstall::runner
