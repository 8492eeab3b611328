#pragma once
// The package policy over one finished run: the lockfiles before (the project) and after (the
// run's staged upper dir), the profile's [policy] and [scripts], the run's script policy, and
// registry metadata fetched from hosts the run's profile allows.

#include <string>
#include <vector>

#include "runner/finding.h"
#include "runner/record/run_record.h"

namespace safeinstall::runner {

// `upper`: the run's overlay upper dir; `scripts`: the run's --scripts policy. Today the
// lockfile read is npm's package-lock.json (npm_lock_changes.h). Install scripts already
// reported as refused by the behaviour findings are not named twice.
std::vector<Finding> package_policy_findings(const RunRecord& record, const std::string& upper,
                                             const std::string& scripts);

}  // namespace safeinstall::runner
