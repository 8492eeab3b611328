// What is refused before any sandbox is built, with exit 125 and nothing changed: a project
// the invoker cannot write (a read-only mount, no write permission), an output file that
// cannot be written (--sarif, --summary, $GITHUB_STEP_SUMMARY), a numeric option out of
// range. And --format, which makes stdout one view of the run.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/integration/harness.h"
#include "tests/integration/project_checks.h"
#include "tests/integration/skip.h"

using namespace safeinstall::test;
using nlohmann::json;

namespace {

constexpr int kExitUsage = 125;

// Nothing ran and no run was kept.
void check_nothing_ran(const Scenario& s, const SandboxRun& run) {
  CHECK(run.exit_code() == kExitUsage);
  CHECK_FALSE(in_project(s, "ran.txt"));
  CHECK(run.report.is_null());
  auto runs = subcommand(s, {"runs", "--json"});
  CHECK(json::parse(runs.out).empty());
}

const std::vector<std::string> kWrite = {"/bin/sh", "-c", "echo ran > ran.txt"};

}  // namespace

TEST_CASE("input checks: a project on a read-only mount is refused before the sandbox is built",
          "[input]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  if (!running_as_root()) {
    WARN("skipped: a read-only bind mount needs root");
    return;
  }
  Scenario s(who);
  // A mount namespace of the test's own, the project bound read-only over itself there.
  s.run_behind({"unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                "mount --bind \"$0\" \"$0\" && mount -o remount,bind,ro \"$0\" && exec \"$@\"",
                s.project()});
  auto run = s.run(kWrite, {}, kCleanCiEnv);
  CHECK(contains(run.result.err, "read-only mount"));
  CHECK(contains(run.result.err, s.project()));
  CHECK(run.exit_code() == kExitUsage);
  CHECK_FALSE(in_project(s, "ran.txt"));
  CHECK(run.report.is_null());
}

TEST_CASE("input checks: a project without write permission is refused for its user", "[input]") {
  SKIP_UNLESS_SANDBOX(Who::Unprivileged);
  Scenario s(Who::Unprivileged);
  REQUIRE(::chmod(s.project().c_str(), 0555) == 0);
  auto run = s.run(kWrite, {}, kCleanCiEnv);
  CHECK(contains(run.result.err, "is not writable by you"));
  check_nothing_ran(s, run);
  REQUIRE(::chmod(s.project().c_str(), 0755) == 0);
}

TEST_CASE("input checks: output files that cannot be written fail first, each named", "[input]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  std::string missing = s.root() + "/missing-dir/out";
  auto summary = s.run(kWrite, {"--summary", missing}, kCleanCiEnv);
  CHECK(contains(summary.result.err, "--summary " + missing));
  check_nothing_ran(s, summary);

  std::vector<std::string> env = kCleanCiEnv;
  env.push_back("GITHUB_STEP_SUMMARY=" + missing);
  auto step = s.run(kWrite, {}, env);
  CHECK(contains(step.result.err, "$GITHUB_STEP_SUMMARY " + missing));
  check_nothing_ran(s, step);
}

TEST_CASE("input checks: numeric options out of range fail with the range", "[input]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  for (const auto& flags : std::vector<std::vector<std::string>>{
           {"--timeout", "0"}, {"--cpu-time", "-5"}, {"--pids", "0"}, {"--files", "1e400"}}) {
    auto run = s.run(kWrite, flags, kCleanCiEnv);
    INFO(flags[0]);
    CHECK(contains(run.result.err, flags[0] + ": must be "));
    CHECK(contains(run.result.err, "got " + flags[1]));
    check_nothing_ran(s, run);
  }
}

TEST_CASE("format: stdout carries only the view, the command's output goes to stderr",
          "[ci][format]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  const std::vector<std::string> noisy = {
      "/bin/sh", "-c",
      "echo printed-$((40+2)) && mkdir -p node_modules/x && echo x > node_modules/x/i"};
  std::vector<std::string> flags{"--expect", "node_modules/**", "--format"};

  flags.push_back("json");
  auto as_json = s.run(noisy, flags, kCleanCiEnv);
  CHECK(as_json.exit_code() == 0);
  json report = json::parse(as_json.result.out);
  CHECK(report.at("verdict") == "promoted");
  CHECK(report.at("run_id") == as_json.report.at("run_id"));
  CHECK(change_at(report.at("files").at("project"), "node_modules/x/i") != nullptr);
  CHECK(contains(as_json.result.err, "printed-42"));
  CHECK_FALSE(contains(as_json.result.out, "printed-42"));

  flags.back() = "sarif";
  auto as_sarif = s.run(noisy, flags, kCleanCiEnv);
  json sarif = json::parse(as_sarif.result.out);
  CHECK(sarif.at("version") == "2.1.0");
  CHECK(contains(as_sarif.result.err, "printed-42"));

  flags.back() = "markdown";
  auto held =
      s.run({"/bin/sh", "-c", "echo printed-$((40+2)); echo x > stray.txt"}, flags, kCleanCiEnv);
  CHECK(held.exit_code() == kExitHeld);
  CHECK(held.result.out.rfind("### safeinstall: ", 0) == 0);
  CHECK(contains(held.result.out, "— held"));
  CHECK_FALSE(contains(held.result.out, "printed-42"));
  // The receipt is still on stderr, for the CI log.
  CHECK(contains(held.result.err, "held"));
}
