#pragma once
// The package policy over one finished run: what it changed in the locked packages
// (RunRecord::packages, every ecosystem runner/packages reads), the profile's [policy] and
// [scripts], the run's script policy, and registry metadata fetched from hosts the run's
// profile allows.

#include <string>
#include <vector>

#include "runner/finding.h"
#include "runner/record/run_record.h"

namespace safeinstall::runner {

// `scripts`: the run's --scripts policy. Install scripts already reported as refused by the
// behaviour findings are not named twice.
std::vector<Finding> package_policy_findings(const RunRecord& record, const std::string& scripts);

}  // namespace safeinstall::runner
