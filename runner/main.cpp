// safeinstall: argv → run plan → staging → sandbox → supervision → record → change list →
// verdict → promotion → report.
#include <fcntl.h>
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "runner/cli/check_command.h"
#include "runner/cli/cli.h"
#include "runner/cli/completions.h"
#include "runner/cli/package_commands.h"
#include "runner/cli/profiles_command.h"
#include "runner/cli/run_commands.h"
#include "runner/cli/setup_command.h"
#include "runner/deadline.h"
#include "runner/exit_codes.h"
#include "runner/flow/cache_flow.h"
#include "runner/flow/staging_flow.h"
#include "runner/fs/fs_tree.h"
#include "runner/messages.h"
#include "runner/plan/decoys.h"
#include "runner/plan/profile_loader.h"
#include "runner/plan/project_access.h"
#include "runner/plan/recording_settings.h"
#include "runner/plan/run_plan.h"
#include "runner/plan/tool_logs.h"
#include "runner/profile/base_profile.h"
#include "runner/record/run_record.h"
#include "runner/report/receipt.h"
#include "runner/report/report.h"
#include "runner/report/sarif.h"
#include "runner/report/stdout_view.h"
#include "runner/report/summary.h"
#include "runner/store/run_store.h"
#include "runner/supervise/supervisor.h"
#include "sandbox/base/env_vars.h"
#include "sandbox/base/fd.h"
#include "sandbox/launcher.h"

namespace {

using namespace safeinstall;
using namespace safeinstall::runner;

int exit_code_of(const Outcome& outcome) {
  if (outcome.exec_failed)
    return outcome.exec_errno == ENOENT ? exit_code::kNotFound : exit_code::kNotExecutable;
  if (outcome.timed_out) return exit_code::kTimedOut;
  if (outcome.killed_by_user) return exit_code::kSignalBase + SIGKILL;
  if (!outcome.command_finished) return exit_code::kSafeinstallFailed;
  if (WIFEXITED(outcome.wait_status)) return WEXITSTATUS(outcome.wait_status);
  if (WIFSIGNALED(outcome.wait_status))
    return exit_code::kSignalBase + WTERMSIG(outcome.wait_status);
  return exit_code::kSafeinstallFailed;
}

void explain_exec_failure(const Outcome& outcome, const std::string& command) {
  if (!outcome.exec_failed) return;
  if (outcome.exec_errno == ENOENT) {
    tell(command + ": command not found in the sandbox's PATH");
  } else {
    tell(command + ": cannot execute: " + std::strerror(outcome.exec_errno));
  }
}

// $GITHUB_STEP_SUMMARY (GitHub Actions' job summary file), unless --summary names another.
std::string summary_destination(const Options& options, bool& append) {
  append = options.summary_path.empty();
  if (!append) return options.summary_path;
  return getenv_string("GITHUB_STEP_SUMMARY");
}

// Every file the run will write besides the project, tried before anything runs: a run
// whose report or SARIF would be lost is not started.
Result<> check_output_paths(const Options& options) {
  for (const auto& [path, flag] :
       {std::pair{&options.report_path, "--report"}, std::pair{&options.sarif_path, "--sarif"},
        std::pair{&options.summary_path, "--summary"}}) {
    if (path->empty()) continue;
    if (auto writable = check_report_path(*path, flag); !writable) return writable;
  }
  bool append = false;
  std::string summary = summary_destination(options, append);
  if (append && !summary.empty()) return check_appendable(summary, "$GITHUB_STEP_SUMMARY");
  return {};
}

Result<> append_to_file(const std::string& path, const std::string& text) {
  sandbox::UniqueFd fd(
      ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd) return sys_error("open " + path + " to append the summary");
  std::string_view rest = text;
  while (!rest.empty()) {
    ssize_t n = ::write(fd.get(), rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return sys_error("append the summary to " + path);
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

// --sarif and the Markdown summary: views of the same record as the report.
void write_ci_views(const RunRecord& record, const Options& options) {
  if (!options.sarif_path.empty()) {
    auto written = write_file_atomically(
        options.sarif_path, build_sarif(record, SAFEINSTALL_VERSION).dump(2) + "\n", false);
    if (!written) tell(written.error().message());
  }
  bool append = false;
  std::string summary = summary_destination(options, append);
  if (summary.empty()) return;
  std::string text = render_markdown_summary(record, options.report_path);
  auto written =
      append ? append_to_file(summary, text + "\n") : write_file_atomically(summary, text, false);
  if (!written) tell(written.error().message());
}

void finish(RunRecord& record, const Options& options, const BaseProfile& base,
            const StdoutView& view) {
  auto report = build_report(record);
  const ChangeList* project_changes = record.staging ? &record.staging->changes : nullptr;
  // The run dir's copy is written first; --report gets a copy of that file.
  std::string kept_report =
      record.staging ? RunDir::at(record.staging->run_dir).report_file() : std::string();
  bool kept = false;
  if (!kept_report.empty()) {
    auto written = write_report(kept_report, report, project_changes);
    kept = written.has_value();
    if (!written) tell(written.error().message());
  }
  if (!options.report_path.empty()) {
    auto written = kept ? copy_report(kept_report, options.report_path)
                        : write_report(options.report_path, report, project_changes);
    if (!written) tell(written.error().message());
  }
  write_ci_views(record, options);
  if (auto shown =
          view.write(record, report, project_changes, options.report_path, SAFEINSTALL_VERSION);
      !shown)
    tell(shown.error().message());
  bool clean =
      record.verdict == VerdictKind::promoted && record.exit_code == 0 && record.violations.empty();
  std::string receipt =
      render_receipt(record, options.report_path, base.env_secret, options.verbose);
  // Kept with the run: `runs show` and a pruned run still have it.
  if (record.staging) {
    auto written =
        write_file_atomically(RunDir::at(record.staging->run_dir).receipt_file(), receipt, false);
    if (!written) tell(written.error().message());
  }
  if (options.quiet > 1 && clean) return;
  if (options.quiet == 1 && clean) receipt = render_receipt_line(record);
  std::fputs(receipt.c_str(), stderr);
}

// The command ran (or failed to start) in the sandbox: fill in what the outcome says.
void record_outcome(RunRecord& record, Outcome outcome, const Options& options,
                    std::chrono::milliseconds duration) {
  explain_exec_failure(outcome, options.command.front());
  if (outcome.protocol_error) tell(*outcome.protocol_error);
  record.duration = duration;
  record.exit_code = exit_code_of(outcome);
  // The receipt shows argv and hosts as they were: a decoy value a script passed on is
  // shown masked.
  if (record.plan) {
    const auto& decoys = record.plan->decoys;
    for (auto& p : outcome.processes)
      for (auto& arg : p.argv) mask_decoy_values(arg, decoys);
    for (auto& c : outcome.network.contacted) mask_decoy_values(c.host, decoys);
    for (auto& r : outcome.network.refused) mask_decoy_values(r.host, decoys);
    for (auto& d : outcome.network.dns) mask_decoy_values(d.name, decoys);
  }
  record.outcome = std::move(outcome);
  judge(record);
}

std::optional<std::chrono::milliseconds> timeout_of(const RunPlan& plan) {
  if (!plan.timeout_seconds) return std::nullopt;
  return std::chrono::milliseconds(static_cast<long long>(*plan.timeout_seconds * 1000.0));
}

// The sandbox is gone and nothing writes to the staging dir: review the caches, judge what
// the staging dir holds, then promote, hold or reject — each step only while the deadline
// has not passed. The report and the receipt come last, always.
int after_the_command(RunRecord& record, StagedRun& staged, const RunStore& store,
                      const Options& options, const BaseProfile& base,
                      std::vector<CacheStaging> caches, const std::vector<ToolLogs>& logs,
                      const Deadline& deadline, const StagingBudget& budget,
                      const StdoutView& view) {
  record.logs = keep_tool_logs(logs, staged.run.dir.path);
  // A step safeinstall could not do: the run is kept, held, nothing promoted.
  auto unjudged = [&](const std::string& what, const Error& error) {
    tell(error.message());
    record.verdict = VerdictKind::held;
    record.verdict_reasons.push_back(what + ": " + error.message() + "; nothing was promoted");
    settle_unrun(record, staged, store);
    finish(record, options, base, view);
    return exit_code::kSafeinstallFailed;
  };
  if (auto recorded = await_project_record(staged, record); !recorded)
    return unjudged("the project could not be recorded as the run began", recorded.error());
  auto stop_at = [&](const std::string& step) {
    int exit = settle_past_deadline(record, staged, store, step);
    finish(record, options, base, view);
    return exit;
  };
  if (deadline.passed()) return stop_at("reviewing the package caches");
  auto reviewed_caches = review_caches(record, std::move(caches), budget);
  record.times.lap("cache review");
  if (deadline.passed()) return stop_at("listing the staged changes");
  // What setting up and supervising the sandbox freed goes back to the system before the
  // change list, the largest thing a run holds, is built.
  ::malloc_trim(0);
  auto verdict = judge_changes(record, staged, options, deadline, budget);
  record.times.lap("judging the changes");
  if (!verdict && deadline.passed()) return stop_at("listing the staged changes");
  if (!verdict) return unjudged("the staged changes could not be listed", verdict.error());
  if (auto recorded = record_touched_paths(staged, record); !recorded)
    return unjudged("the project could not be recorded at the paths the run touched",
                    recorded.error());
  if (deadline.passed()) return stop_at("promotion");
  int exit = settle(record, staged, *verdict, store, options);
  record.times.lap("promotion");
  if (options.audit) {
    suggest_for_audit(record);
  } else {
    suggest_how_to_pass(record);
  }
  // Merges new cache entries only after a promoted run, and not past the deadline.
  if (deadline.passed()) {
    tell("--timeout expired: the run's new package-cache entries were not kept");
  } else {
    settle_caches(record, reviewed_caches);
  }
  record.times.lap("cache merge");
  finish(record, options, base, view);
  return exit;
}

// `prune`: what the profile's [runs] says to keep, for after the run.
int run(const Options& given, PrunePolicy& prune) {
  // The profile first: it completes the options (the script policy) and shapes the plan.
  auto invoker = current_invoker();
  auto profile = resolve_run_profile(given, invoker);
  if (!profile) return fail(profile.error().message());
  prune = prune_policy_of(profile->base);
  const Options& options = profile->options;
  const BaseProfile* base = &profile->base;
  auto started = std::chrono::system_clock::now();
  auto clock_start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 clock_start);
  };
  RunRecord record;
  record.run_id = new_run_id(started);
  record.started_at = started;
  record.command = options.command;
  record.profile = profile->profile.name;

  // Everything that can be refused is refused before anything runs, the report's place too:
  // a run whose report would be lost is not started.
  if (auto writable = check_output_paths(options); !writable)
    return fail(writable.error().message());
  auto plan = make_run_plan(options, *base, invoker);
  if (!plan) return fail(plan.error().message());
  if (auto writable = check_project_writable(plan->project); !writable)
    return fail(writable.error().message());
  if (auto applied = apply_profile(*plan, *profile, invoker); !applied)
    return fail(applied.error().message());
  // Audit mode learns what the command needs: any public host is let through and recorded.
  if (options.audit) plan->egress.allow_any_public_host();
  auto recording = recording_settings(options);
  if (!recording) return fail(recording.error().message());
  apply_recording(*recording, plan->spec);
  recording->command = {plan->spec.argv, plan->spec.cwd};
  recording->own_dirs = {plan->home, "/tmp", plan->project};
  // The local dependencies are read-only: a write into one is refused by the mount and
  // recorded, which needs the sandbox to notify writes by path.
  recording->read_only_dirs = plan->local_dependencies;
  plan->spec.record_path_writes = plan->spec.record_syscalls && !plan->local_dependencies.empty();
  record.project = plan->project;
  record.plan = std::move(*plan);

  // Staging: the project is locked and mounted as an overlay whose writes land in the run's
  // staging dir (its snapshot is taken once the command is under way); the real project is
  // untouched until the verdict.
  auto store = open_run_store();
  if (!store) return fail(store.error().message());
  record.times.lap("plan");
  auto staged = stage_run(*store, record, options);
  if (!staged) return fail(staged.error().message());
  // Package caches: the persistent cache as an overlay in the home, writes staged beside.
  auto caches = stage_caches(record, staged->run.dir.path);
  // The tool's own logs: written into the run's dir instead of the throwaway home.
  auto logs = tool_logs_for(record.profile, record.plan->log_places, staged->run.dir.path);
  if (auto mounted = mount_tool_logs(*record.plan, logs); !mounted) {
    tell("the tool's logs are not kept for this run: " + mounted.error().message());
    logs.clear();
  }
  // Decoy credentials: made by the sandbox's init in its own tmpfs, bound into the home,
  // watched from here through the fds init hands over.
  place_decoys(*record.plan);
  for (const auto& decoy : record.plan->decoys)
    recording->decoys.push_back({decoy.file, decoy.target});
  // --disk and --files bound everything the command stages: the project and the caches.
  recording->staged_dirs = {staged->run.dir.upper()};
  for (const auto& cache : caches) recording->staged_dirs.push_back(cache.upper);
  for (const auto& l : logs) recording->staged_dirs.push_back(l.staged);
  record.limits = recording->limits;

  // From here on stdout carries only the --format view, written when the run is settled.
  auto view = StdoutView::take(options.format);
  if (!view) return fail(view.error().message());
  // --timeout counts from here and covers what follows the command as well.
  const Deadline deadline = Deadline::after(timeout_of(*record.plan));
  record.times.lap("caches and logs");
  auto sandbox = sandbox::launch(record.plan->spec);
  if (!sandbox) {
    tell(sandbox.error().message());
    record.sandbox_error = sandbox.error().message();
    record.exit_code = exit_code::kSafeinstallFailed;
    record.duration = elapsed();
    judge(record);
    record.logs = keep_tool_logs(logs, staged->run.dir.path);
    settle_unrun(record, *staged, *store);
    finish(record, options, *base, *view);
    return exit_code::kSafeinstallFailed;
  }
  // The project as the run began, recorded while the command starts.
  record_project_beside(*staged, record.project);
  Outcome outcome =
      supervise(*sandbox, deadline.remaining(),
                GatewaySettings{record.plan->egress, record.plan->gateway}, *recording);
  record.times.lap("the command");
  record_outcome(record, std::move(outcome), options, elapsed());
  return after_the_command(record, *staged, *store, options, *base, std::move(caches), logs,
                           deadline, recording->limits.staged, *view);
}

}  // namespace

int main(int argc, char** argv) {
  // Large blocks (the change list's chunks, report buffers) always get their own mapping and
  // go back to the system when freed; glibc would otherwise raise this threshold after the
  // first such free and keep later ones in the heap.
  ::mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  CommandLine cl = parse_command_line(argc, argv);
  switch (cl.action) {
    case CommandLine::Action::Exit:
      std::fputs(cl.output.c_str(), cl.output_is_error ? stderr : stdout);
      return cl.exit_code;
    case CommandLine::Action::Check:
      return run_check(cl.options.verbose);
    case CommandLine::Action::Run: {
      PrunePolicy prune;
      int exit = run(cl.options, prune);
      // Only once the run has let go of its project's lock, so its own runs can go too.
      prune_after_run(prune);
      return exit;
    }
    case CommandLine::Action::Runs:
      if (cl.runs_show) return show_run_command(cl.run_id, cl.json);
      if (cl.runs_prune) return prune_runs_command(cl.prune_older_than, cl.prune_keep);
      return list_runs_command(cl.options.project, cl.json);
    case CommandLine::Action::Promote:
      return promote_command(cl.run_id, cl.options.allow_protected);
    case CommandLine::Action::Discard:
      return discard_command(cl.run_id);
    case CommandLine::Action::Profiles:
      return profiles_command(cl.profile_name, cl.options);
    case CommandLine::Action::Gc:
      return gc_command(cl.gc_all, cl.gc_older_than_days);
    case CommandLine::Action::DbImport:
      return db_import_command(cl.db_sources, cl.db_dir);
    case CommandLine::Action::DbCheck:
      return db_check_command(cl.db_sources, cl.db_dir, cl.options.vuln_severity);
    case CommandLine::Action::Scan:
      return scan_command(cl.scan);
    case CommandLine::Action::Completions:
      return completions_command(cl.completions);
    case CommandLine::Action::Setup:
      return setup_command(cl.setup);
  }
  return exit_code::kSafeinstallFailed;
}
