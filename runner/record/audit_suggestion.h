#pragma once
// What an --audit run learned: the project-layer additions (.safeinstall.toml) that would have
// let the same run pass — the hosts it reached that its profile does not allow, and the
// project writes it made that were not expected. Protected paths are never suggested: making
// `.github/**` expected would let every later run rewrite CI unasked.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runner/staging/change_list.h"
#include "sandbox/egress/egress_policy.h"

namespace safeinstall::runner {

struct AuditSuggestion {
  std::vector<std::string> allow_hosts;      // as [network] allow takes them: host, host:port
  std::vector<std::string> expected;         // as [files] expected takes them: dir/**, a/file
  std::vector<std::string> protected_paths;  // written, never suggested
  std::string file;                          // where the suggestion was written, if it was

  bool empty() const { return allow_hosts.empty() && expected.empty(); }
};

// `contacted`: the report's network.contacted entries; `profile_policy`: what the run's
// profile and flags allow (not the audit's allow-everything policy); `changes` categorized.
AuditSuggestion suggest_additions(const nlohmann::json& contacted,
                                  const sandbox::EgressPolicy& profile_policy,
                                  const ChangeList& changes);

// The suggestion as a .safeinstall.toml fragment, with comments for the reader on top and
// the protected paths listed (commented out) at the end.
std::string render_suggestion(const AuditSuggestion& suggestion, const std::string& command);

struct RunRecord;
// The --audit step after the verdict: builds the suggestion from what the run did, writes it
// as audit.toml in the run's dir (never into the project) and keeps it in the record for the
// report and the receipt.
void suggest_for_audit(RunRecord& record);

}  // namespace safeinstall::runner
