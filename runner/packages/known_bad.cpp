#include "runner/packages/known_bad.h"

namespace safeinstall::runner {
namespace {

Finding malicious(const PackageVersion& p, const OsvRecord& r) {
  Finding f;
  f.kind = FindingKind::malicious_package;
  f.severity = Severity::critical;
  f.package = display_name(p);
  f.path = p.source;
  f.detail = std::string(to_string(p.ecosystem)) + " package " + f.package + " is known malware (" +
             r.id + "); do not run or keep it";
  return f;
}

Finding vulnerable(const PackageVersion& p, const OsvRecord& r, Severity severity) {
  Finding f;
  f.kind = FindingKind::vulnerable_package;
  f.severity = severity == Severity::critical ? Severity::high : Severity::medium;
  f.package = display_name(p);
  f.path = p.source;
  f.detail = std::string(to_string(p.ecosystem)) + " package " + f.package + " has a known " +
             std::string(to_string(severity)) + " vulnerability (" + r.id + ")";
  return f;
}

}  // namespace

Result<std::vector<Finding>> known_bad_findings(const std::vector<PackageVersion>& versions,
                                                const OsvDatabase& db, Severity threshold) {
  std::vector<Finding> out;
  for (const auto& p : versions) {
    auto records = db.affecting(p);
    if (!records) return propagate(records);
    for (const auto& r : *records) {
      if (r.malicious) {
        out.push_back(malicious(p, r));
        continue;
      }
      Severity severity = r.severity.value_or(kUnknownVulnSeverity);
      if (severity >= threshold) out.push_back(vulnerable(p, r, severity));
    }
  }
  return out;
}

}  // namespace safeinstall::runner
