#pragma once
// What an --audit run learned: the project-layer additions (.safeinstall.toml) that would have
// let the same run pass — the hosts it reached that its profile does not allow, and the
// project writes it made that were not expected. Protected paths are never suggested: making
// `.github/**` expected would let every later run rewrite CI unasked.

#include <deque>
#include <string>
#include <vector>

#include "runner/staging/change_list.h"
#include "sandbox/egress/egress_policy.h"
#include "sandbox/egress/network_record.h"

namespace safeinstall::runner {

struct AuditSuggestion {
  std::vector<std::string> allow_hosts;      // as [network] allow takes them: host, host:port
  std::vector<std::string> expected;         // as [files] expected takes them: dir/**, a/file
  std::vector<std::string> protected_paths;  // written, never suggested
  std::string file;                          // where the suggestion was written, if it was
  // The command failed (its exit code, else 0): it may have stopped before it needed
  // anything, so an empty suggestion proves nothing.
  int failed_exit = 0;

  bool empty() const { return allow_hosts.empty() && expected.empty(); }
  bool inconclusive() const { return failed_exit != 0; }
};

// A host and port as [network] allow and --allow-host take them: `host`, `host:80`, `[::1]`.
std::string host_pattern_text(const std::string& host, std::uint16_t port);

// `contacted`: the hosts the gateway let through; `profile_policy`: what the run's profile
// and flags allow (not the audit's allow-everything policy); `changes` categorized.
AuditSuggestion suggest_additions(const std::deque<sandbox::ContactedHost>& contacted,
                                  const sandbox::EgressPolicy& profile_policy,
                                  const ChangeList& changes);

// The suggestion as a .safeinstall.toml fragment, with comments for the reader on top and
// the protected paths listed (commented out) at the end.
std::string render_suggestion(const AuditSuggestion& suggestion, const std::string& command);

// Writes the suggestion as audit.toml in `run_dir` (never into the project) and returns it
// with `file` naming that file (left empty when it could not be written).
AuditSuggestion write_suggestion(AuditSuggestion suggestion, const std::string& command,
                                 const std::string& run_dir);

}  // namespace safeinstall::runner
