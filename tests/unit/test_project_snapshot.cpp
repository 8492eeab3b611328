#include <catch2/catch.hpp>

#include "change_test_support.h"
#include "runner/staging/project_snapshot.h"
#include "staging_test_support.h"

using namespace safeinstall::runner;
using safeinstall::change_test::test_path;
using namespace safeinstall::staging_test;

namespace {

struct Project {
  ScratchDir root{"si-snapshot"};
  std::string path = root / "project";
  Project() {
    write_file(path + "/package.json", "{}");
    write_file(path + "/src/index.js", "index");
    write_file(path + "/node_modules/a/index.js", "a");
    write_file(path + "/node_modules/a/lib/deep.js", "deep");
    write_file(path + "/node_modules/b/index.js", "b");
    fs::create_symlink("a/index.js", path + "/node_modules/link");
  }
  ProjectSnapshot snapshot(SnapshotLimits limits = {}) const {
    auto s = take_snapshot(path, limits);
    REQUIRE(s);
    return std::move(*s);
  }
};

Change change(std::string path, ChangeKind kind, EntryType type,
              std::optional<EntryType> real = std::nullopt, bool opaque = false) {
  Change c;
  c.path = test_path(path);
  c.change = kind;
  c.type = type;
  c.real_type = real;
  c.opaque = opaque;
  return c;
}

ChangeList list_of(std::vector<Change> changes) {
  ChangeList list;
  list.changes = std::move(changes);
  return list;
}

std::vector<std::string> conflict_paths(const ConflictCheck& check) {
  std::vector<std::string> paths;
  for (const auto& c : check.conflicts) paths.push_back(c.path + ": " + c.what);
  return paths;
}

// The moment a run begins, by the project's filesystem: a directory made beside it now.
std::int64_t began_now(const Project& p) {
  static int made = 0;
  std::string fresh = p.root / ("began-" + std::to_string(++made));
  fs::create_directory(fresh);
  auto began = began_by_filesystem(p.path, fresh);
  REQUIRE(began);
  return *began;
}

// Any change to a file's content moves its mtime/ctime; make sure the clock has ticked.
void touch_later(const std::string& path, const std::string& content) {
  ::usleep(10'000);
  write_file(path, content);
}

}  // namespace

TEST_CASE("snapshot: records every entry with metadata, and knows what was absent") {
  Project p;
  auto s = p.snapshot();
  CHECK(s.project() == p.path);
  CHECK_FALSE(s.truncated());
  CHECK(s.size() == 12);  // root, package.json, src, src/index.js, node_modules and 7 below
  const auto* file = s.find("node_modules/a/index.js");
  REQUIRE(file != nullptr);
  CHECK(file->type == EntryType::file);
  CHECK(file->size == 1);
  CHECK(file->ino == inode_of(p.path + "/node_modules/a/index.js"));
  CHECK(s.find("node_modules/link")->symlink_target == "a/index.js");
  CHECK(s.find("node_modules")->listed);
  CHECK(s.below("node_modules").size() == 7);
  CHECK(s.below("node_modules/a").size() == 3);
  CHECK(s.known_absent("node_modules/c"));
  CHECK_FALSE(s.known_absent("node_modules/a"));
  CHECK_FALSE(s.known_absent("nowhere/x"));  // parent not recorded at all
}

TEST_CASE("snapshot: no conflicts when the project was left alone") {
  Project p;
  auto s = p.snapshot();
  auto check = find_conflicts(
      s, list_of(
             {change("src/index.js", ChangeKind::modified, EntryType::file, EntryType::file),
              change("src/new.js", ChangeKind::added, EntryType::file),
              change("node_modules", ChangeKind::modified, EntryType::dir, EntryType::dir, true)}));
  REQUIRE(check);
  CHECK(check->clean());
  CHECK(check->message().empty());
}

TEST_CASE("snapshot: a staged path the user modified, created or deleted meanwhile is a conflict") {
  Project p;
  auto s = p.snapshot();
  touch_later(p.path + "/src/index.js", "edited by the user");
  write_file(p.path + "/src/new.js", "the user's own new file");
  fs::remove(p.path + "/package.json");
  auto check = find_conflicts(
      s, list_of({change("src/index.js", ChangeKind::modified, EntryType::file, EntryType::file),
                  change("src/new.js", ChangeKind::added, EntryType::file),
                  change("package.json", ChangeKind::modified, EntryType::file, EntryType::file)}));
  REQUIRE(check);
  CHECK(conflict_paths(*check) == std::vector<std::string>{"src/index.js: modified",
                                                           "src/new.js: created",
                                                           "package.json: deleted"});
  CHECK(check->message() ==
        "the project changed since the run began: src/index.js (modified), src/new.js (created), "
        "package.json (deleted)");
}

TEST_CASE("snapshot: a file whose other links were removed meanwhile is unchanged") {
  Project p;
  std::string old_tree = p.root / "old-index.js";
  REQUIRE(::link((p.path + "/src/index.js").c_str(), old_tree.c_str()) == 0);
  auto s = p.snapshot();
  ::usleep(10'000);
  REQUIRE(::unlink(old_tree.c_str()) == 0);  // the old tree's clean-up: the ctime moves
  auto staged =
      list_of({change("src/index.js", ChangeKind::modified, EntryType::file, EntryType::file)});
  auto check = find_conflicts(s, staged);
  REQUIRE(check);
  CHECK(check->clean());
  // A link added, or the content written, is still a change.
  REQUIRE(::link((p.path + "/src/index.js").c_str(), old_tree.c_str()) == 0);
  auto relinked = find_conflicts(s, staged);
  REQUIRE(relinked);
  CHECK_FALSE(relinked->clean());
}

TEST_CASE("snapshot: a directory the run created is checked once, not file by file") {
  Project p;
  auto s = p.snapshot();
  auto staged = list_of({change("dist", ChangeKind::added, EntryType::dir),
                         change("dist/a.js", ChangeKind::added, EntryType::file),
                         change("dist/sub", ChangeKind::added, EntryType::dir),
                         change("dist/sub/b.js", ChangeKind::added, EntryType::file)});
  // Nothing there in the real project: nothing to report, nothing unverified below it.
  auto clean = find_conflicts(s, staged);
  REQUIRE(clean);
  CHECK(clean->clean());
  CHECK(clean->unverified.empty());
  // The user made the same directory meanwhile: one conflict, at the directory.
  write_file(p.path + "/dist/a.js", "the user's build");
  auto check = find_conflicts(s, staged);
  REQUIRE(check);
  CHECK(conflict_paths(*check) == std::vector<std::string>{"dist: created"});
}

TEST_CASE(
    "snapshot: a created directory still covers its files after siblings that sort between them") {
  Project p;
  auto s = p.snapshot();
  // In path order "dist-x.js" and "dist.map" ('-' and '.' sort before '/') come between
  // "dist" and "dist/a.js": the directory checked once must still cover what follows.
  auto staged = list_of({change("dist", ChangeKind::added, EntryType::dir),
                         change("dist-x.js", ChangeKind::added, EntryType::file),
                         change("dist.map", ChangeKind::added, EntryType::dir),
                         change("dist.map/a.map", ChangeKind::added, EntryType::file),
                         change("dist/a.js", ChangeKind::added, EntryType::file),
                         change("dist/sub/b.js", ChangeKind::added, EntryType::file),
                         change("src/new.js", ChangeKind::added, EntryType::file)});
  auto clean = find_conflicts(s, staged);
  REQUIRE(clean);
  CHECK(clean->clean());
  CHECK(clean->unverified.empty());
  // Something the user made in either created directory meanwhile is one conflict there.
  write_file(p.path + "/dist/a.js", "the user's build");
  write_file(p.path + "/dist.map/a.map", "the user's map");
  auto check = find_conflicts(s, staged);
  REQUIRE(check);
  CHECK(conflict_paths(*check) == std::vector<std::string>{"dist: created", "dist.map: created"});
}

TEST_CASE("snapshot: a parent replaced meanwhile is found after a sibling that sorts before it") {
  Project p;
  auto s = p.snapshot();
  fs::rename(p.path + "/node_modules/a", p.path + "/a-moved");
  fs::create_symlink("../a-moved", p.path + "/node_modules/a");
  // In path order: "node_modules/a.js" checks node_modules only; node_modules/a is first on
  // the way of the change after it.
  auto check =
      find_conflicts(s, list_of({change("node_modules/a.js", ChangeKind::added, EntryType::file),
                                 change("node_modules/a/index.js", ChangeKind::modified,
                                        EntryType::file, EntryType::file),
                                 change("node_modules/a/lib/deep.js", ChangeKind::modified,
                                        EntryType::file, EntryType::file)}));
  REQUIRE(check);
  auto paths = conflict_paths(*check);
  CHECK(std::count(paths.begin(), paths.end(), "node_modules/a: replaced by a different entry") ==
        1);
}

TEST_CASE("snapshot: a replaced directory's whole real subtree must be untouched") {
  Project p;
  auto s = p.snapshot();
  touch_later(p.path + "/node_modules/a/lib/deep.js", "patched by hand");
  write_file(p.path + "/node_modules/b/extra.js", "x");
  fs::remove(p.path + "/node_modules/link");
  auto check = find_conflicts(
      s,
      list_of({change("node_modules", ChangeKind::modified, EntryType::dir, EntryType::dir, true),
               change("node_modules/a", ChangeKind::deleted, EntryType::dir, EntryType::dir)}));
  REQUIRE(check);
  auto paths = conflict_paths(*check);
  std::sort(paths.begin(), paths.end());
  CHECK(paths == std::vector<std::string>{"node_modules/a/lib/deep.js: modified",
                                          "node_modules/b/extra.js: created",
                                          "node_modules/link: deleted"});
}

TEST_CASE("snapshot: changes in a merged directory only look at their own paths") {
  Project p;
  auto s = p.snapshot();
  touch_later(p.path + "/node_modules/b/index.js", "unrelated edit");
  auto check = find_conflicts(
      s, list_of({change("node_modules/a/new.js", ChangeKind::added, EntryType::file)}));
  REQUIRE(check);
  CHECK(check->clean());
}

TEST_CASE("snapshot: a parent directory replaced by a symlink is a conflict") {
  Project p;
  auto s = p.snapshot();
  fs::rename(p.path + "/src", p.path + "/src-moved");
  fs::create_symlink("src-moved", p.path + "/src");
  auto check = find_conflicts(
      s, list_of({change("src/index.js", ChangeKind::modified, EntryType::file, EntryType::file)}));
  REQUIRE(check);
  auto paths = conflict_paths(*check);
  CHECK(std::find(paths.begin(), paths.end(), "src: replaced by a different entry") != paths.end());
}

TEST_CASE("snapshot: beyond the bound, paths are unverified, not guessed") {
  Project p;
  SnapshotLimits limits;
  limits.max_entries = 4;
  auto s = p.snapshot(limits);
  CHECK(s.truncated());
  CHECK(s.find("node_modules/a/index.js") == nullptr);
  auto check = find_conflicts(s, list_of({change("node_modules/a/index.js", ChangeKind::modified,
                                                 EntryType::file, EntryType::file)}));
  REQUIRE(check);
  CHECK(check->clean());
  CHECK(check->unverified == std::vector<std::string>{"node_modules/a/index.js"});
}

TEST_CASE("snapshot: saved and loaded intact - a damaged file is refused") {
  Project p;
  auto s = p.snapshot();
  std::string file = p.root / "snapshot.bin";
  REQUIRE(save_snapshot(s, file));
  auto loaded = load_snapshot(file);
  REQUIRE(loaded);
  CHECK(loaded->project() == s.project());
  REQUIRE(loaded->size() == s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto& a = s.entries()[i];
    const auto& b = loaded->entries()[i];
    CHECK(a.path == b.path);
    CHECK(a.same_state(b));
    CHECK(a.listed == b.listed);
  }
  write_file(file, read_file(file).substr(0, 40));
  auto damaged = load_snapshot(file);
  REQUIRE_FALSE(damaged);
  CHECK(damaged.error().step.find("damaged") != std::string::npos);
}

TEST_CASE("snapshot taken beside the command: what changed after the run began is a conflict") {
  Project p;
  // Every entry of the project is older than the moment the run began...
  ::usleep(20'000);
  std::int64_t began = began_now(p);
  // ...and then, before the walk gets there, the user edits a file, removes one at the top
  // and a whole package below node_modules.
  touch_later(p.path + "/src/index.js", "edited as the run began");
  fs::remove(p.path + "/package.json");
  fs::remove_all(p.path + "/node_modules/b");
  auto taken = take_snapshot(p.path, {}, began);
  REQUIRE(taken);
  const ProjectSnapshot& s = *taken;
  CHECK(s.find("src/index.js")->changed_at_start);
  CHECK(s.find("")->changed_at_start);  // a name removed from it
  CHECK(s.find("node_modules")->changed_at_start);
  CHECK_FALSE(s.find("node_modules/a/index.js")->changed_at_start);
  CHECK_FALSE(s.find("src/index.js")->same_state(*s.find("src/index.js")));
  // Absent from the walk but removed after the run began: not known absent.
  CHECK_FALSE(s.known_absent("package.json"));
  CHECK(s.changed_at_start("node_modules/b/index.js"));
  CHECK_FALSE(s.changed_at_start("node_modules/a/index.js"));

  auto check = find_conflicts(
      s, list_of({change("src/index.js", ChangeKind::modified, EntryType::file, EntryType::file),
                  change("package.json", ChangeKind::modified, EntryType::file, EntryType::file),
                  change("node_modules/b/index.js", ChangeKind::modified, EntryType::file,
                         EntryType::file),
                  change("node_modules/a/index.js", ChangeKind::modified, EntryType::file,
                         EntryType::file)}));
  REQUIRE(check);
  CHECK(conflict_paths(*check) ==
        std::vector<std::string>{"src/index.js: changed as the run began",
                                 "package.json: changed as the run began",
                                 "node_modules: changed as the run began",
                                 "node_modules/b/index.js: changed as the run began"});
  CHECK(check->unverified.empty());

  // A replaced directory with a marked entry below it is a conflict too.
  auto replaced = find_conflicts(
      s, list_of({change("src", ChangeKind::modified, EntryType::dir, EntryType::dir, true)}));
  REQUIRE(replaced);
  CHECK(conflict_paths(*replaced) ==
        std::vector<std::string>{"src/index.js: changed as the run began"});
}

// `npm install c` after `npm uninstall b`: package.json modified, node_modules/c added, the
// whole of node_modules/b deleted.
ChangeList install_c_remove_b() {
  return list_of({change("node_modules/b", ChangeKind::deleted, EntryType::dir, EntryType::dir),
                  change("node_modules/c", ChangeKind::added, EntryType::dir),
                  change("node_modules/c/index.js", ChangeKind::added, EntryType::file),
                  change("package.json", ChangeKind::modified, EntryType::file, EntryType::file)});
}

TEST_CASE(
    "snapshot of the touched paths: reads only them, and what changed there since the run "
    "began is a conflict") {
  Project p;
  ::usleep(20'000);
  std::int64_t began = began_now(p);
  ChangeList changes = install_c_remove_b();
  std::vector<std::string> expected;

  SECTION("a change elsewhere in the project is none of the run's business") {
    touch_later(p.path + "/src/index.js", "edited while the run went on");
    write_file(p.path + "/src/new.js", "created while the run went on");
    fs::remove(p.path + "/node_modules/a/lib/deep.js");
  }
  SECTION("a touched file modified") {
    touch_later(p.path + "/package.json", "{\"edited\": true}");
    expected = {"package.json: changed as the run began"};
  }
  SECTION("a path the run creates, created meanwhile") {
    write_file(p.path + "/node_modules/c/index.js", "the user's own");
    expected = {"node_modules: changed as the run began",
                "node_modules/c: changed as the run began",
                "node_modules/c/index.js: changed as the run began"};
  }
  SECTION("a file created inside a directory the run deletes") {
    std::string b = p.path + "/node_modules/b";
    write_file(b + "/extra.js", "the user's own");
    expected = {"node_modules/b: changed as the run began",
                "node_modules/b/extra.js: changed as the run began"};
  }
  SECTION("a file inside a directory the run deletes, modified meanwhile") {
    touch_later(p.path + "/node_modules/b/index.js", "edited");
    expected = {"node_modules/b/index.js: changed as the run began"};
  }
  auto s = snapshot_touched(p.path, changes, began);
  REQUIRE(s);
  // The touched paths and the directories on the way: nothing of src or node_modules/a.
  CHECK(s->size() <= 7);
  CHECK(s->find("src/index.js") == nullptr);
  CHECK(s->find("node_modules/a") == nullptr);
  auto check = find_conflicts(*s, changes);
  REQUIRE(check);
  CHECK(conflict_paths(*check) == expected);
  CHECK(check->unverified.empty());

  // Saved for a later `safeinstall promote`, it says the same.
  std::string file = p.root / "touched.bin";
  REQUIRE(save_snapshot(*s, file));
  auto loaded = load_snapshot(file);
  REQUIRE(loaded);
  auto again = find_conflicts(*loaded, changes);
  REQUIRE(again);
  CHECK(conflict_paths(*again) == expected);
}

TEST_CASE("snapshot of the touched paths: a change after it was taken is still caught") {
  Project p;
  ::usleep(20'000);
  std::int64_t began = began_now(p);
  ChangeList changes = install_c_remove_b();
  auto s = snapshot_touched(p.path, changes, began);
  REQUIRE(s);
  for (const auto& e : s->entries()) CHECK_FALSE(e.changed_at_start);
  std::vector<std::string> expected;
  SECTION("package.json deleted") {
    fs::remove(p.path + "/package.json");
    expected = {"package.json: deleted"};
  }
  SECTION("node_modules/c created") {
    write_file(p.path + "/node_modules/c/index.js", "the user's own");
    expected = {"node_modules/c: created"};
  }
  SECTION("node_modules/b emptied") {
    fs::remove(p.path + "/node_modules/b/index.js");
    expected = {"node_modules/b/index.js: deleted"};
  }
  auto check = find_conflicts(*s, changes);
  REQUIRE(check);
  CHECK(conflict_paths(*check) == expected);
}

TEST_CASE("snapshot: the run's start is read off the project's own filesystem, or not at all") {
  Project p;
  std::int64_t began = began_now(p);
  struct stat st {};
  REQUIRE(::stat((p.path + "/package.json").c_str(), &st) == 0);
  CHECK(began >= st.st_ctim.tv_sec * 1'000'000'000LL + st.st_ctim.tv_nsec);
  // Another filesystem's clock says nothing about the project's ctimes.
  CHECK_FALSE(began_by_filesystem(p.path, "/proc/self"));
}

TEST_CASE("snapshot taken beside the command: a project left alone has nothing marked") {
  Project p;
  ::usleep(20'000);
  auto s = take_snapshot(p.path, {}, began_now(p));
  REQUIRE(s);
  for (const auto& e : s->entries()) CHECK_FALSE(e.changed_at_start);
  auto check = find_conflicts(
      *s, list_of({change("src/index.js", ChangeKind::modified, EntryType::file, EntryType::file),
                   change("node_modules/c", ChangeKind::added, EntryType::dir)}));
  REQUIRE(check);
  CHECK(check->clean());
}

TEST_CASE("snapshot taken beside the command: a write just before the run began is not marked") {
  // Written in the same clock tick as the run's staging dir (a report, a lockfile the previous
  // step left): before the run began, so neither it nor the project directory is marked, and
  // a new top-level directory the run makes is no conflict.
  for (int round = 0; round < 20; ++round) {
    Project p;
    write_file(p.path + "/safeinstall-report.json", "{}");
    auto s = take_snapshot(p.path, {}, began_now(p));
    REQUIRE(s);
    INFO("round " << round);
    CHECK_FALSE(s->find("")->changed_at_start);
    CHECK_FALSE(s->find("safeinstall-report.json")->changed_at_start);
    auto check = find_conflicts(*s, list_of({change("dist", ChangeKind::added, EntryType::dir)}));
    REQUIRE(check);
    CHECK(check->clean());
  }
}

TEST_CASE("snapshot: marks survive the run dir's file, and a file of the first version loads") {
  Project p;
  ::usleep(20'000);
  std::int64_t began = began_now(p);
  touch_later(p.path + "/src/index.js", "edited as the run began");
  auto s = take_snapshot(p.path, {}, began);
  REQUIRE(s);
  std::string file = p.root / "snapshot.bin";
  REQUIRE(save_snapshot(*s, file));
  auto loaded = load_snapshot(file);
  REQUIRE(loaded);
  CHECK(loaded->find("src/index.js")->changed_at_start);
  CHECK_FALSE(loaded->find("src")->changed_at_start);

  // Version 1: the same layout without the mark; one entry, the project directory.
  std::string v1 = "SISNAP1\n";
  auto put = [&](auto value) { v1.append(reinterpret_cast<const char*>(&value), sizeof value); };
  auto put_text = [&](const std::string& text) {
    put(static_cast<std::uint32_t>(text.size()));
    v1 += text;
  };
  put_text(p.path);
  put(std::uint8_t{0});   // truncated
  put(std::uint64_t{1});  // entries
  put_text("");           // path
  put(static_cast<std::uint8_t>(EntryType::dir));
  put(std::uint32_t{040755});
  for (int i = 0; i < 3; ++i) put(std::uint64_t{7});  // dev, ino, size
  for (int i = 0; i < 2; ++i) put(std::int64_t{9});   // mtime, ctime
  put_text("");                                       // symlink target
  put(std::uint8_t{1});                               // listed
  write_file(file, v1);
  auto old = load_snapshot(file);
  REQUIRE(old);
  REQUIRE(old->size() == 1);
  CHECK(old->find("")->ino == 7);
  CHECK(old->find("")->listed);
  CHECK_FALSE(old->find("")->changed_at_start);
}

TEST_CASE("snapshot: 20k entries in well under a second") {
  ScratchDir root("si-snapshot-big");
  for (int d = 0; d < 200; ++d) {
    for (int f = 0; f < 100; ++f)
      write_file(root / ("p/node_modules/pkg" + std::to_string(d) + "/f" + std::to_string(f)), "x");
  }
  auto start = std::chrono::steady_clock::now();
  auto s = take_snapshot(root / "p");
  auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE(s);
  CHECK(s->size() == 1 + 1 + 200 + 20'000);
  CHECK(elapsed < std::chrono::seconds(1));
}
