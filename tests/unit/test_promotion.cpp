#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include <array>
#include <catch2/catch.hpp>
#include <chrono>
#include <random>
#include <set>
#include <thread>

#include "runner/fs/path_globs.h"
#include "runner/promotion/background_cleanup.h"
#include "runner/promotion/promotion.h"
#include "runner/staging/project_snapshot.h"
#include "runner/staging/verdict.h"
#include "runner/store/promotion_journal.h"
#include "staging_test_support.h"

using namespace safeinstall::runner;
using namespace safeinstall::staging_test;

namespace {

// A project, a run dir that is its own staging dir, and the tree the project should become.
// `files` maps path → content; a content starting with "->" makes a symlink.
using Tree = std::map<std::string, std::string>;

void write_tree(const std::string& root, const Tree& tree) {
  make_dir(root);
  for (const auto& [path, content] : tree) {
    if (content.starts_with("->")) {
      fs::create_directories(fs::path(root + "/" + path).parent_path());
      fs::create_symlink(content.substr(2), root + "/" + path);
    } else if (path.ends_with("/")) {
      make_dir(root + "/" + path);
    } else {
      write_file(root + "/" + path, content);
    }
  }
}

struct Scenario {
  ScratchDir root;
  std::string project = root / "project";
  RunDir run = RunDir::at(root / "run");
  std::string expected_dir = root / "expected";
  bool usable = true;  // whiteouts and opaque xattrs could be made here

  explicit Scenario(const std::string& prefix) : root(prefix) {
    make_dir(run.path, 0700);
    make_dir(run.upper());
  }

  // The old project, what the run staged (with `whiteouts` and `opaque` dirs), and the new
  // project it should give.
  void build(const Tree& old_project, const Tree& staged, const std::vector<std::string>& whiteouts,
             const std::vector<std::string>& opaque, const Tree& new_project) {
    write_tree(project, old_project);
    write_tree(run.upper(), staged);
    for (const auto& dir : opaque) usable = usable && make_opaque(run.upper() + "/" + dir);
    for (const auto& path : whiteouts) usable = usable && make_whiteout(run.upper() + "/" + path);
    write_tree(expected_dir, new_project);
  }

  ChangeList changes(const GlobSet& expected) const {
    auto list = list_changes(run.upper(), project);
    REQUIRE(list);
    categorize(*list, protected_paths(), expected);
    return std::move(*list);
  }

  safeinstall::Result<PromotionResult> promote_with(const PromotionOptions& options,
                                                    const GlobSet& expected) const {
    auto list = changes(expected);
    return promote(run, project, list, options);
  }

  Manifest project_now() const { return manifest(project); }
  Manifest expected() const { return manifest(expected_dir); }
};

GlobSet npm_and(std::initializer_list<std::string> extra) {
  GlobSet set = expected_writes_for("npm");
  for (const auto& glob : extra) REQUIRE(set.add(glob));
  return set;
}

// The `npm ci` shape: node_modules recreated (opaque), lockfile rewritten, a file deleted, a
// new top-level directory, and a merged directory with an addition, a change and a deletion.
const Tree kOld = {{"package.json", "{}"},
                   {"package-lock.json", "old lock"},
                   {"obsolete.txt", "bye"},
                   {"node_modules/old/index.js", "old"},
                   {"node_modules/.bin/old", "->../old/index.js"},
                   {"src/keep.js", "keep"},
                   {"src/change.js", "before"},
                   {"src/gone.js", "gone"}};
const Tree kStaged = {{"package-lock.json", "new lock"},
                      {"node_modules/new/index.js", "new"},
                      {"node_modules/.bin/new", "->../new/index.js"},
                      {"dist/app.js", "app"},
                      {"src/change.js", "after"},
                      {"src/added.js", "added"}};
const Tree kNew = {{"package.json", "{}"},
                   {"package-lock.json", "new lock"},
                   {"node_modules/new/index.js", "new"},
                   {"node_modules/.bin/new", "->../new/index.js"},
                   {"dist/app.js", "app"},
                   {"src/keep.js", "keep"},
                   {"src/change.js", "after"},
                   {"src/added.js", "added"}};
const std::vector<std::string> kWhiteouts = {"obsolete.txt", "src/gone.js"};
const std::vector<std::string> kOpaque = {"node_modules"};

PromotionOptions allow_all() {
  PromotionOptions options;
  options.allow_unexpected = true;
  options.allow_protected = true;
  return options;
}

bool leftover_scratch(const std::string& project) {
  for (const auto& e : fs::directory_iterator(project)) {
    if (e.path().filename().string().starts_with(".safeinstall-")) return true;
  }
  return false;
}

}  // namespace

TEST_CASE(
    "promotion: npm ci's recreated node_modules is one rename - files rename over - whiteouts "
    "delete") {
  Scenario s("si-promote");
  s.build(kOld, kStaged, kWhiteouts, kOpaque, kNew);
  if (!s.usable) {
    WARN("whiteouts or opaque xattrs refused here; skipped");
    return;
  }
  ino_t staged_node_modules = inode_of(s.run.upper() + "/node_modules");
  ino_t kept = inode_of(s.project + "/src/keep.js");
  auto result = s.promote_with(allow_all(), expected_writes_for("npm"));
  REQUIRE(result);
  CHECK(s.project_now() == s.expected());
  CHECK(result->promoted == std::vector<std::string>{"dist", "node_modules", "obsolete.txt",
                                                     "package-lock.json", "src"});
  CHECK(result->skipped.empty());
  CHECK_FALSE(result->copy_based);
  // Moved, not copied: the staged directory is the project's now.
  CHECK(inode_of(s.project + "/node_modules") == staged_node_modules);
  // The merged src was rebuilt around the very same unchanged file.
  CHECK(inode_of(s.project + "/src/keep.js") == kept);
  // No overlay bookkeeping reaches the project.
  char value[4];
  CHECK(::getxattr((s.project + "/node_modules").c_str(), "user.overlay.opaque", value,
                   sizeof value) < 0);
  // Old trees, scratch and the spent staging are gone; the journal says done.
  CHECK_FALSE(exists(s.run.trash()));
  CHECK_FALSE(exists(s.run.build()));
  CHECK_FALSE(exists(s.run.upper()));
  auto journal = load_journal(s.run.journal_file());
  REQUIRE(journal);
  REQUIRE(*journal);
  CHECK((*journal)->state == JournalState::done);
}

TEST_CASE("promotion: copy-based promotion gives the same project and leaves no scratch") {
  Scenario s("si-promote-copy");
  s.build(kOld, kStaged, kWhiteouts, kOpaque, kNew);
  if (!s.usable) {
    WARN("whiteouts or opaque xattrs refused here; skipped");
    return;
  }
  auto options = allow_all();
  options.force_copy = true;
  auto result = s.promote_with(options, expected_writes_for("npm"));
  REQUIRE(result);
  CHECK(result->copy_based);
  CHECK_FALSE(result->copy_reason.empty());
  CHECK(s.project_now() == s.expected());
  CHECK_FALSE(leftover_scratch(s.project));
}

TEST_CASE("promotion: with --defer-cleanup the old trees wait in trash until remove_trash") {
  Scenario s("si-promote-defer");
  s.build(kOld, kStaged, kWhiteouts, kOpaque, kNew);
  if (!s.usable) {
    WARN("whiteouts or opaque xattrs refused here; skipped");
    return;
  }
  auto options = allow_all();
  options.defer_cleanup = true;
  auto result = s.promote_with(options, expected_writes_for("npm"));
  REQUIRE(result);
  CHECK(result->cleanup_deferred);
  CHECK(s.project_now() == s.expected());
  CHECK(exists(s.run.trash()));
  CHECK(load_journal(s.run.journal_file()).value()->state == JournalState::committed);
  REQUIRE(remove_trash(s.run));
  CHECK_FALSE(exists(s.run.trash()));
  CHECK(load_journal(s.run.journal_file()).value()->state == JournalState::done);
}

TEST_CASE("promotion: unexpected and protected changes wait for --yes and --allow-protected") {
  const Tree old_project = {
      {"README.md", "readme"}, {".git/HEAD", "ref"}, {"node_modules/a/x.js", "a"}};
  const Tree staged = {{"README.md", "defaced"},
                       {".git/hooks/pre-commit", "evil"},
                       {".github/workflows/x.yml", "steal"},
                       {"node_modules/b/x.js", "b"}};
  struct Case {
    const char* name;
    bool yes, allow_protected;
    std::vector<std::string> promoted;
    std::size_t skipped;
  };
  // Skipped changes include the directories: .git/hooks, .github, .github/workflows.
  for (const auto& c : {Case{"default", false, false, {"node_modules"}, 6},
                        Case{"--yes", true, false, {"README.md", "node_modules"}, 5},
                        Case{"--yes --allow-protected",
                             true,
                             true,
                             {".git", ".github", "README.md", "node_modules"},
                             0}}) {
    DYNAMIC_SECTION(c.name) {
      Scenario s("si-promote-policy");
      s.build(old_project, staged, {}, {}, {});
      PromotionOptions options;
      options.allow_unexpected = c.yes;
      options.allow_protected = c.allow_protected;
      auto result = s.promote_with(options, expected_writes_for("npm"));
      REQUIRE(result);
      CHECK(result->promoted == c.promoted);
      CHECK(result->skipped.size() == c.skipped);
      CHECK(read_file(s.project + "/node_modules/b/x.js") == "b");
      CHECK(read_file(s.project + "/node_modules/a/x.js") == "a");
      CHECK(read_file(s.project + "/README.md") == (c.yes ? "defaced" : "readme"));
      CHECK(exists(s.project + "/.git/hooks/pre-commit") == c.allow_protected);
      CHECK(exists(s.project + "/.github") == c.allow_protected);
      CHECK(read_file(s.project + "/.git/HEAD") == "ref");
      if (!c.allow_protected) {
        bool protected_reason =
            std::any_of(result->skipped.begin(), result->skipped.end(), [](const SkippedChange& k) {
              return k.path == ".github/workflows/x.yml" &&
                     k.reason.find("--allow-protected") != std::string::npos;
            });
        CHECK(protected_reason);
      }
    }
  }
}

TEST_CASE(
    "promotion: entries whose names sort between a directory and its contents promote apart") {
  // In path order "lib-x.js" and "lib.d" ('-' and '.' sort before '/') lie between "lib" and
  // "lib/…": each entry is still planned with exactly its own changes.
  Scenario s("si-promote-siblings");
  s.build({{"lib/keep.js", "keep"}, {"lib/old.js", "old"}, {"lib.d/conf", "old conf"}},
          {{"lib/old.js", "new"},
           {"lib/sub/added.js", "added"},
           {"lib-x.js", "x"},
           {"lib.d/conf", "new conf"},
           {"lib.d/more", "more"},
           {"libz/a.js", "z"}},
          {}, {},
          {{"lib/keep.js", "keep"},
           {"lib/old.js", "new"},
           {"lib/sub/added.js", "added"},
           {"lib-x.js", "x"},
           {"lib.d/conf", "new conf"},
           {"lib.d/more", "more"},
           {"libz/a.js", "z"}});
  auto result = s.promote_with(allow_all(), expected_writes_for("npm"));
  REQUIRE(result);
  CHECK(s.project_now() == s.expected());
  CHECK(result->promoted == std::vector<std::string>{"lib", "lib-x.js", "lib.d", "libz"});
  CHECK(result->skipped.empty());
}

TEST_CASE("promotion: a change list out of path order is refused, and nothing is promoted") {
  Scenario s("si-promote-order");
  s.build(kOld, kStaged, kWhiteouts, kOpaque, kNew);
  if (!s.usable) {
    WARN("whiteouts or opaque xattrs refused here; skipped");
    return;
  }
  auto list = s.changes(expected_writes_for("npm"));
  // One of src's changes moved in among node_modules' ones.
  auto src = std::find_if(list.changes.begin(), list.changes.end(),
                          [](const Change& c) { return c.path == "src/added.js"; });
  auto modules = std::find_if(list.changes.begin(), list.changes.end(),
                              [](const Change& c) { return c.path == "node_modules/new"; });
  REQUIRE(src != list.changes.end());
  REQUIRE(modules != list.changes.end());
  std::iter_swap(src, modules);
  auto old_project = s.project_now();
  auto result = promote(s.run, s.project, list, allow_all());
  REQUIRE_FALSE(result);
  CHECK(result.error().message().find("not in path order") != std::string::npos);
  CHECK(s.project_now() == old_project);
}

TEST_CASE(
    "promotion: a merged directory is rebuilt around the very same inodes, deep changes too") {
  Scenario s("si-promote-merged");
  s.build({{"node_modules/a/index.js", "a"},
           {"node_modules/a/lib/deep.js", "deep"},
           {"node_modules/a/lib/keep.js", "keep"},
           {"node_modules/a/.bin/a", "->../index.js"},
           {"node_modules/b/index.js", "b"}},
          {{"node_modules/a/lib/new.js", "new"}, {"node_modules/b/index.js", "b2"}},
          {"node_modules/a/lib/deep.js"}, {},
          {{"node_modules/a/index.js", "a"},
           {"node_modules/a/lib/keep.js", "keep"},
           {"node_modules/a/lib/new.js", "new"},
           {"node_modules/a/.bin/a", "->../index.js"},
           {"node_modules/b/index.js", "b2"}});
  if (!s.usable) {
    WARN("whiteouts refused here; skipped");
    return;
  }
  ino_t keep = inode_of(s.project + "/node_modules/a/lib/keep.js");
  ino_t link = inode_of(s.project + "/node_modules/a/.bin/a");
  ino_t old_dir = inode_of(s.project + "/node_modules");
  auto result = s.promote_with({}, expected_writes_for("npm"));
  REQUIRE(result);
  CHECK(s.project_now() == s.expected());
  CHECK(inode_of(s.project + "/node_modules/a/lib/keep.js") == keep);
  CHECK(inode_of(s.project + "/node_modules/a/.bin/a") == link);
  CHECK(inode_of(s.project + "/node_modules") != old_dir);  // one new directory, swapped in
}

TEST_CASE("promotion: set-id bits are stripped and hard links broken, on both paths") {
  for (bool merged : {false, true}) {
    DYNAMIC_SECTION((merged ? "rebuilt directory" : "swapped directory")) {
      Scenario s("si-promote-setid");
      Tree old_project = {{"package.json", "{}"}};
      if (merged) old_project["node_modules/existing.js"] = "e";
      s.build(old_project, {}, {}, {}, {});
      write_file(s.run.upper() + "/node_modules/x/suid", "s", 04755);
      write_file(s.run.upper() + "/node_modules/x/sgid", "g", 02711);
      write_file(s.run.upper() + "/node_modules/x/one", "linked");
      REQUIRE(::link((s.run.upper() + "/node_modules/x/one").c_str(),
                     (s.run.upper() + "/node_modules/x/two").c_str()) == 0);
      auto result = s.promote_with(allow_all(), expected_writes_for("npm"));
      REQUIRE(result);
      CHECK(result->modes_clamped == 2);
      CHECK(result->hardlinks_copied >= 1);
      struct stat st {};
      REQUIRE(::lstat((s.project + "/node_modules/x/suid").c_str(), &st) == 0);
      CHECK((st.st_mode & 07777) == 0755);
      REQUIRE(::lstat((s.project + "/node_modules/x/sgid").c_str(), &st) == 0);
      CHECK((st.st_mode & 07777) == 0711);
      CHECK(inode_of(s.project + "/node_modules/x/one") !=
            inode_of(s.project + "/node_modules/x/two"));
      REQUIRE(::lstat((s.project + "/node_modules/x/one").c_str(), &st) == 0);
      CHECK(st.st_nlink == 1);
      CHECK(read_file(s.project + "/node_modules/x/two") == "linked");
      if (merged) CHECK(read_file(s.project + "/node_modules/existing.js") == "e");
    }
  }
}

TEST_CASE("promotion: special files and escaping symlinks are never promoted, even if asked") {
  Scenario s("si-promote-special");
  s.build({{"package.json", "{}"}, {"node_modules/x/pipe", "the real file stays"}},
          {{"node_modules/x/ok.js", "ok"},
           {"node_modules/x/good", "->ok.js"},
           {"node_modules/x/evil", "->/etc/passwd"}},
          {}, {}, {});
  REQUIRE(::mkfifo((s.run.upper() + "/node_modules/x/pipe").c_str(), 0644) == 0);
  auto list = s.changes(expected_writes_for("npm"));
  CHECK(decide_verdict(list, {}).kind == VerdictKind::rejected);
  auto result = promote(s.run, s.project, list, allow_all());
  REQUIRE(result);
  CHECK(read_file(s.project + "/node_modules/x/ok.js") == "ok");
  CHECK(fs::read_symlink(s.project + "/node_modules/x/good") == "ok.js");
  CHECK_FALSE(exists(s.project + "/node_modules/x/evil"));
  CHECK(read_file(s.project + "/node_modules/x/pipe") == "the real file stays");
  std::vector<std::string> skipped;
  for (const auto& k : result->skipped) skipped.push_back(k.path + ": " + k.reason);
  std::sort(skipped.begin(), skipped.end());
  CHECK(skipped == std::vector<std::string>{
                       "node_modules/x/evil: symlink pointing outside the project: never promoted",
                       "node_modules/x/pipe: special file: never promoted"});
}

TEST_CASE(
    "promotion: refused, with the paths named, when the project changed since the run began") {
  Scenario s("si-promote-conflict");
  s.build(kOld, kStaged, kWhiteouts, kOpaque, kNew);
  if (!s.usable) {
    WARN("whiteouts or opaque xattrs refused here; skipped");
    return;
  }
  auto snapshot = take_snapshot(s.project);
  REQUIRE(snapshot);
  ::usleep(10'000);
  write_file(s.project + "/package-lock.json", "edited meanwhile");
  write_file(s.project + "/node_modules/old/patch.js", "hand patch");
  auto before = s.project_now();
  auto list = s.changes(expected_writes_for("npm"));
  auto check = find_conflicts(*snapshot, list);
  REQUIRE(check);
  auto options = allow_all();
  options.conflicts = &*check;
  auto result = promote(s.run, s.project, list, options);
  REQUIRE_FALSE(result);
  CHECK(result.error().step.find("package-lock.json (modified)") != std::string::npos);
  CHECK(result.error().step.find("node_modules/old/patch.js (created)") != std::string::npos);
  CHECK(result.error().hint.find("run is kept") != std::string::npos);
  CHECK(s.project_now() == before);
  CHECK(exists(s.run.upper() + "/node_modules"));
  CHECK_FALSE(exists(s.run.journal_file()));
}

TEST_CASE("promotion: a run promoted already is refused") {
  Scenario s("si-promote-twice");
  s.build({{"a", "1"}}, {{"node_modules/x", "x"}}, {}, {}, {});
  auto list = s.changes(expected_writes_for("npm"));
  REQUIRE(promote(s.run, s.project, list, {}));
  auto again = promote(s.run, s.project, list, {});
  REQUIRE_FALSE(again);
  CHECK(again.error().step.find("promoted already") != std::string::npos);
}

TEST_CASE("promotion: a commit interrupted between two renames is finished by recover") {
  Scenario s("si-promote-recover");
  s.build(kOld, kStaged, kWhiteouts, kOpaque, kNew);
  if (!s.usable) {
    WARN("whiteouts or opaque xattrs refused here; skipped");
    return;
  }
  auto old_entries = manifests_by_entry(s.project);
  auto new_entries = manifests_by_entry(s.expected_dir);
  auto list = s.changes(expected_writes_for("npm"));
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    auto options = allow_all();
    int steps = 0;
    options.after_step = [&](const std::string&) {
      if (++steps == 2) ::_exit(0);  // as if killed right after the second rename
    };
    (void)promote(s.run, s.project, list, options);
    ::_exit(1);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);

  auto now = manifests_by_entry(s.project);
  int new_count = 0;
  for (const auto& name : {"dist", "node_modules", "obsolete.txt", "package-lock.json", "src"}) {
    bool is_old = old_entries.contains(name) ? now[name] == old_entries[name] : !now.contains(name);
    bool is_new = new_entries.contains(name) ? now[name] == new_entries[name] : !now.contains(name);
    INFO(name);
    CHECK((is_old || is_new));
    if (is_new && !is_old) ++new_count;
  }
  CHECK(new_count == 2);
  CHECK(has_unfinished_promotion(s.run).value());

  auto recovered = recover(s.run);
  REQUIRE(recovered);
  CHECK(recovered->outcome == RecoveryOutcome::rolled_forward);
  CHECK(recovered->notes.empty());
  CHECK(s.project_now() == s.expected());
  CHECK_FALSE(exists(s.run.trash()));
  auto again = recover(s.run);
  REQUIRE(again);
  CHECK(again->outcome == RecoveryOutcome::nothing_to_do);
}

TEST_CASE("promotion: an interrupted copy-based preparation is rolled back, then promotes") {
  Scenario s("si-promote-rollback");
  s.build({{"a", "1"}}, {{"node_modules/x", "x"}}, {}, {}, {{"a", "1"}, {"node_modules/x", "x"}});
  std::string scratch = s.project + "/.safeinstall-tmp-" + s.run.id + "-0";
  write_file(scratch + "/half/copied", "partial");
  PromotionJournal journal;
  journal.run_id = s.run.id;
  journal.project = s.project;
  journal.state = JournalState::preparing;
  journal.copy_based = true;
  journal.scratch = {scratch};
  REQUIRE(save_journal(s.run.journal_file(), journal, true));
  auto recovered = recover(s.run);
  REQUIRE(recovered);
  CHECK(recovered->outcome == RecoveryOutcome::rolled_back);
  CHECK_FALSE(exists(scratch));
  auto result = s.promote_with({}, expected_writes_for("npm"));
  REQUIRE(result);
  CHECK(s.project_now() == s.expected());
}

TEST_CASE(
    "promotion: a real overlay (userxattr) from a child's own user namespace, listed, judged, "
    "promoted") {
  Scenario s("si-promote-overlay");
  write_tree(s.project, kOld);
  write_file(s.project + "/.git/HEAD", "ref");
  std::string work = s.root / "work";
  std::string merged = s.root / "merged";
  make_dir(work);
  make_dir(merged);
  auto overlay = run_in_overlay(s.project, s.run.upper(), work, merged, [](const std::string& m) {
    fs::remove_all(m + "/node_modules");  // npm ci: rm -rf node_modules, then install afresh
    write_file(m + "/node_modules/new/index.js", "new");
    fs::create_directories(m + "/node_modules/.bin");
    fs::create_symlink("../new/index.js", m + "/node_modules/.bin/new");
    write_file(m + "/package-lock.json", "new lock");
    fs::remove(m + "/obsolete.txt");
    write_file(m + "/dist/app.js", "app");
    write_file(m + "/src/change.js", "after");
    write_file(m + "/src/added.js", "added");
    fs::remove(m + "/src/gone.js");
    write_file(m + "/.git/hooks/pre-commit", "evil", 0755);
  });
  if (!overlay.mounted) {
    WARN("real overlay test skipped: " << overlay.why_not);
    return;
  }
  auto list = list_changes(s.run.upper(), s.project);
  REQUIRE(list);
  const Change* nm = list->find("node_modules");
  REQUIRE(nm != nullptr);
  CHECK(nm->opaque);  // overlayfs made the recreated directory opaque
  REQUIRE(list->find("obsolete.txt") != nullptr);
  CHECK(list->find("obsolete.txt")->change == ChangeKind::deleted);
  CHECK(list->find("src/gone.js")->change == ChangeKind::deleted);
  CHECK(list->find("node_modules/old")->change == ChangeKind::deleted);
  CHECK(list->find("src/change.js")->change == ChangeKind::modified);
  CHECK(list->find(".git/hooks/pre-commit")->change == ChangeKind::added);

  categorize(*list, protected_paths(), npm_and({"dist/**"}));
  CHECK(list->find(".git/hooks/pre-commit")->category == Category::protected_);
  CHECK(list->find("src/change.js")->category == Category::unexpected);
  auto verdict = decide_verdict(*list, {});
  CHECK(verdict.kind == VerdictKind::held);
  CHECK(verdict.touches_protected);

  PromotionOptions yes;  // --yes without --allow-protected
  yes.allow_unexpected = true;
  auto result = promote(s.run, s.project, *list, yes);
  REQUIRE(result);
  write_tree(s.expected_dir, kNew);
  write_file(s.expected_dir + "/.git/HEAD", "ref");
  CHECK(s.project_now() == s.expected());
  CHECK_FALSE(exists(s.project + "/.git/hooks"));
}

// ----------------------------------------------------------------------------------------
// Crash safety: SIGKILL at random moments of a large promotion.
//
// Creating a file costs far more than linking one on some filesystems (about 250 µs against
// 6 µs on the ext4 these tests were written on), so the 5,000-file trees are made once: each
// iteration's project is a hard-link clone of the old tree (the project's files may share
// inodes; promotion never writes to them), and the new node_modules, which ends up in the
// project after each successful iteration, is moved back into the next iteration's upper dir.

namespace {

constexpr int kPackages = 100;
constexpr int kFilesPerPackage = 50;  // 5,000 files in node_modules

Tree large_node_modules(const std::string& generation) {
  Tree tree;
  for (int p = 0; p < kPackages; ++p) {
    for (int f = 0; f < kFilesPerPackage; ++f) {
      tree["node_modules/pkg" + std::to_string(p) + "/f" + std::to_string(f) + ".js"] = generation;
    }
  }
  return tree;
}

// Directories recreated, files hard-linked, symlinks copied.
void clone_with_links(const std::string& from, const std::string& to) {
  fs::create_directory(to);
  fs::permissions(to, fs::status(from).permissions());
  for (const auto& entry : fs::directory_iterator(from)) {
    std::string target = to + "/" + entry.path().filename().string();
    if (entry.is_symlink()) {
      fs::copy_symlink(entry.path(), target);
    } else if (entry.is_directory()) {
      clone_with_links(entry.path().string(), target);
    } else {
      fs::create_hard_link(entry.path(), target);
    }
  }
}

class CrashBench {
 public:
  CrashBench() {
    Tree old_project = large_node_modules("old");
    old_project.insert(kOld.begin(), kOld.end());
    write_tree(root_ / "old", old_project);
    write_tree(root_ / "pool", large_node_modules("new"));
    Tree small_new = kNew;
    std::erase_if(small_new, [](const auto& kv) { return kv.first.starts_with("node_modules/"); });
    write_tree(root_ / "expected-small", small_new);
    old_entries_ = manifests_by_entry(root_ / "old");
    new_entries_ = manifests_by_entry(root_ / "expected-small");
    Tree new_modules_small = kStaged;
    std::erase_if(new_modules_small,
                  [](const auto& kv) { return !kv.first.starts_with("node_modules/"); });
    write_tree(root_ / "pool", new_modules_small);
    new_entries_["node_modules"] = manifest(root_ / "pool/node_modules");
  }

  // A fresh project and run dir for one iteration.
  bool stage(int iteration) {
    dir_ = root_ / ("iteration-" + std::to_string(iteration));
    make_dir(dir_);
    clone_with_links(root_ / "old", project());
    make_dir(run().path, 0700);
    make_dir(run().upper());
    fs::rename(root_ / "pool/node_modules", run().upper() + "/node_modules");
    Tree staged = kStaged;
    std::erase_if(staged, [](const auto& kv) { return kv.first.starts_with("node_modules/"); });
    write_tree(run().upper(), staged);
    bool ok = make_opaque(run().upper() + "/node_modules");
    for (const auto& path : kWhiteouts) ok = ok && make_whiteout(run().upper() + "/" + path);
    return ok;
  }

  // The new node_modules goes back to the pool; the rest of the iteration is removed.
  void recycle() {
    fs::rename(project() + "/node_modules", root_ / "pool/node_modules");
    REQUIRE(remove_tree(dir_));
  }

  std::string project() const { return dir_ + "/project"; }
  RunDir run() const { return RunDir::at(dir_ + "/run"); }
  const std::map<std::string, Manifest>& old_entries() const { return old_entries_; }
  const std::map<std::string, Manifest>& new_entries() const { return new_entries_; }

 private:
  ScratchDir root_{"si-crash"};
  std::string dir_;
  std::map<std::string, Manifest> old_entries_, new_entries_;
};

pid_t start_promotion(const RunDir& run, const std::string& project, bool copy, int step_delay_ms) {
#ifdef SI_PROMOTE_DRIVER_PATH
  std::vector<std::string> args = {
      SI_PROMOTE_DRIVER_PATH,       "--run-dir", run.path, "--project", project, "--step-delay-ms",
      std::to_string(step_delay_ms)};
  if (copy) args.push_back("--copy");
  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
#else
  pid_t pid = ::fork();
  if (pid == 0) {
    auto list = list_changes(run.upper(), project);
    if (!list) ::_exit(1);
    for (auto& c : list->changes) c.category = Category::expected;
    PromotionOptions options;
    options.force_copy = copy;
    options.after_step = [step_delay_ms](const std::string&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(step_delay_ms));
    };
    ::_exit(promote(run, project, *list, options) ? 0 : 1);
  }
  return pid;
#endif
}

void finish_in_process(const RunDir& run, const std::string& project) {
  auto list = list_changes(run.upper(), project);
  REQUIRE(list);
  for (auto& c : list->changes) c.category = Category::expected;
  auto result = promote(run, project, *list, {});
  if (!result) FAIL(result.error().message());
}

// Every top-level entry is exactly its old or its new self; counts how many are which.
std::pair<int, int> check_wholly_old_or_new(const CrashBench& bench, const std::string& context) {
  auto now = manifests_by_entry(bench.project());
  std::set<std::string> names;
  for (const auto& [name, m] : bench.old_entries()) names.insert(name);
  for (const auto& [name, m] : bench.new_entries()) names.insert(name);
  for (const auto& [name, m] : now) {
    if (!name.starts_with(".safeinstall-")) names.insert(name);  // copy-based scratch
  }
  int old_count = 0, new_count = 0;
  for (const auto& name : names) {
    bool present = now.contains(name);
    auto old_it = bench.old_entries().find(name);
    auto new_it = bench.new_entries().find(name);
    bool is_old =
        old_it != bench.old_entries().end() ? present && now[name] == old_it->second : !present;
    bool is_new =
        new_it != bench.new_entries().end() ? present && now[name] == new_it->second : !present;
    INFO(context << ", entry " << name);
    REQUIRE((is_old || is_new));
    if (is_old && !is_new) ++old_count;
    if (is_new && !is_old) ++new_count;
  }
  return {old_count, new_count};
}

}  // namespace

TEST_CASE(
    "promotion: kill -9 at any moment leaves every entry wholly old or wholly new - recovery "
    "finishes") {
#ifndef SI_PROMOTE_DRIVER_PATH
  WARN(
      "si-promote-driver not built into this test (add_subdirectory(tools)); promoting in a forked "
      "child");
#endif
  constexpr int kIterations = 50;
  constexpr int kStepDelayMs = 3;  // widens the commit phase so kills land between renames
  auto started = std::chrono::steady_clock::now();
  CrashBench bench;

  // How long an undisturbed promotion takes, to spread the kills over all of it.
  if (!bench.stage(-1)) {
    WARN("whiteouts or opaque xattrs refused here; skipped");
    return;
  }
  auto t0 = std::chrono::steady_clock::now();
  pid_t calibration = start_promotion(bench.run(), bench.project(), false, kStepDelayMs);
  int status = 0;
  ::waitpid(calibration, &status, 0);
  auto undisturbed =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(check_wholly_old_or_new(bench, "undisturbed").first == 0);
  bench.recycle();

  std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> delay_us(0, static_cast<int>(undisturbed.count() * 1100));
  std::map<std::string, int> outcomes;
  int caught_mixed = 0;
  for (int i = 0; i < kIterations; ++i) {
    REQUIRE(bench.stage(i));
    bool copy = i % 10 == 9;
    std::string context = "iteration " + std::to_string(i) + (copy ? " (copy-based)" : "");
    pid_t pid = start_promotion(bench.run(), bench.project(), copy, kStepDelayMs);
    REQUIRE(pid > 0);
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(random)));
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);

    auto [old_count, new_count] = check_wholly_old_or_new(bench, context + " after the kill");
    if (old_count > 0 && new_count > 0) ++caught_mixed;

    auto recovered = recover(bench.run());
    REQUIRE(recovered);
    CHECK(recovered->notes.empty());
    auto journal = load_journal(bench.run().journal_file());
    REQUIRE(journal);
    if (!*journal || (*journal)->state == JournalState::rolled_back) {
      outcomes[*journal ? "rolled back, promoted again"
                        : "killed before the commit point, promoted again"]++;
      finish_in_process(bench.run(), bench.project());
    } else {
      outcomes[std::string(to_string(recovered->outcome))]++;
    }
    auto [still_old, now_new] = check_wholly_old_or_new(bench, context + " after recovery");
    CHECK(still_old == 0);
    CHECK_FALSE(leftover_scratch(bench.project()));
    CHECK_FALSE(exists(bench.run().trash()));
    bench.recycle();
  }
  auto elapsed = std::chrono::steady_clock::now() - started;
  std::string summary =
      "undisturbed promotion " + std::to_string(undisturbed.count()) + " ms; outcomes:";
  for (const auto& [what, n] : outcomes) summary += " " + what + " x" + std::to_string(n) + ";";
  summary += " caught part-old part-new x" + std::to_string(caught_mixed) + "; total " +
             std::to_string(std::chrono::duration_cast<std::chrono::seconds>(elapsed).count()) +
             " s";
  // How long it took is reported, not asserted: on a loaded machine a time budget fails
  // without anything being wrong (the test runner's own timeout bounds a hang).
  WARN(summary);
}

// `npm ci` over an existing node_modules: node_modules itself stays, each package directory
// is removed and made anew (opaque), most files with the very same content.
TEST_CASE("promotion: packages recreated inside a kept node_modules replace their real ones") {
  Scenario s("si-promote-reinstall");
  s.build({{"package.json", "{}"},
           {"node_modules/.package-lock.json", "old"},
           {"node_modules/a/index.js", "a1"},
           {"node_modules/a/old.js", "gone with the old version"},
           {"node_modules/b/index.js", "b1"},
           {"node_modules/b/keep.js", "deleted too"},
           {"node_modules/b/evil", "the real file stays"},
           {"node_modules/c/index.js", "untouched"}},
          {{"node_modules/.package-lock.json", "new"},
           {"node_modules/a/index.js", "a2"},
           {"node_modules/a/lib/", ""},
           {"node_modules/a/lib/x.js", "x"},
           {"node_modules/b/index.js", "b2"},
           {"node_modules/b/evil", "->/etc/passwd"}},
          {}, {"node_modules/a", "node_modules/b"},
          {{"package.json", "{}"},
           {"node_modules/.package-lock.json", "new"},
           {"node_modules/a/index.js", "a2"},
           {"node_modules/a/lib/x.js", "x"},
           {"node_modules/b/index.js", "b2"},
           {"node_modules/b/evil", "the real file stays"},
           {"node_modules/c/index.js", "untouched"}});
  if (!s.usable) {
    WARN("whiteouts or opaque xattrs refused here; skipped");
    return;
  }
  ino_t staged_a = inode_of(s.run.upper() + "/node_modules/a/index.js");
  ino_t untouched = inode_of(s.project + "/node_modules/c/index.js");
  auto result = s.promote_with(allow_all(), expected_writes_for("npm"));
  REQUIRE(result);
  CHECK(s.project_now() == s.expected());
  CHECK(inode_of(s.project + "/node_modules/a/index.js") == staged_a);
  CHECK(inode_of(s.project + "/node_modules/c/index.js") == untouched);
  REQUIRE(result->skipped.size() == 1);
  CHECK(result->skipped[0].path == "node_modules/b/evil");
}

TEST_CASE("promotion: a deferred cleanup is finished by a detached process that holds the lock") {
  Scenario s("si-promote-background");
  s.build(kOld, kStaged, kWhiteouts, kOpaque, kNew);
  if (!s.usable) {
    WARN("whiteouts or opaque xattrs refused here; skipped");
    return;
  }
  auto options = allow_all();
  options.defer_cleanup = true;
  auto result = s.promote_with(options, expected_writes_for("npm"));
  REQUIRE(result);
  REQUIRE(result->cleanup_deferred);
  {
    // While someone cleans, nobody else may: recovery at start-up skips the run.
    auto held = lock_run_dir(s.run);
    REQUIRE(held);
    REQUIRE(*held);
    auto second = lock_run_dir(s.run);
    REQUIRE(second);
    CHECK_FALSE(*second);
  }
  REQUIRE(finish_cleanup_in_background(
      s.run, [] { return safeinstall::Result<ProjectLock>(ProjectLock()); }));
  auto done = [&] {
    auto journal = load_journal(s.run.journal_file());
    return journal && *journal && (*journal)->state == JournalState::done;
  };
  for (int i = 0; i < 300 && !done(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(done());
  CHECK_FALSE(exists(s.run.trash()));
  CHECK_FALSE(exists(s.run.upper()));
  CHECK(s.project_now() == s.expected());
}

TEST_CASE("promotion: names the old trees share with the project go only under its lock") {
  Scenario s("si-promote-shared-links");
  write_tree(s.project, {{"node_modules/kept/index.js", "kept"}});
  write_tree(s.run.trash(), {{"0/kept/own.js", "own"}});
  std::string kept = s.project + "/node_modules/kept/index.js";
  REQUIRE(::link(kept.c_str(), (s.run.trash() + "/0/kept/index.js").c_str()) == 0);
  // A staged file placed into the project by a link keeps its name in the upper dir too.
  write_tree(s.project, {{"node_modules/new/index.js", "new"}});
  write_tree(s.run.upper(), {{"node_modules/new/README", "own"}});
  std::string placed = s.project + "/node_modules/new/index.js";
  REQUIRE(::link(placed.c_str(), (s.run.upper() + "/node_modules/new/index.js").c_str()) == 0);
  auto links = [&] {
    struct stat st {};
    REQUIRE(::stat(kept.c_str(), &st) == 0);
    return st.st_nlink;
  };

  SECTION("without the lock nothing is removed") {
    auto refused = remove_shared_links(s.run, [] {
      return safeinstall::Result<ProjectLock>(std::unexpected(safeinstall::Error{"busy"}));
    });
    CHECK_FALSE(refused);
    CHECK(links() == 2);
  }
  SECTION("under the lock the shared name goes; the rest is left for the removal") {
    int locked = 0;
    auto removed = remove_shared_links(s.run, [&] {
      if (++locked == 1) CHECK(links() == 2);  // nothing removed before the lock is held
      return safeinstall::Result<ProjectLock>(ProjectLock());
    });
    REQUIRE(removed);
    CHECK(*removed == 2);
    CHECK(locked == 2);  // one batch per tree
    CHECK(links() == 1);
    struct stat st {};
    REQUIRE(::stat(placed.c_str(), &st) == 0);
    CHECK(st.st_nlink == 1);
    CHECK(exists(s.run.trash() + "/0/kept/own.js"));
    CHECK(exists(s.run.upper() + "/node_modules/new/README"));
  }
}

// `npm install dayjs` in a project with a large node_modules: before, staged and after.
struct LargeKeptTrees {
  Tree old_project, staged, new_project;
};

LargeKeptTrees npm_install_in_large_tree() {
  Tree old_project = {{"package.json", "{}"},
                      {"node_modules/.package-lock.json", "old"},
                      {"node_modules/old-pkg/index.js", "old"},
                      {"node_modules/.bin/old", "->../old-pkg/index.js"}};
  for (int p = 0; p < 30; ++p) {
    for (int f = 0; f < 70; ++f) {
      old_project["node_modules/pkg" + std::to_string(p) + "/f" + std::to_string(f) + ".js"] = "x";
    }
  }
  Tree staged = {{"package.json", "{\"dependencies\":{}}"},
                 {"node_modules/.package-lock.json", "new"},
                 {"node_modules/dayjs/index.js", "dayjs"},
                 {"node_modules/.bin/dayjs", "->../dayjs/index.js"}};
  Tree new_project = old_project;
  new_project.erase("node_modules/old-pkg/index.js");
  new_project["package.json"] = "{\"dependencies\":{}}";
  new_project["node_modules/.package-lock.json"] = "new";
  new_project["node_modules/dayjs/index.js"] = "dayjs";
  new_project["node_modules/.bin/dayjs"] = "->../dayjs/index.js";
  return {old_project, staged, new_project};
}

// `npm install PKG` in a project with a large node_modules: the few entries it touched are
// promoted one by one, and the directory itself, with every unchanged entry, stays. It gets
// back the times the command left it at: npm keeps using node_modules/.package-lock.json only
// while no directory in node_modules is newer, and each rename into it moves its mtime.
TEST_CASE(
    "promotion: a few changes in a large kept directory are promoted entry by entry, and it "
    "keeps its staged times") {
  auto [old_project, staged, new_project] = npm_install_in_large_tree();
  for (bool with_snapshot : {true, false}) {
    Scenario s(with_snapshot ? "si-promote-descend" : "si-promote-rebuild");
    s.build(old_project, staged, {"node_modules/old-pkg"}, {}, new_project);
    if (!s.usable) {
      WARN("whiteouts or opaque xattrs refused here; skipped");
      return;
    }
    auto snapshot = take_snapshot(s.project);
    REQUIRE(snapshot);
    ino_t node_modules = inode_of(s.project + "/node_modules");
    ino_t unchanged = inode_of(s.project + "/node_modules/pkg7/f3.js");
    // As the command left it: long before the promotion.
    std::array<struct timespec, 2> staged_times{{{1'000'000'000, 0}, {1'000'000'123, 456}}};
    std::string staged_dir = s.run.upper() + "/node_modules";
    REQUIRE(::utimensat(AT_FDCWD, staged_dir.c_str(), staged_times.data(), 0) == 0);
    auto options = allow_all();
    if (with_snapshot) options.snapshot = &*snapshot;
    auto result = s.promote_with(options, expected_writes_for("npm"));
    REQUIRE(result);
    CHECK(s.project_now() == s.expected());
    CHECK(inode_of(s.project + "/node_modules/pkg7/f3.js") == unchanged);
    if (with_snapshot) {
      CHECK(inode_of(s.project + "/node_modules") == node_modules);
      struct stat st {};
      REQUIRE(::stat((s.project + "/node_modules").c_str(), &st) == 0);
      CHECK(st.st_mtim.tv_sec == 1'000'000'123);
      CHECK(st.st_mtim.tv_nsec == 456);
      CHECK(result->promoted ==
            std::vector<std::string>{"node_modules/.bin", "node_modules/.package-lock.json",
                                     "node_modules/dayjs", "node_modules/old-pkg", "package.json"});
    } else {
      CHECK(inode_of(s.project + "/node_modules") != node_modules);
      CHECK(result->promoted == std::vector<std::string>{"node_modules", "package.json"});
    }
    CHECK_FALSE(exists(s.run.trash()));
  }
}
