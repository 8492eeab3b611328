#pragma once
// One OSV entry (https://ossf.github.io/osv-schema/) as the offline database keeps it: one
// record per affected package of the ecosystems safeinstall reads lockfiles of, on one
// line of the compact index.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runner/finding.h"
#include "runner/packages/package_set.h"
#include "runner/packages/versions.h"
#include "sandbox/base/error.h"

namespace safeinstall::runner {

struct OsvRecord {
  Ecosystem ecosystem = Ecosystem::npm;
  std::string name;                   // PyPI names normalized (normalize_pypi_name)
  std::string id;                     // "MAL-2025-1234", "GHSA-xxxx-xxxx-xxxx"
  bool malicious = false;             // a MAL- entry: the package itself is malware
  std::optional<Severity> severity;   // unknown when the entry gives none we can read
  std::vector<std::string> versions;  // listed exactly
  std::vector<AffectedRange> ranges;  // SEMVER and ECOSYSTEM ranges

  bool affects(std::string_view version) const;
};

// The records of one OSV JSON document (an entry, or an array of entries); withdrawn
// entries and other ecosystems give none. `shown` names the document in errors.
Result<std::vector<OsvRecord>> parse_osv_document(std::string_view json, const std::string& shown);

// The index line of a record and back: "ecosystem\tname\tid\tkind\tseverity\tversions\tranges".
std::string index_line(const OsvRecord& record);
std::optional<OsvRecord> record_from_line(std::string_view line);

// The key a record is looked up by: "ecosystem\tname\t" (the name normalized for PyPI).
std::string index_key(Ecosystem ecosystem, std::string_view name);

// The CVSS v3.x base score's severity from a vector "CVSS:3.1/AV:N/AC:L/...".
std::optional<Severity> cvss3_severity(std::string_view vector);

}  // namespace safeinstall::runner
