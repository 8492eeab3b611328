#include "runner/store/run_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>

#include "runner/fs/fs_tree.h"
#include "runner/fs/user_dirs.h"
#include "runner/store/promotion_journal.h"

namespace safeinstall::runner {
namespace {

using sandbox::UniqueFd;

constexpr std::string_view kMetaSchema = "safeinstall.run/1";
constexpr std::string_view kStagingDirName = ".safeinstall-staging";
constexpr std::size_t kMaxMetaBytes = 4 << 20;

std::string rfc3339(std::chrono::system_clock::time_point t) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  std::array<char, 32> text{};
  std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text.data();
}

std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::string hex(std::uint64_t value) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text(16, '0');
  for (int i = 15; i >= 0; --i, value >>= 4)
    text[static_cast<std::size_t>(i)] = kDigits[value & 0xf];
  return text;
}

std::vector<std::string> strings_at(const nlohmann::json& j, const char* key) {
  std::vector<std::string> out;
  for (const auto& value : j.value(key, nlohmann::json::array()))
    if (value.is_string()) out.push_back(value.get<std::string>());
  return out;
}

nlohmann::json judging_to_json(const std::optional<RunJudging>& judging) {
  if (!judging) return nullptr;
  return {{"expected", judging->expected},
          {"protected", judging->protected_paths},
          {"dependency_manifests", judging->dependency_manifests}};
}

std::optional<RunJudging> judging_from_json(const nlohmann::json& j) {
  auto it = j.find("judging");
  if (it == j.end() || !it->is_object()) return std::nullopt;
  return RunJudging{strings_at(*it, "expected"), strings_at(*it, "protected"),
                    strings_at(*it, "dependency_manifests")};
}

nlohmann::json meta_to_json(const RunMeta& meta) {
  auto unix_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(meta.created_at.time_since_epoch()).count();
  nlohmann::json j = {{"schema", kMetaSchema},
                      {"run_id", meta.run_id},
                      {"project", meta.project},
                      {"command", meta.command},
                      {"created_at", rfc3339(meta.created_at)},
                      {"created_at_unix", unix_seconds},
                      {"created_at_unix_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                                 meta.created_at.time_since_epoch())
                                                 .count()},
                      {"staging", meta.staging},
                      {"copy_promotion", meta.copy_promotion},
                      {"staging_note", meta.staging_note},
                      {"verdict", meta.verdict},
                      {"promoted", meta.promoted},
                      {"discarded", meta.discarded},
                      {"direct_dirs", meta.direct_dirs},
                      {"local_dependencies", meta.local_dependencies},
                      {"exit_code", meta.exit_code},
                      {"judging", judging_to_json(meta.judging)}};
  if (meta.began_ns) j["began_by_filesystem_ns"] = *meta.began_ns;
  return j;
}

Result<RunMeta> meta_from_json(const nlohmann::json& j, const std::string& file) {
  if (!j.is_object() || j.value("schema", "") != kMetaSchema) {
    return plain_error("read " + file + ": not a safeinstall run description");
  }
  RunMeta meta;
  meta.run_id = j.value("run_id", "");
  meta.project = j.value("project", "");
  if (j.contains("command") && j["command"].is_array()) {
    for (const auto& arg : j["command"]) {
      if (arg.is_string()) meta.command.push_back(arg.get<std::string>());
    }
  }
  // Milliseconds where known: runs started within one second still sort by age.
  meta.created_at = std::chrono::system_clock::time_point(
      std::chrono::seconds(j.value("created_at_unix", std::int64_t{0})));
  if (auto ms = j.find("created_at_unix_ms"); ms != j.end() && ms->is_number_integer())
    meta.created_at = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::milliseconds(ms->get<std::int64_t>())));
  meta.staging = j.value("staging", "");
  meta.copy_promotion = j.value("copy_promotion", false);
  meta.staging_note = j.value("staging_note", "");
  meta.verdict = j.value("verdict", "");
  meta.promoted = j.value("promoted", false);
  meta.discarded = j.value("discarded", false);
  if (auto code = j.find("exit_code"); code != j.end() && code->is_number_integer())
    meta.exit_code = code->get<int>();
  if (auto began = j.find("began_by_filesystem_ns"); began != j.end() && began->is_number_integer())
    meta.began_ns = began->get<std::int64_t>();
  meta.direct_dirs = strings_at(j, "direct_dirs");
  meta.judging = judging_from_json(j);
  for (const auto& dir : j.value("local_dependencies", nlohmann::json::array())) {
    if (dir.is_string() && dir.get<std::string>().starts_with('/'))
      meta.local_dependencies.push_back(dir.get<std::string>());
  }
  if (!valid_run_id(meta.run_id) || meta.project.empty() || meta.project.front() != '/' ||
      meta.staging.empty() || meta.staging.front() != '/') {
    return plain_error("read " + file + ": run id, project or staging path missing or malformed");
  }
  return meta;
}

// Finished with: nothing more can come of the run, so gc may remove it once old enough.
bool finished_with(const RunMeta& meta, bool include_kept) {
  if (meta.promoted || meta.discarded || meta.verdict == "rejected" || meta.verdict == "failed")
    return true;
  return include_kept && (meta.verdict == "held" || meta.verdict == "staged");
}

Result<bool> promotion_unfinished(const RunDir& run) {
  auto journal = load_journal(run.journal_file());
  if (!journal) return propagate(journal);
  return *journal && is_unfinished((*journal)->state);
}

Result<void> remove_staged_data(const RunDir& run, const Trash& trash) {
  // A package cache's writes are staged in the run dir even when the project's are not.
  if (auto removed = trash.take(run.caches()); !removed) return removed;
  if (run.staging != run.path) return trash.take(run.staging);
  for (const auto& dir : {run.upper(), run.work(), run.build(), run.trash()}) {
    if (auto removed = trash.take(dir); !removed) return removed;
  }
  return {};
}

// A whole run: its staged data (which may live elsewhere), then its dir.
Result<void> remove_run(const RunDir& run, const Trash& trash) {
  auto staged = remove_staged_data(run, trash);
  return staged ? trash.take(run.path) : staged;
}

// What a promoted run keeps: what `runs` and `runs show` read, and the tool's logs when the
// command failed (promoted with --promote-on-failure: the receipt names them).
bool kept_when_slim(const std::string& name, const RunMeta& meta) {
  return name == "meta.json" || name == "report.json" || name == "receipt.txt" ||
         name == "audit.toml" || (name == "logs" && meta.exit_code > 0);
}

Result<bool> slim_run(const StoredRun& run, const Trash& trash) {
  bool removed_any = false;
  if (run.dir.staging != run.dir.path && ::access(run.dir.staging.c_str(), F_OK) == 0) {
    if (auto removed = trash.take(run.dir.staging); !removed) return propagate(removed);
    removed_any = true;
  }
  auto dir = open_directory(run.dir.path);
  if (!dir) return propagate(dir);
  auto names = list_directory(dir->get(), run.dir.path);
  if (!names) return propagate(names);
  for (const auto& name : *names) {
    if (kept_when_slim(name, run.meta)) continue;
    if (auto removed = trash.take_at(dir->get(), name, run.dir.path + "/" + name); !removed)
      return propagate(removed);
    removed_any = true;
  }
  return removed_any;
}

// Whether slim_run() would remove anything: one listing, no lock.
bool holds_more_than_slim(const StoredRun& run) {
  if (run.dir.staging != run.dir.path && ::access(run.dir.staging.c_str(), F_OK) == 0) return true;
  auto dir = open_directory(run.dir.path);
  if (!dir) return false;
  auto names = list_directory(dir->get(), run.dir.path);
  return names &&
         std::ranges::any_of(*names, [&](const auto& n) { return !kept_when_slim(n, run.meta); });
}

bool prunable(const RunMeta& meta) {
  return meta.promoted || meta.discarded || meta.verdict == "rejected" || meta.verdict == "failed";
}

// For whoever looks at the lock directory: which project this lock is. Written only when
// it says something else: truncating frees the file's block, which a filesystem mounted with
// `discard` pays for with a synchronous discard on every run.
void name_lock_file(int fd, const std::string& project) {
  std::string line = project + "\n";
  std::string present(line.size() + 1, '\0');
  if (::pread(fd, present.data(), present.size(), 0) == static_cast<ssize_t>(line.size()) &&
      present.starts_with(line))
    return;
  if (::ftruncate(fd, 0) == 0) {
    [[maybe_unused]] auto n = ::pwrite(fd, line.data(), line.size(), 0);
  }
}

}  // namespace

RunDir RunDir::at(const std::string& dir) {
  auto slash = dir.find_last_of('/');
  return RunDir{slash == std::string::npos ? dir : dir.substr(slash + 1), dir, dir};
}

Result<std::string> default_state_dir() {
  return user_dir({.override_variable = "SAFEINSTALL_STATE_DIR",
                   .xdg_variable = "XDG_STATE_HOME",
                   .home_default = ".local/state",
                   .below = "safeinstall",
                   .what = "safeinstall's state"});
}

bool valid_run_id(std::string_view id) {
  if (id.empty() || id.size() > 128 || id.front() == '.' || id.front() == '-') return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

Result<StagingChoice> choose_staging(const std::string& run_path, const std::string& project) {
  auto project_mount = mount_identity(project);
  if (!project_mount) return propagate(project_mount);
  auto run_mount = mount_identity(run_path);
  if (!run_mount) return propagate(run_mount);
  if (*run_mount == *project_mount) {
    return StagingChoice{run_path, false, "staged in the state dir, on the project's filesystem"};
  }
  auto slash = project.find_last_of('/');
  if (slash != std::string::npos && slash > 0) {
    std::string root = project.substr(0, slash) + "/" + std::string(kStagingDirName);
    bool existed = ::access(root.c_str(), F_OK) == 0;
    if (make_private_directory(root)) {
      auto root_mount = mount_identity(root);
      if (root_mount && *root_mount == *project_mount) {
        std::string id = run_path.substr(run_path.find_last_of('/') + 1);
        return StagingChoice{
            root + "/" + id, false,
            "staged in " + root + ": the state dir is on another filesystem than the project"};
      }
      if (!existed) ::rmdir(root.c_str());
    }
  }
  return StagingChoice{
      run_path, true,
      "staged in the state dir on another filesystem than the project, and the "
      "project's parent directory is not usable: promotion copies instead of renaming"};
}

Result<RunMeta> load_meta(const RunDir& run) {
  auto content = read_small_file(run.meta_file(), kMaxMetaBytes);
  if (!content) return propagate(content);
  if (!*content)
    return plain_error("run " + run.id + " has no meta.json",
                       "it was removed or never finished starting");
  auto j = nlohmann::json::parse(**content, nullptr, /*allow_exceptions=*/false);
  return meta_from_json(j, run.meta_file());
}

Result<RunStore> RunStore::open(const std::string& state_dir) {
  if (state_dir.empty() || state_dir.front() != '/') {
    return plain_error("state dir '" + state_dir + "' is not an absolute path");
  }
  if (auto parents = create_parents(state_dir); !parents) return propagate(parents);
  RunStore store(state_dir);
  for (const auto& dir : {state_dir, store.runs_dir(), state_dir + "/locks"}) {
    if (auto made = make_private_directory(dir); !made) return propagate(made);
  }
  return store;
}

RunDir RunStore::run_dir(const std::string& id, const std::string& staging) const {
  std::string path = runs_dir() + "/" + id;
  return RunDir{id, path, staging.empty() ? path : staging};
}

Result<StoredRun> RunStore::create_run(const std::string& run_id, RunMeta meta) {
  if (!valid_run_id(run_id))
    return plain_error("create run: '" + run_id + "' is not a valid run id");
  if (meta.project.empty() || meta.project.front() != '/') {
    return plain_error("create run " + run_id + ": project path '" + meta.project +
                       "' is not absolute");
  }
  struct stat project_st {};
  if (::stat(meta.project.c_str(), &project_st) != 0)
    return sys_error("stat project " + meta.project);
  RunDir run = run_dir(run_id, "");
  if (::mkdir(run.path.c_str(), 0700) != 0) return sys_error("create run dir " + run.path);
  auto choice = choose_staging(run.path, meta.project);
  if (!choice) return propagate(choice);
  run.staging = choice->staging;
  if (run.staging != run.path) {
    if (auto made = make_private_directory(run.staging); !made) return propagate(made);
  }
  // The overlay's root directory shows the upper dir's permissions: give it the project's.
  if (::mkdir(run.upper().c_str(), 0700) != 0 ||
      ::chmod(run.upper().c_str(), project_st.st_mode & 0777) != 0) {
    return sys_error("create staging dir " + run.upper());
  }
  if (::mkdir(run.work().c_str(), 0700) != 0) return sys_error("create staging dir " + run.work());
  meta.run_id = run_id;
  meta.staging = run.staging;
  meta.copy_promotion = choice->copy_promotion;
  meta.staging_note = choice->note;
  if (auto saved = save_meta(run, meta, /*durable=*/false); !saved) return propagate(saved);
  return StoredRun{run, std::move(meta)};
}

Result<StoredRun> RunStore::load_run(const std::string& run_id) const {
  if (!valid_run_id(run_id)) {
    return plain_error("'" + run_id + "' is not a run id",
                       "`safeinstall runs` lists the runs kept");
  }
  RunDir run = run_dir(run_id, "");
  struct stat st {};
  if (::lstat(run.path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return plain_error("no run " + run_id + " in " + runs_dir(),
                       "`safeinstall runs` lists the runs kept");
  }
  auto meta = load_meta(run);
  if (!meta) return propagate(meta);
  if (meta->run_id != run_id)
    return plain_error("run " + run_id + ": meta.json names another run (" + meta->run_id + ")");
  run.staging = meta->staging;
  return StoredRun{run, std::move(*meta)};
}

Result<void> RunStore::save_meta(const RunDir& run, const RunMeta& meta, bool durable) const {
  // Replacing meta.json frees the old file, whose block a filesystem mounted with `discard`
  // discards before the rename returns (4-8 ms on such a disk, on every run's last save): a
  // link in the trash keeps it until the detached remover frees it. Where that fails, the
  // rename frees it as before.
  (void)trash().keep_link_of(run.meta_file());
  return write_file_atomically(run.meta_file(), meta_to_json(meta).dump(1), durable);
}

Result<std::vector<RunSummary>> RunStore::list_runs() const {
  auto dir = open_directory(runs_dir());
  if (!dir) return propagate(dir);
  auto names = list_directory(dir->get(), runs_dir());
  if (!names) return propagate(names);
  return summaries_of(*names);
}

std::vector<RunSummary> RunStore::summaries_of(const std::vector<std::string>& names) const {
  auto now = std::chrono::system_clock::now();
  std::vector<RunSummary> runs;
  for (const auto& name : names) {
    if (!valid_run_id(name)) continue;
    auto stored = load_run(name);
    if (!stored) continue;
    const RunMeta& meta = stored->meta;
    RunSummary summary{meta.run_id,
                       meta.project,
                       meta.verdict,
                       meta.created_at,
                       std::chrono::duration_cast<std::chrono::seconds>(now - meta.created_at),
                       meta.promoted,
                       meta.discarded,
                       false};
    auto unfinished = promotion_unfinished(stored->dir);
    summary.promotion_unfinished = !unfinished || *unfinished;  // unreadable journal: look at it
    runs.push_back(std::move(summary));
  }
  std::sort(runs.begin(), runs.end(), [](const RunSummary& a, const RunSummary& b) {
    return a.created_at != b.created_at ? a.created_at > b.created_at : a.id > b.id;
  });
  return runs;
}

Result<void> RunStore::discard(const std::string& run_id) const {
  auto stored = load_run(run_id);
  if (!stored) return propagate(stored);
  auto unfinished = promotion_unfinished(stored->dir);
  if (!unfinished) return propagate(unfinished);
  if (*unfinished) {
    return plain_error(
        "discard run " + run_id + ": its promotion was interrupted",
        "run any safeinstall command on the project first; it finishes the promotion");
  }
  if (stored->meta.promoted) {
    return plain_error("discard run " + run_id + ": it was promoted; its changes are in " +
                       stored->meta.project);
  }
  if (auto removed = remove_staged_data(stored->dir, trash()); !removed) return removed;
  stored->meta.discarded = true;
  return save_meta(stored->dir, stored->meta);
}

Result<GcResult> RunStore::gc(std::chrono::seconds max_age, bool include_kept) const {
  auto dir = open_directory(runs_dir());
  if (!dir) return propagate(dir);
  auto names = list_directory(dir->get(), runs_dir());
  if (!names) return propagate(names);
  auto now = std::chrono::system_clock::now();
  GcResult result;
  for (const auto& name : *names) {
    if (!valid_run_id(name)) continue;
    auto stored = load_run(name);
    if (!stored) {
      result.problems.push_back(name + ": " + stored.error().message());
      continue;
    }
    // A run whose project is locked may be in progress or promoting right now.
    auto lock = try_lock_project(stored->meta.project);
    if (!lock || !*lock) continue;
    auto unfinished = promotion_unfinished(stored->dir);
    if (!unfinished || *unfinished) {
      result.problems.push_back(name + ": promotion unfinished; left for recovery");
      continue;
    }
    bool old = now - stored->meta.created_at > max_age;
    if (old && finished_with(stored->meta, include_kept)) {
      if (auto removed = remove_run(stored->dir, trash()); removed) {
        result.removed_runs.push_back(name);
      } else {
        result.problems.push_back(name + ": " + removed.error().message());
      }
      continue;
    }
    for (const auto& leftover : {stored->dir.trash(), stored->dir.build()}) {
      if (::access(leftover.c_str(), F_OK) != 0) continue;
      if (auto removed = remove_tree(leftover); removed) {
        ++result.trash_dirs_removed;
      } else {
        result.problems.push_back(name + ": " + removed.error().message());
      }
    }
  }
  // What this gc and earlier runs put in the trash goes now: gc is the cleaning up.
  if (auto emptied = trash().empty(); !emptied)
    result.problems.push_back(emptied.error().message());
  return result;
}

Result<PruneResult> RunStore::prune(const PrunePolicy& policy) const {
  auto runs = list_runs();  // newest first
  if (!runs) return propagate(runs);
  return prune_listed(*runs, 0, policy);
}

Result<PruneResult> RunStore::prune_listed(const std::vector<RunSummary>& runs, std::size_t newer,
                                           const PrunePolicy& policy) const {
  auto now = std::chrono::system_clock::now();
  PruneResult result;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const RunSummary& summary = runs[i];
    if (summary.promotion_unfinished) continue;
    auto stored = load_run(summary.id);
    if (!stored || !prunable(stored->meta)) continue;
    if (cleanup_pending(stored->dir)) continue;  // its old trees are going in the background
    bool too_many = policy.keep && newer + i >= *policy.keep;
    bool too_old = policy.max_age && now - stored->meta.created_at > *policy.max_age;
    bool slim = !too_many && !too_old && stored->meta.promoted && holds_more_than_slim(*stored);
    if (!too_many && !too_old && !slim) continue;
    // A run whose project is locked may be in progress or promoting right now.
    auto lock = try_lock_project(stored->meta.project);
    if (!lock || !*lock) continue;
    if (too_many || too_old) {
      if (auto removed = remove_run(stored->dir, trash()); removed) {
        result.removed.push_back(summary.id);
      } else {
        result.problems.push_back(summary.id + ": " + removed.error().message());
      }
      continue;
    }
    auto slimmed = slim_run(*stored, trash());
    if (!slimmed) {
      result.problems.push_back(summary.id + ": " + slimmed.error().message());
    } else if (*slimmed) {
      result.slimmed.push_back(summary.id);
    }
  }
  return result;
}

namespace {

// "20261207T061736Z-2e2c82ac": the run's creation time, to the second, in UTC.
std::optional<std::chrono::system_clock::time_point> created_at_of_run_id(std::string_view id) {
  struct tm tm {};
  std::string stamp(id.substr(0, 16));
  const char* end = ::strptime(stamp.c_str(), "%Y%m%dT%H%M%SZ", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return std::chrono::system_clock::from_time_t(::timegm(&tm));
}

// The runs a prune by `keep` has to look at, from `names` (more than `keep` of them): those
// created in the second of the run at index `keep` (newest first) or before. A run id starts
// with its creation time to the second, so every run left out is newer than all of these; only
// within that second does meta.json's millisecond time order them. Nothing when a name does
// not start with a time.
std::optional<std::vector<std::string>> runs_past_keep(std::vector<std::string> names,
                                                       std::size_t keep) {
  constexpr std::size_t kStamp = 16;  // "20261207T061736Z"
  if (std::ranges::any_of(names, [](const auto& n) { return !created_at_of_run_id(n); }))
    return std::nullopt;
  std::ranges::sort(names, std::greater<>());
  std::string boundary = names[keep].substr(0, kStamp);
  std::erase_if(names, [&](const std::string& n) { return n.substr(0, kStamp) > boundary; });
  return names;
}

}  // namespace

Result<PruneResult> RunStore::prune_after_run(const PrunePolicy& policy) const {
  auto dir = open_directory(runs_dir());
  if (!dir) return propagate(dir);
  auto names = list_directory(dir->get(), runs_dir());
  if (!names) return propagate(names);
  std::erase_if(*names, [](const std::string& name) { return !valid_run_id(name); });
  if (names->empty()) return PruneResult{};
  auto now = std::chrono::system_clock::now();
  bool past_keep = policy.keep && names->size() > *policy.keep;
  bool past_age = policy.max_age && std::ranges::any_of(*names, [&](const std::string& name) {
                    auto created = created_at_of_run_id(name);
                    return !created || now - *created > *policy.max_age;
                  });
  std::optional<std::vector<std::string>> past;
  if (past_keep && !past_age) past = runs_past_keep(*names, *policy.keep);
  if (past_age || (past_keep && !past)) return prune(policy);
  PruneResult result;
  if (past) {
    auto pruned = prune_listed(summaries_of(*past), names->size() - past->size(), policy);
    if (!pruned) return pruned;
    result = std::move(*pruned);
  }
  auto newest = load_run(*std::ranges::max_element(*names));
  if (!newest || !newest->meta.promoted || cleanup_pending(newest->dir) ||
      !holds_more_than_slim(*newest))
    return result;
  auto lock = try_lock_project(newest->meta.project);
  if (!lock || !*lock) return result;
  auto slimmed = slim_run(*newest, trash());
  if (!slimmed) {
    result.problems.push_back(newest->dir.id + ": " + slimmed.error().message());
  } else if (*slimmed) {
    result.slimmed.push_back(newest->dir.id);
  }
  return result;
}

std::string RunStore::lock_file_for(const std::string& project) const {
  return state_dir_ + "/locks/" + hex(fnv1a(project)) + ".lock";
}

Result<std::optional<ProjectLock>> RunStore::try_lock_project(const std::string& project) const {
  std::string file = lock_file_for(project);
  UniqueFd fd(::open(file.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return sys_error("open lock file " + file);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return std::optional<ProjectLock>{};
    return sys_error("lock " + file);
  }
  name_lock_file(fd.get(), project);
  return std::optional<ProjectLock>(ProjectLock(std::move(fd)));
}

Result<ProjectLock> RunStore::lock_project(const std::string& project,
                                           const std::function<void()>& on_wait) const {
  auto quick = try_lock_project(project);
  if (!quick) return propagate(quick);
  if (*quick) return std::move(**quick);
  if (on_wait) on_wait();
  std::string file = lock_file_for(project);
  UniqueFd fd(::open(file.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return sys_error("open lock file " + file);
  // EINTR is returned, not retried: a Ctrl-C while waiting should end the wait.
  if (::flock(fd.get(), LOCK_EX) != 0)
    return sys_error("wait for the lock on " + project + " (" + file + ")");
  return ProjectLock(std::move(fd));
}

Result<std::optional<UniqueFd>> lock_run_dir(const RunDir& run) {
  UniqueFd fd(::open(run.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return sys_error("open run dir " + run.path + " to lock it");
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return std::optional<UniqueFd>{};
    return sys_error("lock run dir " + run.path);
  }
  return std::optional<UniqueFd>(std::move(fd));
}

bool cleanup_pending(const RunDir& run) {
  auto journal = load_journal(run.journal_file());
  return journal && *journal && (*journal)->state == JournalState::committed;
}

}  // namespace safeinstall::runner
