#pragma once
// Findings from the decoy credentials (runner/plan/decoys.h): a decoy opened by anything but
// the profile's tool reading its own configuration (credential_read), and a decoy's value
// seen at the egress gateway (exfiltration).

#include <vector>

#include "runner/finding.h"
#include "runner/record/run_record.h"

namespace safeinstall::runner {

std::vector<Finding> decoy_findings(const RunRecord& record);

}  // namespace safeinstall::runner
