#include "runner/flow/staging_flow.h"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "runner/exit_codes.h"
#include "runner/flow/package_flow.h"
#include "runner/fs/fs_tree.h"
#include "runner/fs/path_globs.h"
#include "runner/fs/path_text.h"
#include "runner/judge/auto_run_points.h"
#include "runner/judge/behaviour_findings.h"
#include "runner/judge/decoy_findings.h"
#include "runner/judge/manifest_edits.h"
#include "runner/messages.h"
#include "runner/packages/project_packages.h"
#include "runner/policy/run_package_policy.h"
#include "runner/promotion/background_cleanup.h"
#include "runner/staging/local_dependency_links.h"
#include "sandbox/base/escaped_text.h"
#include "sandbox/base/path_text.h"

namespace safeinstall::runner {

// From this many replaced or deleted project entries on, the old trees and the spent staging
// are removed after the command returns (background_cleanup.h): removing a replaced
// node_modules can take longer than promoting it. Smaller runs clean up at once.
constexpr std::size_t kCleanUpInBackgroundFrom = 2000;
namespace {

// Changes listed before a y/N question; the report has them all.
constexpr std::size_t kChangesShown = 40;

std::string parent_dir(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos || slash == 0 ? std::string("/") : path.substr(0, slash);
}

// The direct dirs the run's upper dir holds (the profile's that the project did not have).
std::vector<std::string> direct_dir_names(const RunPlan& plan) {
  std::vector<std::string> names;
  for (const auto& upper : plan.direct_uppers) names.push_back(leaf_of(upper));
  return names;
}

std::size_t refused_egress(const RunRecord& record) {
  if (!record.outcome) return 0;
  const auto& net = record.outcome->network;
  std::size_t count = 0;
  for (const auto& r : net.refused) count += r.count;
  for (const auto& d : net.dns) count += d.allowed ? 0 : 1;
  return count;
}

std::size_t refused_unix_sockets(const RunRecord& record) {
  if (!record.outcome) return 0;
  return static_cast<std::size_t>(std::ranges::count(
      record.outcome->direct_attempts, AttemptKind::unix_socket, &DirectAttempt::kind));
}

std::size_t violations_of_kind(const RunRecord& record, ViolationKind kind) {
  std::size_t count = 0;
  for (const auto& v : record.violations) count += v.kind == kind ? 1 : 0;
  return count;
}

void show_changes_needing_a_look(const ChangeList& changes) {
  std::size_t shown = 0, hidden = 0;
  for (const auto& c : changes.changes) {
    if (c.category == Category::expected) continue;
    if (shown == kChangesShown) {
      ++hidden;
      continue;
    }
    ++shown;
    std::fprintf(stderr, "  %-10s %-8s %s\n", std::string(to_string(c.category)).c_str(),
                 std::string(to_string(c.change)).c_str(), sandbox::printable(c.path).c_str());
  }
  if (hidden > 0) std::fprintf(stderr, "  … and %zu more (the report lists them all)\n", hidden);
}

bool ask_yes_no(const std::string& question) {
  std::fprintf(stderr, "%s [y/N] ", question.c_str());
  std::fflush(stderr);
  char answer[16] = {};
  if (std::fgets(answer, sizeof answer, stdin) == nullptr) return false;
  return answer[0] == 'y' || answer[0] == 'Y';
}

// On a terminal a held run is shown and asked about; elsewhere only --yes promotes it.
Decision decide_on_held(const RunRecord& record, const Verdict& verdict, const Options& options) {
  if (options.yes) return Decision::promote;
  if (!can_ask()) return Decision::keep;
  tell("the run's changes to " + record.project + " need a look:");
  for (const auto& reason : verdict.reasons) tell_detail("why", reason);
  show_changes_needing_a_look(record.staging->changes);
  std::string question = "safeinstall: promote them into the project?";
  if (verdict.touches_protected && !options.allow_protected)
    question += " (protected paths stay out without --allow-protected)";
  return ask_yes_no(question) ? Decision::promote : Decision::keep;
}

void keep_for_later(RunRecord& record, const std::string& run_id) {
  auto& next = record.staging->next_steps;
  next.push_back("safeinstall promote " + run_id + "   (promote the staged changes)");
  next.push_back("safeinstall discard " + run_id + "   (throw them away)");
}

// `durable` unless the run staged nothing: then no later step depends on meta.json, and a
// power cut can only leave the run as it began (made durable beside the command).
void save_outcome(const RunStore& store, StagedRun& staged, const RunRecord& record,
                  bool durable = true) {
  staged.run.meta.direct_dirs = direct_dir_names(*record.plan);
  staged.run.meta.local_dependencies = record.plan->local_dependencies;
  staged.run.meta.verdict = std::string(to_string(record.verdict));
  staged.run.meta.promoted = record.staging->promoted;
  staged.run.meta.exit_code = record.exit_code;
  // What the verdict judged with, for a later `promote RUN_ID`.
  staged.run.meta.judging =
      RunJudging{record.plan->expected_writes.patterns(), protected_paths().patterns(),
                 record.plan->dependency_manifests};
  staged.run.meta.began_ns = staged.began;
  if (auto saved = store.save_meta(staged.run.dir, staged.run.meta, durable); !saved)
    tell(saved.error().message());
}

}  // namespace

bool can_ask() {
  const char* ci = std::getenv("CI");
  bool in_ci = ci != nullptr && *ci != '\0' && std::string(ci) != "false" && std::string(ci) != "0";
  return !in_ci && ::isatty(STDIN_FILENO) == 1 && ::isatty(STDERR_FILENO) == 1;
}

Result<RunStore> open_run_store() {
  auto dir = default_state_dir();
  if (!dir) return propagate(dir);
  auto store = RunStore::open(*dir);
  if (!store) return propagate(store);
  auto recovered = recover_interrupted_promotions(*store);
  if (!recovered) {
    tell("finishing an interrupted promotion failed: " + recovered.error().message());
    return store;
  }
  for (const auto& r : *recovered) {
    tell("an interrupted promotion of run " + r.run_id + " into " + r.project + " was " +
         std::string(to_string(r.result.outcome)));
    for (const auto& note : r.result.notes)
      std::fprintf(stderr, "  %s\n", sandbox::printable(note).c_str());
  }
  return store;
}

Result<ProjectLock> lock_project_waiting(const RunStore& store, const std::string& project) {
  return store.lock_project(
      project, [&] { tell("waiting for another safeinstall run on " + project + " to finish"); });
}

namespace {

// The snapshot (saved in the run dir, for `safeinstall promote` later) and the lockfiles as
// they were, for what the run changes in them (the package policy).
Result<ProjectAtStart> record_project(const std::string& project,
                                      const std::string& snapshot_file) {
  auto snapshot = take_snapshot(project);
  if (!snapshot) return propagate(snapshot);
  if (auto saved = save_snapshot(*snapshot, snapshot_file); !saved) return propagate(saved);
  return ProjectAtStart{std::move(*snapshot), read_project_packages(project)};
}

}  // namespace

Result<StagedRun> stage_run(RunStore& store, RunRecord& record, const Options& options) {
  const std::string& project = record.project;
  if (is_within(store.state_dir(), project))
    return plain_error(
        "safeinstall's state dir " + store.state_dir() + " is inside the project " + project,
        "set SAFEINSTALL_STATE_DIR to a directory outside the project");
  auto lock = lock_project_waiting(store, project);
  if (!lock) return propagate(lock);
  record.times.lap("project lock");
  RunMeta meta;
  meta.project = project;
  meta.command = options.command;
  meta.created_at = record.started_at;
  auto run = store.create_run(record.run_id, meta);
  if (!run) return propagate(run);
  // Under the lock and before the sandbox starts: the moment the run begins by the project's
  // filesystem, told by the staging dir just made. Where it cannot be told, the whole project
  // is recorded here; otherwise only the paths the run touched, after the command
  // (record_touched_paths), each marked when it changed since this moment.
  StagedRun staged{std::move(*lock), std::move(*run)};
  staged.began = began_by_filesystem(project, staged.run.dir.upper());
  if (!staged.began) {
    auto recorded = record_project(project, staged.run.dir.snapshot_file());
    if (!recorded) return propagate(recorded);
    staged.snapshot = std::move(recorded->snapshot);
    staged.packages_before = std::move(recorded->packages);
    record.times.lap("project snapshot and lockfiles");
  }

  const StoredRun& stored = staged.run;
  ProjectStaging staging{stored.dir.upper(), stored.dir.work(), {store.state_dir()}};
  if (stored.dir.staging != stored.dir.path) staging.hide.push_back(parent_dir(stored.dir.staging));
  if (auto mounted = stage_project(*record.plan, staging); !mounted) return propagate(mounted);

  StagingRecord& rec = record.staging.emplace();
  rec.run_dir = stored.dir.path;
  rec.staging = stored.dir.staging;
  rec.note = stored.meta.staging_note;
  rec.copy_promotion = stored.meta.copy_promotion;
  record.times.lap("run dir and staging");
  return staged;
}

void record_project_beside(StagedRun& staged, const std::string& project) {
  staged.making_durable = std::async(std::launch::async, make_durable, staged.run.dir.meta_file());
  if (!staged.began) return;  // recorded before the command
  staged.reading_packages = std::async(std::launch::async, [project] {
    PackageSet packages = read_project_packages(project);
    // The lockfiles' JSON was parsed in this thread's own malloc arena, which glibc keeps
    // when the thread ends: give its pages back, or they stay in safeinstall's RSS for the
    // whole run on top of the main arena's parse of the lockfiles after the command.
    ::malloc_trim(0);
    return packages;
  });
}

Result<void> await_project_record(StagedRun& staged, RunRecord& record) {
  if (staged.making_durable.valid()) {
    if (auto durable = staged.making_durable.get(); !durable) return durable;
  }
  if (!staged.began) return {};  // recorded before the command
  if (!staged.reading_packages.valid())
    return plain_error("the project's lockfiles were not read as the run began");
  staged.packages_before = staged.reading_packages.get();
  record.times.lap("waiting for the project's lockfiles");
  return {};
}

Result<void> record_touched_paths(StagedRun& staged, RunRecord& record) {
  if (!staged.began) return {};  // the whole project was recorded before the command
  auto snapshot = snapshot_touched(record.project, record.staging->changes, *staged.began);
  if (!snapshot) return propagate(snapshot);
  if (auto saved = save_snapshot(*snapshot, staged.run.dir.snapshot_file()); !saved)
    return propagate(saved);
  staged.snapshot = std::move(*snapshot);
  record.times.lap("project snapshot of the touched paths");
  return {};
}

namespace {

// --disk and --files once more, on the change list: what a burst after the last sample
// staged, and sparse files, whose apparent size promotion or a later reader goes through.
bool staged_past_budget(RunRecord& record, const StagingBudget& budget) {
  bool tripped = record.outcome && record.outcome->staging_limit_tripped;
  std::string over = staging_over_budget(staged_usage_of(record.staging->changes), budget);
  if (!tripped && !over.empty()) {
    record.violations.push_back(
        {ViolationKind::limit, over + " (the staged changes, apparent sizes)", 0});
    tripped = true;
  }
  return tripped;
}

}  // namespace

Result<Verdict> judge_changes(RunRecord& record, const StagedRun& staged, const Options& options,
                              const Deadline& deadline, const StagingBudget& budget) {
  // A direct dir exists from the start; left empty, the command never made it.
  for (const auto& dir : record.plan->direct_uppers) ::rmdir(dir.c_str());
  ChangeListLimits limits;
  limits.deadline = deadline;
  auto changes =
      list_changes(staged.run.dir.upper(), record.project, limits, direct_dir_names(*record.plan));
  if (!changes) return propagate(changes);
  record.times.lap("change list");
  accept_local_dependency_links(*changes, record.project, record.plan->local_dependencies);
  categorize(*changes, protected_paths(), record.plan->expected_writes);
  record.staging->changes = std::move(*changes);
  record.manifests = accept_dependency_edits(record.staging->changes, staged.run.dir.upper(),
                                             record.project, record.plan->dependency_manifests);

  record_findings(record, behaviour_findings(record));
  record_findings(record, auto_run_findings(record.staging->changes, staged.run.dir.upper(),
                                            record.project, record.plan->autorun,
                                            record.outcome ? record.outcome->processes
                                                           : std::vector<ProcessRecord>{}));
  auto packages = judge_packages(record, staged.packages_before, staged.run.dir.upper(), options);
  record.times.lap("package policy");
  record_findings(record, std::move(packages.findings));
  record_findings(record, package_policy_findings(record, options.scripts));
  record_findings(record, decoy_findings(record));

  VerdictInputs inputs;
  if (!packages.hold_reason.empty()) inputs.hold_reasons.push_back(packages.hold_reason);
  inputs.findings = record.findings;
  if (staged_past_budget(record, budget))
    inputs.reject_reasons.push_back(
        "the run staged more than --disk or --files allow (see the limit violation); nothing "
        "of it is promoted");
  inputs.exit_code = record.exit_code;
  inputs.promote_on_failure = options.promote_on_failure;
  inputs.no_promote = options.no_promote;
  // The gateway's refusals, and unix sockets of the host the recorder refused.
  inputs.refused_egress = refused_egress(record) + refused_unix_sockets(record);
  inputs.refused_syscalls = violations_of_kind(record, ViolationKind::syscall);
  inputs.survivors = violations_of_kind(record, ViolationKind::survivor);
  if (auto tampered = violations_of_kind(record, ViolationKind::cache); tampered > 0)
    inputs.hold_reasons.push_back(
        "the command changed existing package-cache entries (see the "
        "cache violations); nothing it wrote to the cache was kept");
  for (const auto& edit : record.manifests) {
    if (!edit.accepted())
      inputs.hold_reasons.push_back(edit.file +
                                    " changed beyond its dependencies: " + edit.outside);
  }
  if (options.audit)
    inputs.hold_reasons.push_back(
        "--audit: the run is held for review; audit.toml in its run dir has the "
        ".safeinstall.toml additions that would have let it pass");
  return decide_verdict(record.staging->changes, inputs);
}

PromotionAttempt promote_stored_run(const RunStore& store, const StoredRun& run,
                                    ChangeList& changes, const ProjectSnapshot* snapshot,
                                    bool allow_unexpected, bool allow_protected,
                                    StagingRecord& staging) {
  PromotionAttempt attempt;
  // Checked once, here; promote() is handed the result rather than walking the project again.
  std::optional<ConflictCheck> check;
  if (snapshot != nullptr) {
    auto checked = find_conflicts(*snapshot, changes);
    if (!checked) {
      attempt.message = checked.error().message();
      return attempt;
    }
    if (!checked->clean()) {
      attempt.conflict = true;
      attempt.message = checked->message() +
                        "; nothing was promoted and the run is kept: look at those paths, then "
                        "`safeinstall promote " +
                        run.dir.id + "` or `safeinstall discard " + run.dir.id + "`";
      return attempt;
    }
    check = std::move(*checked);
  }
  PromotionOptions po;
  po.allow_unexpected = allow_unexpected;
  po.allow_protected = allow_protected;
  po.conflicts = check ? &*check : nullptr;
  po.snapshot = snapshot;
  po.defer_cleanup = std::ranges::count_if(changes.changes, [](const Change& c) {
                       return c.real_type.has_value();
                     }) >= static_cast<std::ptrdiff_t>(kCleanUpInBackgroundFrom);
  // Smaller ones leave what the project does not share to the slimming of promoted runs.
  po.leave_spent_trees = true;
  auto result = promote(run.dir, run.meta.project, changes, po);
  if (!result) {
    attempt.message = result.error().message();
    return attempt;
  }
  if (result->cleanup_deferred) {
    auto lock_project = [store, project = run.meta.project] { return store.lock_project(project); };
    staging.cleanup_in_background =
        finish_cleanup_in_background(run.dir, std::move(lock_project)).has_value();
    // No process to spare: the old trees go now.
    if (!staging.cleanup_in_background) (void)remove_trash(run.dir);
  }
  attempt.promoted = true;
  staging.promoted = true;
  staging.promoted_entries = result->promoted;
  for (const auto& s : result->skipped) staging.skipped.emplace_back(s.path, s.reason);
  if (result->copy_based) staging.note = result->copy_reason;
  return attempt;
}

namespace {

// A failed run that changed nothing holds nothing to promote or discard: its staged dirs go
// now and it stays listed, discarded, with its report.
void discard_empty_run(RunRecord& record, StagedRun& staged, const RunStore& store) {
  if (auto discarded = store.discard(staged.run.dir.id); !discarded) {
    tell(discarded.error().message());
    record.staging->next_steps.push_back("safeinstall discard " + staged.run.dir.id);
    return;
  }
  staged.run.meta.discarded = true;
}

}  // namespace

void settle_unrun(RunRecord& record, StagedRun& staged, const RunStore& store) {
  bool never_ran = record.sandbox_error.has_value();
  if (!never_ran) record.staging->next_steps.push_back("safeinstall discard " + staged.run.dir.id);
  save_outcome(store, staged, record);
  if (never_ran) discard_empty_run(record, staged, store);
}

int settle_past_deadline(RunRecord& record, StagedRun& staged, const RunStore& store,
                         const std::string& step) {
  const std::string& id = staged.run.dir.id;
  record.exit_code = exit_code::kTimedOut;
  if (record.outcome && record.outcome->timed_out) {
    record.verdict = VerdictKind::failed;
    record.verdict_reasons.push_back(
        "nothing was promoted; the staged changes were not listed (they stay in the run dir)");
    record.staging->next_steps.push_back("safeinstall discard " + id);
  } else {
    record.verdict = VerdictKind::held;
    record.timed_out_step = step;
    record.violations.push_back(
        {ViolationKind::limit, "--timeout expired after the command, while " + step, 0});
    record.verdict_reasons.push_back(
        "--timeout expired after the command, while " + step +
        ": nothing was promoted; the run is kept for `safeinstall promote " + id + "`");
    keep_for_later(record, id);
  }
  save_outcome(store, staged, record);
  return exit_code::kTimedOut;
}

int settle(RunRecord& record, StagedRun& staged, const Verdict& verdict, const RunStore& store,
           const Options& options) {
  record.verdict = verdict.kind;
  record.verdict_reasons.insert(record.verdict_reasons.end(), verdict.reasons.begin(),
                                verdict.reasons.end());
  const std::string& id = staged.run.dir.id;
  int exit = record.exit_code;
  bool promote_now = false;
  switch (verdict.kind) {
    case VerdictKind::promoted:
      promote_now = true;
      break;
    case VerdictKind::held:
      promote_now = decide_on_held(record, verdict, options) == Decision::promote;
      if (!promote_now) {
        exit = verdict.suspicious ? exit_code::kSuspicious : exit_code::kHeld;
        record.verdict_reasons.push_back(
            "nothing was promoted: `safeinstall promote " + id + "` or --yes promotes" +
            (verdict.touches_protected ? " (protected paths also need --allow-protected)" : ""));
        keep_for_later(record, id);
      }
      break;
    case VerdictKind::rejected:
      exit = exit_code::kRejected;
      record.verdict_reasons.push_back("nothing was promoted; the run is kept for inspection");
      record.staging->next_steps.push_back("safeinstall discard " + id);
      break;
    case VerdictKind::failed:
      if (record.staging->changes.changes.empty()) {
        record.verdict_reasons.push_back("the command changed nothing in the project");
      } else {
        record.verdict_reasons.push_back("nothing was promoted");
        record.staging->next_steps.push_back("safeinstall discard " + id);
      }
      break;
    case VerdictKind::staged:
      keep_for_later(record, id);
      break;
  }
  if (promote_now) {
    bool asked = verdict.kind == VerdictKind::held;
    auto attempt = promote_stored_run(store, staged.run, record.staging->changes, &staged.snapshot,
                                      asked, asked && options.allow_protected, *record.staging);
    if (attempt.promoted) {
      record.verdict = VerdictKind::promoted;
      if (asked)
        record.verdict_reasons.push_back(options.yes ? "promoted with --yes"
                                                     : "promoted on request");
      for (const auto& [path, why] : record.staging->skipped)
        record.verdict_reasons.push_back("left out: " + path + " (" + why + ")");
    } else {
      record.verdict = VerdictKind::held;
      record.verdict_reasons.push_back(attempt.conflict ? attempt.message
                                                        : "promotion failed: " + attempt.message);
      exit = attempt.conflict ? exit_code::kHeld : exit_code::kSafeinstallFailed;
      keep_for_later(record, id);
    }
  }
  bool staged_nothing = record.staging->changes.changes.empty();
  save_outcome(store, staged, record, /*durable=*/!staged_nothing);
  if (record.verdict == VerdictKind::failed && staged_nothing)
    discard_empty_run(record, staged, store);
  return exit;
}

}  // namespace safeinstall::runner
