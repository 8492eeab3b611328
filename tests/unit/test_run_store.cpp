#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <ctime>
#include <optional>

#include "runner/fs/fs_tree.h"
#include "runner/store/promotion_journal.h"
#include "runner/store/run_store.h"
#include "staging_test_support.h"

using namespace safeinstall::runner;
using namespace safeinstall::staging_test;

namespace {

// Sets an environment variable for one scope, restoring the old value after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value == nullptr) {
      ::unsetenv(name);
    } else {
      ::setenv(name, value, 1);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

struct Store {
  ScratchDir root{"si-store"};
  std::string project = root / "project";
  RunStore store;
  Store() : store(open_store(root / "state")) { make_dir(project); }
  static RunStore open_store(const std::string& dir) {
    auto s = RunStore::open(dir);
    REQUIRE(s);
    return std::move(*s);
  }
  StoredRun create(const std::string& id,
                   std::chrono::system_clock::time_point when = std::chrono::system_clock::now()) {
    RunMeta meta;
    meta.project = project;
    meta.command = {"npm", "ci"};
    meta.created_at = when;
    auto run = store.create_run(id, meta);
    REQUIRE(run);
    return std::move(*run);
  }
};

mode_t mode_of(const std::string& path) {
  struct stat st {};
  ::lstat(path.c_str(), &st);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("run store: the state dir comes from SAFEINSTALL_STATE_DIR, XDG_STATE_HOME, then HOME") {
  ScopedEnv home("HOME", "/home/alice");
  {
    ScopedEnv state("SAFEINSTALL_STATE_DIR", "/srv/si");
    ScopedEnv xdg("XDG_STATE_HOME", "/xdg");
    CHECK(default_state_dir() == std::string("/srv/si"));
  }
  {
    ScopedEnv state("SAFEINSTALL_STATE_DIR", nullptr);
    ScopedEnv xdg("XDG_STATE_HOME", "/xdg");
    CHECK(default_state_dir() == std::string("/xdg/safeinstall"));
  }
  {
    ScopedEnv state("SAFEINSTALL_STATE_DIR", nullptr);
    ScopedEnv xdg("XDG_STATE_HOME", "relative/ignored");
    CHECK(default_state_dir() == std::string("/home/alice/.local/state/safeinstall"));
  }
  {
    ScopedEnv state("SAFEINSTALL_STATE_DIR", "relative");
    CHECK_FALSE(default_state_dir());
  }
}

TEST_CASE(
    "run store: a run gets private dirs next to its meta.json when on the project's filesystem") {
  Store s;
  ::chmod(s.project.c_str(), 0751);
  auto run = s.create("20250101T000000Z-0001");
  CHECK(run.dir.staging == run.dir.path);
  CHECK(run.dir.path == s.root / "state/runs/20250101T000000Z-0001");
  CHECK_FALSE(run.meta.copy_promotion);
  CHECK(mode_of(s.root / "state") == 0700);
  CHECK(mode_of(run.dir.path) == 0700);
  CHECK(mode_of(run.dir.work()) == 0700);
  CHECK(mode_of(run.dir.upper()) == 0751);  // the overlay root shows the project's mode
  auto loaded = s.store.load_run("20250101T000000Z-0001");
  REQUIRE(loaded);
  CHECK(loaded->meta.project == s.project);
  CHECK(loaded->meta.command == std::vector<std::string>{"npm", "ci"});
  CHECK(loaded->meta.staging == run.dir.staging);
  CHECK(loaded->meta.verdict.empty());
  CHECK_FALSE(s.store.create_run("20250101T000000Z-0001", loaded->meta));  // ids are unique
}

TEST_CASE("run store: ids that are not run ids never become paths") {
  Store s;
  for (const char* id : {"", "..", "../x", "a/b", ".hidden", "-rf", "x y"}) {
    INFO(id);
    CHECK_FALSE(valid_run_id(id));
    CHECK_FALSE(s.store.load_run(id));
  }
  CHECK(valid_run_id("20250101T000000Z-abcd1234"));
  auto missing = s.store.load_run("20250101T000000Z-ffff");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().hint.find("safeinstall runs") != std::string::npos);
}

TEST_CASE("run store: a state dir owned by someone else is refused") {
  ScratchDir root("si-store-owner");
  make_dir(root / "state", 0700);
  if (::geteuid() != 0) {
    WARN("needs root to chown; skipped");
    return;
  }
  REQUIRE(::chown((root / "state").c_str(), 4242, 4242) == 0);
  auto store = RunStore::open(root / "state");
  REQUIRE_FALSE(store);
  CHECK(store.error().step.find("belongs to uid 4242") != std::string::npos);
}

TEST_CASE("run store: list, discard and gc") {
  Store s;
  auto now = std::chrono::system_clock::now();
  auto old_time = now - std::chrono::hours(24 * 30);
  auto promoted = s.create("r1-promoted", old_time);
  auto held = s.create("r2-held", old_time);
  auto fresh = s.create("r3-fresh", now);
  auto discarded = s.create("r4-discard", now - std::chrono::hours(1));
  promoted.meta.promoted = true;
  promoted.meta.verdict = "promoted";
  REQUIRE(s.store.save_meta(promoted.dir, promoted.meta));
  held.meta.verdict = "held";
  REQUIRE(s.store.save_meta(held.dir, held.meta));
  write_file(fresh.dir.trash() + "/0/old", "x");

  auto runs = s.store.list_runs();
  REQUIRE(runs);
  REQUIRE(runs->size() == 4);
  CHECK((*runs)[0].id == "r3-fresh");  // newest first
  CHECK((*runs)[3].age >= std::chrono::hours(24 * 30) - std::chrono::minutes(1));
  auto held_summary = std::find_if(runs->begin(), runs->end(),
                                   [](const RunSummary& r) { return r.id == "r2-held"; });
  REQUIRE(held_summary != runs->end());
  CHECK(held_summary->verdict == "held");
  CHECK_FALSE(held_summary->promoted);
  CHECK(runs->back().id == "r1-promoted");  // same age: ties go by id, newest-looking first

  write_file(discarded.dir.upper() + "/node_modules/x", "staged");
  REQUIRE(s.store.discard("r4-discard"));
  CHECK_FALSE(exists(discarded.dir.upper()));
  CHECK(exists(discarded.dir.meta_file()));
  CHECK(s.store.load_run("r4-discard")->meta.discarded);

  auto gc = s.store.gc(std::chrono::hours(24 * 7));
  REQUIRE(gc);
  CHECK(gc->removed_runs == std::vector<std::string>{"r1-promoted"});
  CHECK(gc->trash_dirs_removed == 1);
  CHECK_FALSE(exists(promoted.dir.path));
  CHECK(exists(held.dir.path));  // held runs are kept for the user
  CHECK_FALSE(exists(fresh.dir.trash()));

  auto all = s.store.gc(std::chrono::seconds(0), /*include_kept=*/true);
  REQUIRE(all);
  std::sort(all->removed_runs.begin(), all->removed_runs.end());
  CHECK(all->removed_runs == std::vector<std::string>{"r2-held", "r4-discard"});
}

TEST_CASE("run store: runs with an unfinished promotion are neither discarded nor collected") {
  Store s;
  auto run =
      s.create("r-interrupted", std::chrono::system_clock::now() - std::chrono::hours(24 * 30));
  run.meta.verdict = "failed";
  REQUIRE(s.store.save_meta(run.dir, run.meta));
  PromotionJournal journal;
  journal.run_id = run.dir.id;
  journal.project = s.project;
  journal.state = JournalState::committing;
  REQUIRE(save_journal(run.dir.journal_file(), journal, false));
  auto discard = s.store.discard("r-interrupted");
  REQUIRE_FALSE(discard);
  CHECK(discard.error().step.find("interrupted") != std::string::npos);
  auto gc = s.store.gc(std::chrono::seconds(0), true);
  REQUIRE(gc);
  CHECK(gc->removed_runs.empty());
  CHECK(exists(run.dir.path));
  auto runs = s.store.list_runs();
  REQUIRE(runs);
  CHECK(runs->front().promotion_unfinished);
}

TEST_CASE("run store: one run per project at a time - the second waits and is told so") {
  Store s;
  auto first = s.store.try_lock_project(s.project);
  REQUIRE(first);
  REQUIRE(*first);
  auto second = s.store.try_lock_project(s.project);
  REQUIRE(second);
  CHECK_FALSE(*second);
  auto other_project = s.store.try_lock_project(s.root / "elsewhere");
  REQUIRE(other_project);
  CHECK(*other_project);
  first->reset();
  auto third = s.store.try_lock_project(s.project);
  REQUIRE(third);
  CHECK(*third);
}

TEST_CASE("run store: the blocking lock waits until the holder lets go") {
  Store s;
  int to_holder[2], from_holder[2];
  REQUIRE(::pipe(to_holder) == 0);
  REQUIRE(::pipe(from_holder) == 0);
  pid_t holder = ::fork();
  REQUIRE(holder >= 0);
  if (holder == 0) {
    auto lock = s.store.try_lock_project(s.project);
    char c = (lock && *lock) ? 'L' : 'F';
    (void)!::write(from_holder[1], &c, 1);
    (void)!::read(to_holder[0], &c, 1);  // until told to let go
    ::_exit(0);
  }
  char c = 0;
  REQUIRE(::read(from_holder[0], &c, 1) == 1);
  REQUIRE(c == 'L');
  int waits = 0;
  auto lock = s.store.lock_project(s.project, [&] {
    ++waits;
    char go = 'g';
    (void)!::write(to_holder[1], &go, 1);
  });
  REQUIRE(lock);
  CHECK(lock->held());
  CHECK(waits == 1);
  int status = 0;
  ::waitpid(holder, &status, 0);
  for (int fd : {to_holder[0], to_holder[1], from_holder[0], from_holder[1]}) ::close(fd);
}

TEST_CASE("run store: staging next to the project when the state dir is on another filesystem") {
  ScratchDir tmp("si-staging-choice");
  std::string project = tmp / "work/project";
  make_dir(project);
  std::string shm_state = "/dev/shm/si-state-" + std::to_string(::getpid());
  auto shm = mount_identity("/dev/shm");
  auto here = mount_identity(tmp.path());
  if (!shm || !here || *shm == *here) {
    WARN("/dev/shm is not a separate mount here; skipped");
    return;
  }
  struct Cleanup {
    std::string dir;
    ~Cleanup() { (void)remove_tree(dir); }
  } cleanup{shm_state};
  auto store = RunStore::open(shm_state);
  REQUIRE(store);
  RunMeta meta;
  meta.project = project;
  meta.created_at = std::chrono::system_clock::now();
  auto run = store->create_run("r-near", meta);
  REQUIRE(run);
  CHECK(run->dir.staging == tmp / "work/.safeinstall-staging/r-near");
  CHECK(run->dir.path == shm_state + "/runs/r-near");
  CHECK_FALSE(run->meta.copy_promotion);
  CHECK(mode_of(tmp / "work/.safeinstall-staging") == 0700);
  CHECK(exists(run->dir.upper()));
  auto loaded = store->load_run("r-near");
  REQUIRE(loaded);
  CHECK(loaded->dir.upper() == tmp / "work/.safeinstall-staging/r-near/upper");

  // A parent where the staging dir belongs to someone else: copy-based, in the state dir.
  if (::geteuid() == 0) {
    std::string project2 = tmp / "shared/project";
    make_dir(project2);
    make_dir(tmp / "shared/.safeinstall-staging", 0700);
    REQUIRE(::chown((tmp / "shared/.safeinstall-staging").c_str(), 4242, 4242) == 0);
    meta.project = project2;
    auto copy_run = store->create_run("r-copy", meta);
    REQUIRE(copy_run);
    CHECK(copy_run->meta.copy_promotion);
    CHECK(copy_run->dir.staging == copy_run->dir.path);
    CHECK(copy_run->meta.staging_note.find("promotion copies") != std::string::npos);
  }
}

TEST_CASE("run store: prune slims promoted runs and removes finished ones, never held ones") {
  Store s;
  auto now = std::chrono::system_clock::now();
  auto at = [&](int hours_ago) { return now - std::chrono::hours(hours_ago); };
  auto finish = [&](StoredRun& run, const std::string& verdict) {
    run.meta.verdict = verdict;
    run.meta.promoted = verdict == "promoted";
    REQUIRE(s.store.save_meta(run.dir, run.meta));
    write_file(run.dir.report_file(), "{}");
    write_file(run.dir.receipt_file(), "safeinstall: ...\n");
  };
  auto held_old = s.create("r1-held-old", at(24 * 90));
  finish(held_old, "held");
  auto failed_old = s.create("r2-failed-old", at(24 * 40));
  finish(failed_old, "failed");
  auto promoted = s.create("r3-promoted", at(3));
  finish(promoted, "promoted");
  write_file(promoted.dir.upper() + "/node_modules/x/index.js", "x");
  write_file(promoted.dir.snapshot_file(), "snapshot");
  write_file(promoted.dir.path + "/logs/npm/a.log", "log");
  write_file(promoted.dir.caches() + "/npm/upper/x", "x");
  auto staged = s.create("r4-staged", at(2));
  finish(staged, "staged");
  auto rejected = s.create("r5-rejected", at(1));
  finish(rejected, "rejected");

  SECTION("by age and by count") {
    auto pruned = s.store.prune({.keep = 3, .max_age = std::chrono::hours(24 * 30)});
    REQUIRE(pruned);
    CHECK(pruned->problems.empty());
    // r2 is older than 30 days; held r1 is older still and beyond the count, and stays.
    CHECK(pruned->removed == std::vector<std::string>{"r2-failed-old"});
    CHECK_FALSE(exists(failed_old.dir.path));
    CHECK(exists(held_old.dir.upper()));
    // The promoted run keeps its meta, report and receipt only.
    CHECK(pruned->slimmed == std::vector<std::string>{"r3-promoted"});
    CHECK(exists(promoted.dir.meta_file()));
    CHECK(exists(promoted.dir.report_file()));
    CHECK(exists(promoted.dir.receipt_file()));
    for (const auto& gone :
         {promoted.dir.upper(), promoted.dir.work(), promoted.dir.snapshot_file(),
          promoted.dir.path + "/logs", promoted.dir.caches()})
      CHECK_FALSE(exists(gone));
    CHECK(exists(staged.dir.upper()));
    CHECK(exists(rejected.dir.upper()));

    auto again = s.store.prune({.keep = 1, .max_age = {}});
    REQUIRE(again);
    // Newer than it: r5 only. Held r1 and staged r4 stay whatever their place.
    CHECK(again->removed == std::vector<std::string>{"r3-promoted"});
    CHECK(exists(held_old.dir.path));
    CHECK(exists(staged.dir.path));
    CHECK(exists(rejected.dir.path));
    auto runs = s.store.list_runs();
    REQUIRE(runs);
    CHECK(runs->size() == 3);
  }
  SECTION("a run whose project is locked is left alone") {
    auto lock = s.store.try_lock_project(s.project);
    REQUIRE(lock);
    REQUIRE(*lock);
    auto pruned = s.store.prune({.keep = 0, .max_age = std::chrono::seconds(0)});
    REQUIRE(pruned);
    CHECK(pruned->removed.empty());
    CHECK(pruned->slimmed.empty());
    CHECK(exists(failed_old.dir.path));
  }
  SECTION("a promoted run whose command failed keeps the tool's logs its receipt names") {
    promoted.meta.exit_code = 1;
    REQUIRE(s.store.save_meta(promoted.dir, promoted.meta));
    auto pruned = s.store.prune({});
    REQUIRE(pruned);
    CHECK(exists(promoted.dir.path + "/logs/npm/a.log"));
    CHECK_FALSE(exists(promoted.dir.upper()));
  }
  SECTION("without rules only promoted runs are slimmed") {
    auto pruned = s.store.prune({});
    REQUIRE(pruned);
    CHECK(pruned->removed.empty());
    CHECK(pruned->slimmed == std::vector<std::string>{"r3-promoted"});
    auto twice = s.store.prune({});
    REQUIRE(twice);
    CHECK(twice->slimmed.empty());
  }
}

TEST_CASE("run store: the exit code is kept in meta.json, unknown in older runs") {
  Store s;
  auto run = s.create("r-exit");
  CHECK(run.meta.exit_code == -1);
  run.meta.exit_code = 0;
  REQUIRE(s.store.save_meta(run.dir, run.meta));
  CHECK(s.store.load_run("r-exit")->meta.exit_code == 0);
}

TEST_CASE("run store: the judging a run used is kept in meta.json, absent in older runs") {
  Store s;
  auto run = s.create("r-judging");
  CHECK_FALSE(run.meta.judging);
  CHECK_FALSE(s.store.load_run("r-judging")->meta.judging);
  run.meta.judging = RunJudging{
      {"node_modules/**", "dist/**", "gen/**"}, {".github/**", "secrets/**"}, {"package.json"}};
  REQUIRE(s.store.save_meta(run.dir, run.meta));
  auto loaded = s.store.load_run("r-judging");
  REQUIRE(loaded);
  REQUIRE(loaded->meta.judging);
  CHECK(loaded->meta.judging->expected ==
        std::vector<std::string>{"node_modules/**", "dist/**", "gen/**"});
  CHECK(loaded->meta.judging->protected_paths ==
        std::vector<std::string>{".github/**", "secrets/**"});
  CHECK(loaded->meta.judging->dependency_manifests == std::vector<std::string>{"package.json"});
}

TEST_CASE("run store: a new run's meta.json reads at once and is made durable afterwards") {
  Store s;
  auto run = s.create("r-durable");
  // Written before the sandbox starts, without waiting for the disk: readable at once.
  auto loaded = s.store.load_run("r-durable");
  REQUIRE(loaded);
  CHECK(loaded->meta.run_id == "r-durable");
  CHECK(make_durable(run.dir.meta_file()));
  auto missing = make_durable(run.dir.path + "/no-such-file");
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().message(), Catch::Contains(run.dir.path + "/no-such-file"));
}

TEST_CASE("run store: the moment a run began by the project's filesystem is kept in meta.json") {
  Store s;
  auto run = s.create("r-began");
  REQUIRE(s.store.save_meta(run.dir, run.meta));
  CHECK_FALSE(s.store.load_run("r-began")->meta.began_ns);  // recorded before the command
  run.meta.began_ns = 1'796'660'461'625'256'123;
  REQUIRE(s.store.save_meta(run.dir, run.meta));
  CHECK(s.store.load_run("r-began")->meta.began_ns == 1'796'660'461'625'256'123);
}

TEST_CASE(
    "run store: after a run only the newest is slimmed, unless ids say a run is past the rules") {
  Store s;
  auto now = std::chrono::system_clock::now();
  auto promoted_run = [&](const std::string& id) {
    auto run = s.create(id, now);
    run.meta.verdict = "promoted";
    run.meta.promoted = true;
    REQUIRE(s.store.save_meta(run.dir, run.meta));
    write_file(run.dir.report_file(), "{}");
    write_file(run.dir.snapshot_file(), "snapshot");
    return run;
  };
  // Ids as runs get them: their creation time first, so the newest sorts last.
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", std::gmtime(&t));
  auto older = promoted_run(std::string(stamp) + "-00000001");
  auto newest = promoted_run(std::string(stamp) + "-00000002");

  SECTION("within keep and max_age: the newest run only") {
    auto pruned = s.store.prune_after_run({.keep = 5, .max_age = std::chrono::hours(24)});
    REQUIRE(pruned);
    CHECK(pruned->slimmed == std::vector<std::string>{newest.dir.id});
    CHECK(exists(older.dir.snapshot_file()));
    CHECK_FALSE(exists(newest.dir.snapshot_file()));
  }
  SECTION("past keep: the whole prune") {
    auto pruned = s.store.prune_after_run({.keep = 1, .max_age = {}});
    REQUIRE(pruned);
    CHECK(pruned->removed == std::vector<std::string>{older.dir.id});
    CHECK(pruned->slimmed == std::vector<std::string>{newest.dir.id});
  }
}

TEST_CASE("run store: the lock file names its project and is not rewritten when it already does") {
  Store s;
  std::string file = s.store.lock_file_for(s.project);
  {
    auto lock = s.store.try_lock_project(s.project);
    REQUIRE(lock);
    REQUIRE(*lock);
  }
  CHECK(read_file(file) == s.project + "\n");
  // An mtime in the past: a rewrite (truncate and write) would move it to now.
  struct timespec past[2] = {{1000000000, 0}, {1000000000, 0}};
  REQUIRE(::utimensat(AT_FDCWD, file.c_str(), past, 0) == 0);
  {
    auto lock = s.store.try_lock_project(s.project);
    REQUIRE(lock);
    REQUIRE(*lock);
  }
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK(st.st_mtim.tv_sec == 1000000000);

  // A lock file that says something else (a longer path once hashed the same) is rewritten.
  write_file(file, s.project + "/something/longer\n", 0600);
  {
    auto lock = s.store.try_lock_project(s.project);
    REQUIRE(lock);
    REQUIRE(*lock);
  }
  CHECK(read_file(file) == s.project + "\n");
}

TEST_CASE(
    "run store: after a run past keep, only runs from the boundary second on are read; "
    "what goes is moved to the trash") {
  Store s;
  auto now = std::chrono::system_clock::now();
  auto stamp_of = [](std::chrono::system_clock::time_point t) {
    std::time_t seconds = std::chrono::system_clock::to_time_t(t);
    char text[32];
    std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", std::gmtime(&seconds));
    return std::string(text);
  };
  auto finished_run = [&](std::chrono::system_clock::time_point when, const std::string& suffix) {
    auto run = s.create(stamp_of(when) + "-" + suffix, when);
    run.meta.verdict = "failed";
    REQUIRE(s.store.save_meta(run.dir, run.meta));
    write_file(run.dir.report_file(), "{}");
    return run;
  };
  auto oldest = finished_run(now - std::chrono::hours(3), "00000001");
  auto middle = finished_run(now - std::chrono::hours(2), "00000002");
  auto newest = finished_run(now - std::chrono::hours(1), "00000003");
  // Newer than the boundary: a broken meta.json there would stop a prune that read it from
  // counting it; this one is never read, and counts as one of the runs kept.
  REQUIRE(::unlink(newest.dir.meta_file().c_str()) == 0);

  auto pruned = s.store.prune_after_run({.keep = 2, .max_age = {}});
  REQUIRE(pruned);
  CHECK(pruned->removed == std::vector<std::string>{oldest.dir.id});
  CHECK_FALSE(exists(oldest.dir.path));
  CHECK(exists(middle.dir.path));
  CHECK(exists(newest.dir.path));
  // Moved, not yet deleted: the caller empties the trash in the background.
  auto trash = open_directory(s.store.trash().dir());
  REQUIRE(trash);
  auto in_trash = list_directory(trash->get(), s.store.trash().dir());
  REQUIRE(in_trash);
  // The run's upper and work dirs, then the run dir; besides them, a link to each meta.json
  // a save replaced (save_meta).
  CHECK(std::ranges::count_if(*in_trash, [](const std::string& name) {
          return name.find("-link-") == std::string::npos;
        }) == 3);
  REQUIRE(s.store.trash().empty());
}

TEST_CASE("run store: the meta.json a save replaces waits in the trash, not freed by the save") {
  Store s;
  auto run = s.create("20260101T000000Z-0000000a");
  struct stat first {};
  REQUIRE(::stat(run.dir.meta_file().c_str(), &first) == 0);
  run.meta.verdict = "promoted";
  REQUIRE(s.store.save_meta(run.dir, run.meta, /*durable=*/false));
  auto loaded = s.store.load_run(run.dir.id);
  REQUIRE(loaded);
  CHECK(loaded->meta.verdict == "promoted");
  // The old file is still there, linked from the trash, until the trash is emptied.
  auto trash = open_directory(s.store.trash().dir());
  REQUIRE(trash);
  auto in_trash = list_directory(trash->get(), s.store.trash().dir());
  REQUIRE(in_trash);
  REQUIRE(in_trash->size() == 1);
  struct stat kept {};
  REQUIRE(::stat((s.store.trash().dir() + "/" + in_trash->front()).c_str(), &kept) == 0);
  CHECK(kept.st_ino == first.st_ino);
  CHECK(kept.st_nlink == 1);
  REQUIRE(s.store.trash().empty());
  in_trash = list_directory(trash->get(), s.store.trash().dir());
  REQUIRE(in_trash);
  CHECK(in_trash->empty());
}
