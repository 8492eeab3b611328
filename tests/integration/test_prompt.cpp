// A held run on a terminal: safeinstall shows what needs a look and asks before promoting.
// Runs the real binary on a pseudo-terminal of its own and types the answers.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>

#include "tests/integration/harness.h"
#include "tests/integration/project_checks.h"
#include "tests/integration/skip.h"
#include "tests/support/terminal.h"

using namespace safeinstall::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* kQuestion = "promote them into the project? ";

struct TerminalRun {
  RunResult result;
  json report;
};

// `safeinstall --report R -- sh -c SCRIPT` at a terminal, answering the question with `reply`
// (no answer at all when `reply` is empty).
TerminalRun at_terminal(const Scenario& s, const std::string& script, const std::string& reply,
                        const std::vector<std::string>& flags = {},
                        const std::vector<std::string>& extra_env = {}) {
  std::string report = s.root() + "/terminal-report.json";
  fs::remove(report);
  std::vector<std::string> argv{Installation::get().safeinstall, "--report", report};
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.insert(argv.end(), {"--", "/bin/sh", "-c", script});
  TerminalOptions options;
  options.env = s.base_env();
  options.env.push_back("PATH=/usr/local/bin:/usr/bin:/bin");
  options.env.push_back("TERM=dumb");
  options.env.insert(options.env.end(), extra_env.begin(), extra_env.end());
  if (s.who() == Who::Unprivileged) options.as_user = kUnprivilegedUid;
  options.cwd = s.project();
  if (!reply.empty()) options.exchanges.push_back({kQuestion, reply});
  TerminalRun run{run_on_terminal(argv, options), {}};
  UNSCOPED_INFO("sh -c " << script << "\nexit " << run.result.exit_code << "\nterminal:\n"
                         << run.result.out);
  if (path_exists(report)) {
    require_valid_report(report);
    run.report = json::parse(read_file(report));
  }
  return run;
}

}  // namespace

TEST_CASE("on a terminal a held run lists its changes and is promoted when the answer is yes",
          "[staging][terminal]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  auto run = at_terminal(s, "echo note > notes.txt", "y\n");
  CHECK(contains(run.result.out, "need a look"));
  CHECK(contains(run.result.out, "unexpected"));
  CHECK(contains(run.result.out, "notes.txt"));
  CHECK(contains(run.result.out, kQuestion));
  CHECK(run.result.exit_code == 0);
  REQUIRE(run.report.is_object());
  CHECK(run.report.at("verdict") == "promoted");
  CHECK(contains(run.report.dump(), "promoted on request"));
  CHECK(project_file(s, "notes.txt") == "note\n");
}

TEST_CASE("on a terminal a held run stays out of the project when the answer is no",
          "[staging][terminal]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  for (const char* reply : {"n\n", "\n"}) {
    auto run = at_terminal(s, "echo note > notes.txt", reply);
    CHECK(contains(run.result.out, kQuestion));
    CHECK(run.result.exit_code == kExitHeld);
    REQUIRE(run.report.is_object());
    CHECK(run.report.at("verdict") == "held");
    CHECK(contains(run.result.out, "safeinstall promote "));
    CHECK_FALSE(in_project(s, "notes.txt"));
  }
}

TEST_CASE("on a terminal yes promotes a held run except its protected paths",
          "[staging][terminal]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  auto run = at_terminal(s,
                         "echo note > notes.txt; mkdir -p .github/workflows; echo 'on: push' > "
                         ".github/workflows/x.yml",
                         "y\n");
  CHECK(contains(run.result.out, "protected paths stay out without --allow-protected"));
  REQUIRE(run.report.is_object());
  CHECK(run.report.at("verdict") == "promoted");
  CHECK(project_file(s, "notes.txt") == "note\n");
  CHECK_FALSE(in_project(s, ".github"));
  CHECK(contains(run.report.dump(), "left out: .github"));
}

TEST_CASE("on a terminal in CI a held run is kept without a question", "[staging][terminal]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  auto run = at_terminal(s, "echo note > notes.txt", "", {}, {"CI=true"});
  CHECK_FALSE(contains(run.result.out, kQuestion));
  CHECK(run.result.exit_code == kExitHeld);
  CHECK_FALSE(in_project(s, "notes.txt"));
}

TEST_CASE("on a terminal the changes and reasons of a held run are shown escaped",
          "[staging][terminal]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  // A staged file whose name clears the line and draws a forged answer, rings the bell and
  // sets the window title; the command itself prints nothing.
  auto run = at_terminal(
      s, "touch \"$(printf 'x\\033[2K\\rpromoted.\\007\\033]0;t\\007\\302\\233y')\"", "n\n");
  CHECK(contains(run.result.out, kQuestion));
  CHECK(contains(run.result.out, "x\\027[2K\\013promoted.\\007\\027]0;t\\007\\194\\155y"));
  // The terminal's own line ends are CR LF; nothing else a terminal acts on was written.
  for (char c : {'\x1b', '\x07'}) CHECK(run.result.out.find(c) == std::string::npos);
  CHECK(run.result.out.find("\xc2\x9b") == std::string::npos);
  CHECK(run.result.exit_code == kExitHeld);
}
