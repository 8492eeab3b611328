#include "runner/cli/run_commands.h"

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "runner/exit_codes.h"
#include "runner/flow/cache_flow.h"
#include "runner/flow/staging_flow.h"
#include "runner/fs/fs_tree.h"
#include "runner/fs/path_globs.h"
#include "runner/judge/manifest_edits.h"
#include "runner/messages.h"
#include "runner/plan/profile_loader.h"
#include "runner/profile/release_age.h"
#include "runner/record/redact.h"
#include "runner/staging/change_list.h"
#include "runner/staging/local_dependency_links.h"
#include "runner/staging/project_snapshot.h"
#include "runner/staging/verdict.h"
#include "sandbox/base/env_vars.h"
#include "sandbox/base/escaped_text.h"
#include "sandbox/confine/limit_cgroups.h"

namespace safeinstall::runner {
namespace {

std::string age_text(std::chrono::seconds age) {
  auto s = age.count();
  if (s < 120) return std::to_string(s) + "s";
  if (s < 7200) return std::to_string(s / 60) + "m";
  if (s < 172800) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

std::string state_of(const RunSummary& run) {
  if (run.promotion_unfinished) return "promoting (interrupted)";
  if (run.discarded) return "discarded";
  if (run.verdict.empty()) return "running";
  return run.verdict;
}

// A kept run's changes as they stand now, judged again as the run judged them (its meta's
// judging: the expected set with a build's outputs, --expect and the project's additions,
// the protected set, the manifests whose dependency edits count as expected): the project
// may have moved on, and the verdict's hard violations must still refuse promotion. A run
// kept by an older version has only the tool's built-in expected writes.
Result<ChangeList> staged_changes(const StoredRun& run) {
  auto changes = list_changes(run.dir.upper(), run.meta.project, {}, run.meta.direct_dirs);
  if (!changes) return changes;
  accept_local_dependency_links(*changes, run.meta.project, run.meta.local_dependencies);
  if (!run.meta.judging) {
    const GlobSet expected =
        run.meta.command.empty() ? GlobSet{} : expected_writes_for(run.meta.command.front());
    categorize(*changes, protected_paths(), expected);
    return changes;
  }
  const RunJudging& judging = *run.meta.judging;
  auto expected = GlobSet::from(judging.expected);
  if (!expected) return propagate(expected);
  auto protected_then = GlobSet::from(judging.protected_paths);
  if (!protected_then) return propagate(protected_then);
  // Added to today's built-in list: a path protected then or now stays protected.
  use_profile_protected(*protected_then);
  categorize(*changes, protected_paths(), *expected);
  accept_dependency_edits(*changes, run.dir.upper(), run.meta.project,
                          judging.dependency_manifests);
  return changes;
}

// Changes `runs show` lists; the report has them all.
constexpr std::size_t kChangesShown = 200;

std::string rfc3339(std::chrono::system_clock::time_point t) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

nlohmann::json run_json(const RunSummary& run, const std::string& dir) {
  std::string report = dir + "/report.json";
  std::error_code ec;
  return {
      {"run_id", run.id},
      {"project", run.project},
      {"state", state_of(run)},
      {"verdict", run.verdict},
      {"created_at", rfc3339(run.created_at)},
      {"age_s", run.age.count()},
      {"promoted", run.promoted},
      {"discarded", run.discarded},
      {"report", std::filesystem::exists(report, ec) ? nlohmann::json(report) : nlohmann::json()}};
}

// A kept report is read as data: it was written by safeinstall, but from what a hostile
// command did; a size bound keeps a forged one from exhausting memory.
Result<nlohmann::json> read_stored_report(const std::string& path) {
  constexpr std::size_t kLargestReport = std::size_t{512} << 20;
  auto text = read_small_file(path, kLargestReport);
  if (!text) return propagate(text);
  if (!*text) return plain_error("the run has no report at " + path);
  auto parsed = nlohmann::json::parse(**text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object())
    return plain_error(path + " is not a run report (not a JSON object)");
  return parsed;
}

void line(const std::string& label, const std::string& text) {
  std::printf("  %-10s %s\n", label.c_str(), sandbox::printable(text).c_str());
}

void show_run_meta(const StoredRun& run) {
  std::printf("run %s\n", sandbox::printable(run.dir.id).c_str());
  line("project:", run.meta.project);
  line("command:", shown_command(run.meta.command));
  line("created:", rfc3339(run.meta.created_at));
  line("verdict:", run.meta.verdict.empty() ? std::string("running") : run.meta.verdict);
  line("promoted:", run.meta.promoted ? "yes" : "no");
}

std::string string_at(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void show_report_summary(const nlohmann::json& report) {
  for (const auto& reason : report.value("verdict_reasons", nlohmann::json::array()))
    if (reason.is_string()) line("why:", reason.get<std::string>());
  if (auto risk = report.find("risk"); risk != report.end() && risk->is_object())
    line("risk:", "score " + std::to_string(risk->value("score", 0)) + "/100, highest " +
                      string_at(*risk, "level"));
  for (const auto& f : report.value("findings", nlohmann::json::array())) {
    if (!f.is_object()) continue;
    line("finding:",
         string_at(f, "severity") + " " + string_at(f, "kind") + ": " + string_at(f, "detail"));
  }
  std::size_t shown = 0, total = 0;
  const auto files = report.value("files", nlohmann::json::object());
  for (const auto& c : files.value("project", nlohmann::json::array())) {
    if (!c.is_object()) continue;
    if (++total > kChangesShown) continue;
    ++shown;
    std::printf("  %-10s %-10s %-8s %s\n",
                "change:", sandbox::printable(string_at(c, "category")).c_str(),
                sandbox::printable(string_at(c, "change")).c_str(),
                sandbox::printable(string_at(c, "path")).c_str());
  }
  if (total > shown)
    line("change:", "… and " + std::to_string(total - shown) + " more in the report");
  const auto hints = report.value("suggestions", nlohmann::json::object());
  if (auto withheld = string_at(hints, "withheld"); !withheld.empty())
    line("suspicious:", withheld);
  for (const auto& config : hints.value("config", nlohmann::json::array()))
    if (config.is_string()) line("to pass:", config.get<std::string>());
  std::string flags;
  for (const auto& flag : hints.value("flags", nlohmann::json::array()))
    if (flag.is_string()) flags += (flags.empty() ? "" : " ") + flag.get<std::string>();
  if (!flags.empty()) line("to pass:", "or run with " + flags);
  for (const auto& log : report.value("logs", nlohmann::json::array()))
    if (log.is_object()) line("log:", string_at(log, "path"));
  const auto staging = report.value("staging", nlohmann::json::object());
  for (const auto& step : staging.value("next", nlohmann::json::array()))
    if (step.is_string()) line("next:", step.get<std::string>());
}

}  // namespace

int list_runs_command(const std::string& project, bool json) {
  auto store = open_run_store();
  if (!store) return fail(store.error().message());
  auto runs = store->list_runs();
  if (!runs) return fail(runs.error().message());
  std::string only;
  if (!project.empty()) {
    std::error_code ec;
    only = std::filesystem::canonical(project, ec).string();
    if (ec) return fail("--project " + project + ": " + ec.message());
  }
  std::erase_if(*runs, [&](const RunSummary& r) { return !only.empty() && r.project != only; });
  if (json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& run : *runs) list.push_back(run_json(run, store->runs_dir() + "/" + run.id));
    std::printf("%s\n", list.dump(2).c_str());
    return exit_code::kSuccess;
  }
  if (runs->empty()) {
    tell("no runs kept in " + store->state_dir() + (only.empty() ? "" : " for " + only));
    return exit_code::kSuccess;
  }
  std::printf("%-26s %-24s %6s  %s\n", "RUN", "VERDICT", "AGE", "PROJECT");
  for (const auto& run : *runs) {
    // The project path and the stored verdict are shown escaped like everything else.
    std::printf("%-26s %-24s %6s  %s\n", sandbox::printable(run.id).c_str(),
                sandbox::printable(state_of(run)).c_str(), age_text(run.age).c_str(),
                sandbox::printable(run.project).c_str());
  }
  return exit_code::kSuccess;
}

int show_run_command(const std::string& run_id, bool json) {
  auto store = open_run_store();
  if (!store) return fail(store.error().message());
  auto run = store->load_run(run_id);
  if (!run) return fail(run.error().message());
  std::string report_path = run->dir.report_file();
  auto report = read_stored_report(report_path);
  if (json) {
    if (!report) return fail(report.error().message());
    std::printf("%s\n", report->dump(2).c_str());
    return exit_code::kSuccess;
  }
  show_run_meta(*run);
  if (!report) {
    tell(report.error().message());
    return exit_code::kSuccess;
  }
  show_report_summary(*report);
  std::printf("  %-10s %s\n", "report:", sandbox::printable(report_path).c_str());
  return exit_code::kSuccess;
}

int promote_command(const std::string& run_id, bool allow_protected) {
  auto store = open_run_store();
  if (!store) return fail(store.error().message());
  auto run = store->load_run(run_id);
  if (!run) return fail(run.error().message());
  const RunMeta& meta = run->meta;
  if (meta.discarded) return fail("run " + run_id + " was discarded; there is nothing to promote");
  if (meta.promoted) return fail("run " + run_id + " was promoted already");
  if (meta.verdict == "rejected") {
    std::fprintf(stderr,
                 "safeinstall: run %s was rejected (see its report) and is never promoted\n"
                 "  next: safeinstall discard %s\n",
                 run_id.c_str(), run_id.c_str());
    return exit_code::kRejected;
  }
  if (meta.verdict.empty())
    return fail("run " + run_id + " has not finished; wait for it, or `safeinstall discard " +
                run_id + "` if it was killed");
  auto lock = lock_project_waiting(*store, meta.project);
  if (!lock) return fail(lock.error().message());
  auto changes = staged_changes(*run);
  if (!changes) return fail(changes.error().message());
  auto verdict = decide_verdict(*changes, {});
  if (verdict.kind == VerdictKind::rejected) {
    tell("run " + run_id + " is rejected and is never promoted:");
    for (const auto& reason : verdict.reasons) tell_detail("why", reason);
    tell_detail("next", "safeinstall discard " + run_id);
    return exit_code::kRejected;
  }
  // Without its snapshot (the time ran out before the run recorded the paths it touched),
  // those paths are checked now against the moment the run began.
  bool recorded = ::access(run->dir.snapshot_file().c_str(), F_OK) == 0;
  auto snapshot = !recorded && run->meta.began_ns
                      ? snapshot_touched(run->meta.project, *changes, *run->meta.began_ns)
                      : load_snapshot(run->dir.snapshot_file());
  if (!snapshot) return fail(snapshot.error().message());
  StagingRecord staging;
  auto attempt =
      promote_stored_run(*store, *run, *changes, &*snapshot, true, allow_protected, staging);
  if (!attempt.promoted) {
    tell(attempt.message);
    return attempt.conflict ? exit_code::kHeld : exit_code::kSafeinstallFailed;
  }
  run->meta.verdict = "promoted";
  run->meta.promoted = true;
  if (auto saved = store->save_meta(run->dir, run->meta); !saved) tell(saved.error().message());
  tell("promoted run " + run_id + " into " + meta.project + ": " +
       std::to_string(changes->changes.size()) + " changes " + changes->category_counts() + ", " +
       std::to_string(staging.promoted_entries.size()) + " top-level entries");
  for (const auto& [path, why] : staging.skipped) tell_detail("left out", path + " (" + why + ")");
  if (staging.copy_promotion || !staging.note.empty()) tell_detail("note", staging.note);
  for (const auto& said : merge_kept_caches(*run)) tell_detail("cache", said);
  return exit_code::kSuccess;
}

int discard_command(const std::string& run_id) {
  auto store = open_run_store();
  if (!store) return fail(store.error().message());
  auto run = store->load_run(run_id);
  if (!run) return fail(run.error().message());
  if (run->meta.discarded) {
    tell("run " + run_id + " was discarded already");
    return exit_code::kSuccess;
  }
  auto lock = lock_project_waiting(*store, run->meta.project);
  if (!lock) return fail(lock.error().message());
  if (auto discarded = store->discard(run_id); !discarded) return fail(discarded.error().message());
  store->trash().empty_in_background();
  tell("discarded the staged changes of run " + run_id);
  return exit_code::kSuccess;
}

int gc_command(bool include_kept, double older_than_days) {
  auto store = open_run_store();
  if (!store) return fail(store.error().message());
  auto max_age = std::chrono::seconds(static_cast<long long>(older_than_days * 86400.0));
  auto result = store->gc(max_age, include_kept);
  if (!result) return fail(result.error().message());
  std::fprintf(stderr, "safeinstall: removed %zu runs", result->removed_runs.size());
  if (result->trash_dirs_removed > 0)
    std::fprintf(stderr, " and %zu promotion leftovers", result->trash_dirs_removed);
  std::fprintf(stderr, " from %s\n", store->state_dir().c_str());
  if (std::size_t cgroups = sandbox::LimitCgroups::remove_stale(); cgroups > 0)
    std::fprintf(stderr, "safeinstall: removed %zu cgroups left by killed runs\n", cgroups);
  for (const auto& problem : result->problems)
    std::fprintf(stderr, "  %s\n", sandbox::printable(problem).c_str());
  return result->problems.empty() ? exit_code::kSuccess : exit_code::kSafeinstallFailed;
}

PrunePolicy prune_policy_of(const BaseProfile& base) {
  PrunePolicy policy;
  if (base.runs_keep) policy.keep = static_cast<std::size_t>(*base.runs_keep);
  if (base.runs_max_age) policy.max_age = std::chrono::seconds(*base.runs_max_age);
  // For one shell or CI job: the environment over the profile.
  if (std::string keep = getenv_string("SAFEINSTALL_RUNS_KEEP"); !keep.empty()) {
    std::size_t value = 0;
    auto [end, ec] = std::from_chars(keep.data(), keep.data() + keep.size(), value);
    if (ec == std::errc() && end == keep.data() + keep.size()) {
      policy.keep = value;
    } else {
      tell("SAFEINSTALL_RUNS_KEEP=" + keep + " is not a number of runs; [runs] keep applies");
    }
  }
  if (std::string age = getenv_string("SAFEINSTALL_RUNS_MAX_AGE"); !age.empty()) {
    if (auto parsed = parse_age(std::string_view(age))) {
      policy.max_age = *parsed;
    } else {
      tell("SAFEINSTALL_RUNS_MAX_AGE: " + parsed.error().message() + "; [runs] max_age applies");
    }
  }
  return policy;
}

int prune_runs_command(const std::string& older_than, long long keep) {
  PrunePolicy policy;
  auto base = housekeeping_profile(current_invoker());
  if (base) {
    policy = prune_policy_of(*base);
  } else if (older_than.empty() || keep < 0) {
    return fail(base.error().message());
  }
  if (!older_than.empty()) {
    auto age = parse_age(std::string_view(older_than));
    if (!age) return fail("--older-than: " + age.error().message());
    policy.max_age = *age;
  }
  if (keep >= 0) policy.keep = static_cast<std::size_t>(keep);
  auto store = open_run_store();
  if (!store) return fail(store.error().message());
  auto result = store->prune(policy);
  if (!result) return fail(result.error().message());
  store->trash().empty_in_background();
  std::fprintf(stderr, "safeinstall: removed %zu runs, reduced %zu promoted runs to their report\n",
               result->removed.size(), result->slimmed.size());
  for (const auto& id : result->removed) tell_detail("removed", id);
  for (const auto& problem : result->problems)
    std::fprintf(stderr, "  %s\n", sandbox::printable(problem).c_str());
  return result->problems.empty() ? exit_code::kSuccess : exit_code::kSafeinstallFailed;
}

void prune_after_run(const PrunePolicy& policy) {
  auto dir = default_state_dir();
  if (!dir) return;
  auto store = RunStore::open(*dir);
  if (!store) return;
  auto result = store->prune_after_run(policy);
  // Also what the run itself discarded (a failed run that changed nothing).
  store->trash().empty_in_background();
  if (!result) {
    tell("pruning kept runs: " + result.error().message());
    return;
  }
  for (const auto& problem : result->problems) tell("pruning kept runs: " + problem);
}

}  // namespace safeinstall::runner
