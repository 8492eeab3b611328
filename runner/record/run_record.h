#pragma once
// Everything known about one run, gathered as it goes; the report and the receipt are
// both views of it.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "runner/finding.h"
#include "runner/options.h"
#include "runner/packages/package_set.h"
#include "runner/plan/run_plan.h"
#include "runner/plan/tool_logs.h"
#include "runner/record/audit_suggestion.h"
#include "runner/record/pass_suggestion.h"
#include "runner/staging/change_list.h"
#include "runner/staging/manifest_edit.h"
#include "runner/staging/verdict.h"
#include "runner/supervise/supervisor.h"

namespace safeinstall::runner {

// The report's violation kinds (docs/report.md).
enum class ViolationKind {
  syscall,
  egress,
  write,
  script,
  limit,
  survivor,
  cache,
  persistence,
  credential,
  exfiltration,
  exec,
  auto_run,
  package
};
std::string_view to_string(ViolationKind kind);

struct Violation {
  ViolationKind kind = ViolationKind::limit;
  std::string detail;
  pid_t pid = 0;
  std::optional<Severity> severity;    // default_severity(kind) when not set
  std::optional<FindingKind> finding;  // the finding this violation reports, when one does
  std::string package;                 // name@version, when known
  std::string path;                    // the file it concerns, when any
};

// The severity a violation of this kind has when no finding says otherwise.
Severity default_severity(ViolationKind kind);
Severity severity_of(const Violation& violation);

// Where the run's project writes were staged and what became of them.
struct StagingRecord {
  std::string run_dir;  // the run's dir in the state dir
  std::string staging;  // where the overlay's upper dir lives
  std::string note;     // why staging is there
  bool copy_promotion = false;
  ChangeList changes;  // files.project, categorized
  bool promoted = false;
  std::vector<std::string> promoted_entries;  // top-level entries now new in the project
  // The replaced trees and the spent staging are removed by a process of their own, after
  // safeinstall returns (background_cleanup.h).
  bool cleanup_in_background = false;
  std::vector<std::pair<std::string, std::string>> skipped;  // {path, why not promoted}
  std::vector<std::string> next_steps;                       // commands the user may run next
};

// How long the run's steps took, in order: each lap is the time since the one before (the
// report's `timings`), so a slow step shows up without a profiler.
class StepTimes {
 public:
  using Clock = std::chrono::steady_clock;
  struct Step {
    std::string name;
    std::chrono::microseconds took{0};
  };
  // Ends the step `name`, begun at the previous lap (or at construction).
  void lap(std::string name) {
    auto now = Clock::now();
    steps_.push_back(
        {std::move(name), std::chrono::duration_cast<std::chrono::microseconds>(now - last_)});
    last_ = now;
  }
  // A step that ran beside the others (in a thread of its own).
  void add(std::string name, std::chrono::microseconds took) {
    steps_.push_back({std::move(name), took});
  }
  const std::vector<Step>& steps() const { return steps_; }

 private:
  Clock::time_point last_ = Clock::now();
  std::vector<Step> steps_;
};

struct RunRecord {
  std::string run_id;
  std::vector<std::string> command;
  std::string profile = "base";
  std::string project;
  std::chrono::system_clock::time_point started_at;
  std::chrono::milliseconds duration{0};
  int exit_code = 0;
  // Until the run is judged it reads as failed, never as promoted.
  VerdictKind verdict = VerdictKind::failed;
  std::vector<std::string> verdict_reasons;
  std::optional<RunPlan> plan;
  std::optional<Outcome> outcome;
  std::optional<ResourceLimits> limits;  // the tree and staging limits in force
  std::vector<Violation> violations;
  // Behaviour, auto-run points and package policy, each with a severity (runner/judge);
  // any at kSuspiciousAt or above holds the run as suspicious.
  std::vector<Finding> findings;
  // What the run changed in the project's locked packages (its lockfiles before the run
  // and as staged); unset when the run was not judged.
  std::optional<PackageChanges> packages;
  // Lockfiles that could not be read before or after the run, and why the OSV database
  // could not be used; the report's packages.errors.
  std::vector<std::string> package_errors;
  // The install command's edits to the project's manifests (runner/judge/manifest_edits.h).
  std::vector<ManifestEdit> manifests;
  std::optional<std::string> sandbox_error;  // why the sandbox could not be built
  std::optional<StagingRecord> staging;
  std::optional<AuditSuggestion> audit;  // --audit: what would have let the run pass
  // A held (or failed) run: the settings that would have let it pass, or why none is given.
  std::optional<PassSuggestion> pass;
  // Logs the tool wrote in the throwaway home, kept in the run dir (runner/plan/tool_logs.h).
  std::vector<KeptLog> logs;
  // The step after the command that --timeout stopped ("listing the staged changes"); empty
  // when none did.
  std::string timed_out_step;
  StepTimes times;
};

std::string new_run_id(std::chrono::system_clock::time_point now);

// Records what the outcome says besides the files: survivors and limits as violations, and
// why the command failed when it did. The verdict itself comes from the staged changes.
void judge(RunRecord& record);

// The --audit step after the verdict: builds the suggestion from what the run did, writes it
// as audit.toml in the run's dir (never into the project) and keeps it in the record for the
// report and the receipt.
void suggest_for_audit(RunRecord& record);

// After the verdict of a run without --audit: for a held run, the `.safeinstall.toml` lines
// and flags that would have let it pass (writes and hosts); for a failed one, the hosts it
// was refused. Left unset when there is nothing to say.
void suggest_how_to_pass(RunRecord& record);

}  // namespace safeinstall::runner
