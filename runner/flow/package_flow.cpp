#include "runner/flow/package_flow.h"

#include <unistd.h>

#include <algorithm>

#include "runner/packages/known_bad.h"
#include "runner/packages/osv_database.h"
#include "runner/packages/project_packages.h"
#include "runner/store/run_store.h"

namespace safeinstall::runner {

std::string imported_osv_dir(const std::string& state_dir) {
  return state_dir + "/osv";
}

namespace {

// The configured database, then the imported one unless it is the same directory.
Result<std::vector<OsvDatabase>> open_databases(const std::string& configured) {
  std::vector<OsvDatabase> out;
  if (!configured.empty()) {
    auto db = OsvDatabase::open(configured);
    if (!db) return propagate(db);
    out.push_back(std::move(*db));
  }
  auto state = default_state_dir();
  if (!state) return out;
  std::string imported = imported_osv_dir(*state);
  if (imported == configured || ::access((imported + "/" + kOsvIndexFile).c_str(), F_OK) != 0)
    return out;
  auto db = OsvDatabase::open(imported);
  if (!db) return propagate(db);
  out.push_back(std::move(*db));
  return out;
}

}  // namespace

PackageJudgement judge_packages(RunRecord& record, const PackageSet& before,
                                const std::string& upper, const Options& options) {
  PackageJudgement out;
  PackageSet after = read_staged_packages(upper, record.project, &before);
  for (const auto& e : before.errors) record.package_errors.push_back("before the run: " + e);
  for (const auto& e : after.errors) record.package_errors.push_back("as staged: " + e);
  record.packages = diff_packages(before, after);
  auto fresh = new_versions(*record.packages);
  if (fresh.empty()) return out;
  auto databases = open_databases(options.osv_db);
  if (!databases) {
    record.package_errors.push_back(databases.error().message());
    out.hold_reason = "the OSV database could not be read (" + databases.error().message() +
                      "): the new package versions were not checked";
    return out;
  }
  Severity threshold = severity_from(options.vuln_severity).value_or(kDefaultVulnThreshold);
  for (const auto& db : *databases) {
    auto findings = known_bad_findings(fresh, db, threshold);
    if (!findings) {
      record.package_errors.push_back(findings.error().message());
      out.hold_reason =
          "the OSV database " + db.dir() + " could not be read: " + findings.error().message();
      continue;
    }
    for (auto& f : *findings) {
      bool repeat = std::ranges::any_of(out.findings, [&](const Finding& seen) {
        return seen.kind == f.kind && seen.package == f.package && seen.detail == f.detail;
      });
      if (!repeat) out.findings.push_back(std::move(f));
    }
  }
  return out;
}

}  // namespace safeinstall::runner
