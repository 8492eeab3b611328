#pragma once
// The package side of a run's verdict: the project's locked packages before the run and as
// staged, what changed, and the known-bad versions among the new ones (an offline OSV
// database: --osv-db or [policy] osv_db, and the one `safeinstall db import` keeps in the
// state dir).

#include <string>
#include <vector>

#include "runner/finding.h"
#include "runner/options.h"
#include "runner/packages/package_set.h"
#include "runner/record/run_record.h"

namespace safeinstall::runner {

// Where `safeinstall db import` keeps the database in a state dir.
std::string imported_osv_dir(const std::string& state_dir);

struct PackageJudgement {
  std::vector<Finding> findings;
  std::string hold_reason;  // non-empty: the check could not be made, the run is held
};

// Reads the staged lockfiles (`upper` over the project), records the changes against
// `before` in record.packages (and unreadable lockfiles in record.package_errors), and
// checks every new version against the OSV databases.
PackageJudgement judge_packages(RunRecord& record, const PackageSet& before,
                                const std::string& upper, const Options& options);

}  // namespace safeinstall::runner
