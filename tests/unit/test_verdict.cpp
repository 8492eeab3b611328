#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "change_test_support.h"
#include "runner/fs/path_globs.h"
#include "runner/staging/verdict.h"

using namespace safeinstall::runner;
using safeinstall::change_test::test_path;

namespace {

Change added(std::string path, mode_t mode = S_IFREG | 0644) {
  Change c;
  c.path = test_path(path);
  c.change = ChangeKind::added;
  c.type = entry_type_of(mode);
  c.mode = static_cast<std::uint16_t>(mode);
  return c;
}

Change deleted_dir(std::string path) {
  Change c;
  c.path = test_path(path);
  c.change = ChangeKind::deleted;
  c.type = EntryType::dir;
  c.real_type = EntryType::dir;
  return c;
}

Change symlink(std::string path, std::string target, std::optional<std::string> resolves) {
  Change c = added(std::move(path), S_IFLNK | 0777);
  c.edit_details().symlink_target = std::move(target);
  c.edit_details().symlink_resolves_to = std::move(resolves);
  c.flags.symlink_escape = !c.symlink_resolves_to();
  return c;
}

ChangeList judged(std::vector<Change> changes, const std::string& manager = "npm") {
  ChangeList list;
  list.changes = std::move(changes);
  std::sort(list.changes.begin(), list.changes.end(),
            [](const auto& a, const auto& b) { return a.path < b.path; });
  categorize(list, protected_paths(), expected_writes_for(manager));
  return list;
}

Category category(const ChangeList& list, const std::string& path) {
  return list.find(path)->category;
}

bool mentions(const Verdict& v, const std::string& text) {
  return std::any_of(v.reasons.begin(), v.reasons.end(),
                     [&](const std::string& r) { return r.find(text) != std::string::npos; });
}

}  // namespace

TEST_CASE("verdict: an npm install writing only node_modules and the lockfile is promoted") {
  auto list =
      judged({added("node_modules"), added("node_modules/x/index.js"), added("package-lock.json")});
  for (const auto& c : list.changes) CHECK(c.category == Category::expected);
  auto v = decide_verdict(list, {});
  CHECK(v.kind == VerdictKind::promoted);
  CHECK(v.promotable());
  CHECK_FALSE(v.needs_confirmation);
  CHECK(v.reasons == std::vector<std::string>{"3 changes to the project, all expected"});
  CHECK(decide_verdict(judged({}), {}).reasons ==
        std::vector<std::string>{"the command changed nothing in the project"});
}

TEST_CASE("verdict: protected wins over expected, and holds the run") {
  GlobSet expect_everything;
  REQUIRE(expect_everything.add(".github/**"));
  ChangeList list;
  list.changes = {added(".github/workflows/x.yml")};
  categorize(list, protected_paths(), expect_everything);
  CHECK(list.changes[0].category == Category::protected_);
  auto v = decide_verdict(list, {});
  CHECK(v.kind == VerdictKind::held);
  CHECK(v.touches_protected);
  CHECK(v.needs_confirmation);
  CHECK(mentions(
      v,
      "1 protected path changed: .github/workflows/x.yml (promoted only with --allow-protected)"));
}

TEST_CASE("verdict: the postinstall that plants a workflow and a git hook") {
  auto list = judged({added("node_modules/evil/index.js"), added(".github/workflows/x.yml"),
                      added(".git/hooks/pre-commit", S_IFREG | 0755), added("src/backdoor.js")});
  CHECK(category(list, ".github/workflows/x.yml") == Category::protected_);
  CHECK(category(list, ".git/hooks/pre-commit") == Category::protected_);
  CHECK(category(list, "src/backdoor.js") == Category::unexpected);
  CHECK(category(list, "node_modules/evil/index.js") == Category::expected);
  auto v = decide_verdict(list, {});
  CHECK(v.kind == VerdictKind::held);
  CHECK(v.summary.protected_count == 2);
  CHECK(v.summary.unexpected == 1);
  CHECK(v.summary.expected == 1);
  CHECK(mentions(v, "1 change outside the expected paths: src/backdoor.js"));
}

TEST_CASE("verdict: special files, escaping symlinks and set-id files reject the run") {
  Change fifo = added("node_modules/x/pipe", S_IFIFO | 0644);
  fifo.flags.special_file = true;
  Change suid = added("node_modules/x/bin", S_IFREG | 04755);
  suid.flags.setuid = true;
  auto list = judged({fifo, suid, symlink("node_modules/x/l", "/etc/passwd", std::nullopt)});
  auto v = decide_verdict(list, {});
  CHECK(v.kind == VerdictKind::rejected);
  CHECK_FALSE(v.promotable());
  CHECK(v.summary.rejected == 3);
  CHECK(mentions(v, "special file (fifo) written at node_modules/x/pipe"));
  CHECK(mentions(v, "symlink node_modules/x/l points outside the project (/etc/passwd)"));
  CHECK(mentions(v, "set-uid file node_modules/x/bin"));

  VerdictInputs failed;
  failed.exit_code = 1;
  CHECK(decide_verdict(list, failed).kind == VerdictKind::rejected);  // rejection is stronger
}

TEST_CASE("verdict: a failed command is failed unless --promote-on-failure") {
  auto list = judged({added("node_modules/x")});
  VerdictInputs in;
  in.exit_code = 1;
  auto v = decide_verdict(list, in);
  CHECK(v.kind == VerdictKind::failed);
  CHECK(v.reasons.front() == "the command exited with status 1");
  in.promote_on_failure = true;
  CHECK(decide_verdict(list, in).kind == VerdictKind::promoted);
}

TEST_CASE("verdict: --no-promote stages, and still says what would hold the run") {
  auto list = judged({added("node_modules/x"), added("README.md")});
  VerdictInputs in;
  in.no_promote = true;
  auto v = decide_verdict(list, in);
  CHECK(v.kind == VerdictKind::staged);
  CHECK(v.needs_confirmation);
  CHECK(mentions(v, "--no-promote"));
  CHECK(mentions(v, "README.md"));
}

TEST_CASE("verdict: refusals hold a run whose writes were all expected") {
  auto list = judged({added("node_modules/x")});
  VerdictInputs in;
  in.refused_egress = 2;
  in.refused_syscalls = 1;
  in.survivors = 1;
  in.hold_reasons = {"a script tried to read ~/.ssh"};
  auto v = decide_verdict(list, in);
  CHECK(v.kind == VerdictKind::held);
  CHECK_FALSE(v.touches_protected);
  CHECK(mentions(v, "2 network destinations were refused"));
  CHECK(mentions(v, "1 system call was refused"));
  CHECK(mentions(v, "1 process outlived the command"));
  CHECK(mentions(v, "a script tried to read ~/.ssh"));

  VerdictInputs reject;
  reject.reject_reasons = {"ptrace of the supervisor"};
  CHECK(decide_verdict(list, reject).kind == VerdictKind::rejected);
}

TEST_CASE("verdict: deleting or replacing a directory judges its whole old subtree") {
  auto list =
      judged({deleted_dir("gradle"), deleted_dir("node_modules"), deleted_dir("build")}, "npm");
  CHECK(category(list, "gradle") == Category::protected_);  // gradle/wrapper/** was below it
  CHECK(category(list, "node_modules") == Category::expected);

  GlobSet exact_only;
  REQUIRE(exact_only.add("build"));
  ChangeList build_list;
  build_list.changes = {deleted_dir("build")};
  categorize(build_list, protected_paths(), exact_only);
  CHECK(build_list.changes[0].category ==
        Category::unexpected);  // `build` alone does not cover build/x
}

TEST_CASE("verdict: a symlink into a protected path, or to the project root, is protected") {
  auto list = judged({symlink("node_modules/x/hooks", "../../.git/hooks", ".git/hooks"),
                      symlink("node_modules/x/root", "../..", ""),
                      symlink("node_modules/.bin/x", "../x/cli.js", "node_modules/x/cli.js")});
  CHECK(category(list, "node_modules/x/hooks") == Category::protected_);
  CHECK(category(list, "node_modules/x/root") == Category::protected_);
  CHECK(category(list, "node_modules/.bin/x") == Category::expected);
}

TEST_CASE("verdict: unjudged changes count as unexpected") {
  ChangeList list;
  list.changes = {added("node_modules/x")};
  auto v = decide_verdict(list, {});
  CHECK(v.kind == VerdictKind::held);
  CHECK(v.summary.unexpected == 1);
}

TEST_CASE("verdict: long lists of paths are shortened") {
  std::vector<Change> changes;
  for (int i = 0; i < 9; ++i) changes.push_back(added("src/f" + std::to_string(i)));
  auto v = decide_verdict(judged(changes), {});
  CHECK(mentions(
      v,
      "9 changes outside the expected paths: src/f0, src/f1, src/f2, src/f3, src/f4 and 4 more"));
}
