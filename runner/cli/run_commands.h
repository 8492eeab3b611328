#pragma once
// The subcommands for kept runs: `safeinstall runs`, `promote RUN_ID`, `discard RUN_ID`, `gc`.
// Each returns safeinstall's exit code and says what it did on stderr (the list of runs goes
// to stdout).

#include <string>

#include "runner/profile/base_profile.h"
#include "runner/store/run_store.h"

namespace safeinstall::runner {

// `project`: only that project's runs (empty: all); `json`: one JSON array on stdout.
int list_runs_command(const std::string& project, bool json);
// One kept run: its verdict, findings and changes from its report, and where that is;
// `json` prints the report itself.
int show_run_command(const std::string& run_id, bool json);
int promote_command(const std::string& run_id, bool allow_protected);
int discard_command(const std::string& run_id);
int gc_command(bool include_kept, double older_than_days);

// [runs] keep and max_age of the profile as a prune policy; $SAFEINSTALL_RUNS_KEEP and
// $SAFEINSTALL_RUNS_MAX_AGE ("30d") replace them.
PrunePolicy prune_policy_of(const BaseProfile& base);
// `runs prune [--older-than AGE] [--keep N]`: each flag not given comes from [runs] in the
// base profile's layers (built-in, system, user).
int prune_runs_command(const std::string& older_than, long long keep);
// After a run, once its project is unlocked: prunes by `policy`, saying only what failed.
void prune_after_run(const PrunePolicy& policy);

}  // namespace safeinstall::runner
