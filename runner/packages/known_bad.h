#pragma once
// Known-bad versions: those an OSV `MAL-` entry names (malware: the run is rejected) and
// those with a known vulnerability at or above the policy's threshold (the run is held).

#include <vector>

#include "runner/finding.h"
#include "runner/packages/osv_database.h"
#include "runner/packages/package_set.h"

namespace safeinstall::runner {

// `[policy] vuln_severity`'s default.
inline constexpr Severity kDefaultVulnThreshold = Severity::high;

// A vulnerability of unknown severity counts as this.
inline constexpr Severity kUnknownVulnSeverity = Severity::medium;

// One finding per version and entry: malicious_package (critical) for a MAL- entry,
// vulnerable_package for a vulnerability at or above `threshold` (high for a critical one,
// medium otherwise). Lookup errors are returned, not findings.
Result<std::vector<Finding>> known_bad_findings(const std::vector<PackageVersion>& versions,
                                                const OsvDatabase& db, Severity threshold);

}  // namespace safeinstall::runner
