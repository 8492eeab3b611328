// Kept runs as a user looks them up: `runs --project DIR`, `runs --json`, `runs show RUN_ID`.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/integration/harness.h"
#include "tests/integration/project_checks.h"
#include "tests/integration/skip.h"

using namespace safeinstall::test;
using nlohmann::json;

TEST_CASE("runs: listed per project and as JSON, and one shown with its findings and changes",
          "[runs]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  auto held = s.run({"/bin/sh", "-c", "echo x > x.txt; echo 'curl x|sh' >> \"$HOME/.bashrc\""}, {},
                    kCleanCiEnv);
  REQUIRE(held.exit_code() == kExitSuspicious);
  std::string id = held.report.at("run_id");

  auto listed = subcommand(s, {"runs", "--json"});
  REQUIRE(listed.exit_code == 0);
  json runs = json::parse(listed.out);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].at("run_id") == id);
  CHECK(runs[0].at("project") == s.project());
  CHECK(runs[0].at("state") == "held");
  CHECK(path_exists(runs[0].at("report").get<std::string>()));

  auto mine = subcommand(s, {"runs", "--project", s.project()});
  CHECK(contains(mine.out, id));
  auto elsewhere = subcommand(s, {"runs", "--project", s.home(), "--json"});
  CHECK(json::parse(elsewhere.out).empty());

  auto shown = subcommand(s, {"runs", "show", id});
  REQUIRE(shown.exit_code == 0);
  CHECK(contains(shown.out, "run " + id));
  CHECK(contains(shown.out, "finding:   high persistence"));
  CHECK(contains(shown.out, "change:    unexpected added    x.txt"));
  CHECK(contains(shown.out, "next:      safeinstall promote " + id));
  CHECK(contains(shown.out, "report:"));

  auto as_json = subcommand(s, {"runs", "show", id, "--json"});
  CHECK(json::parse(as_json.out).at("run_id") == id);

  auto missing = subcommand(s, {"runs", "show", "20200101T000000Z-00000000"});
  CHECK(missing.exit_code == 125);
  CHECK(contains(missing.err, "\n  hint: `safeinstall runs` lists the runs kept"));
}

namespace {

std::string run_dir_of(const SandboxRun& run) {
  return run.report.at("staging").at("run_dir").get<std::string>();
}

// ~/.config/safeinstall/base.toml of the scenario's user: the user layer of the base profile.
void user_base_profile(const Scenario& s, const std::string& text) {
  std::string dir = s.home() + "/.config/safeinstall";
  REQUIRE(std::system(("mkdir -p " + dir).c_str()) == 0);
  { std::ofstream(dir + "/base.toml") << text; }
  std::string owner = std::to_string(s.uid());
  REQUIRE(std::system(("chown -R " + owner + ":" + owner + " " + s.home() + "/.config").c_str()) ==
          0);
}

std::vector<std::string> run_ids(const Scenario& s) {
  std::vector<std::string> ids;
  for (const auto& r : json::parse(subcommand(s, {"runs", "--json"}).out))
    ids.push_back(r.at("run_id"));
  return ids;
}

}  // namespace

TEST_CASE("runs: a promoted run keeps only its report and receipt, a held run everything",
          "[runs]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  auto promoted = s.run({"/bin/sh", "-c", "true"}, {}, kCleanCiEnv);
  REQUIRE(promoted.exit_code() == 0);
  std::string dir = run_dir_of(promoted);
  CHECK(path_exists(dir + "/report.json"));
  CHECK(path_exists(dir + "/meta.json"));
  CHECK(contains(read_file(dir + "/receipt.txt"), "verdict: promoted"));
  CHECK_FALSE(path_exists(dir + "/upper"));
  CHECK_FALSE(path_exists(dir + "/snapshot.bin"));
  CHECK_FALSE(path_exists(dir + "/decoys"));

  auto held = s.run({"/bin/sh", "-c", "echo x > x.txt"}, {}, kCleanCiEnv);
  REQUIRE(held.exit_code() == kExitHeld);
  CHECK(path_exists(run_dir_of(held) + "/upper/x.txt"));
  CHECK(path_exists(run_dir_of(held) + "/snapshot.bin"));
  // `runs show` still shows the slim run from its report.
  auto shown = subcommand(s, {"runs", "show", promoted.report.at("run_id")});
  CHECK(shown.exit_code == 0);
  CHECK(contains(shown.out, "verdict:   promoted"));
}

TEST_CASE("runs: pruning by [runs] keep and by hand keeps held runs", "[runs]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  user_base_profile(s, "[runs]\nkeep = 2\n");
  auto held = s.run({"/bin/sh", "-c", "echo x > x.txt"}, {}, kCleanCiEnv);
  REQUIRE(held.exit_code() == kExitHeld);
  std::string held_id = held.report.at("run_id");
  std::vector<std::string> finished;
  for (int i = 0; i < 3; ++i) {
    auto run = s.run({"/bin/sh", "-c", "exit 3"}, {}, kCleanCiEnv);
    REQUIRE(run.exit_code() == 3);
    finished.push_back(run.report.at("run_id"));
  }
  // After each run: the 2 newest kept, and the held one, older, whatever the count.
  auto ids = run_ids(s);
  CHECK(ids == std::vector<std::string>{finished[2], finished[1], held_id});

  auto pruned = subcommand(s, {"runs", "prune", "--keep", "0"});
  CHECK(pruned.exit_code == 0);
  CHECK(contains(pruned.err, "removed 2 runs"));
  CHECK(run_ids(s) == std::vector<std::string>{held_id});
  CHECK(path_exists(run_dir_of(held) + "/upper/x.txt"));

  // Held runs stay until the user says: promoted, it is then pruned like any other.
  REQUIRE(subcommand(s, {"promote", held_id}).exit_code == 0);
  CHECK(subcommand(s, {"runs", "prune", "--older-than", "0m", "--keep", "5"}).exit_code == 0);
  CHECK(run_ids(s).empty());
  CHECK(project_file(s, "x.txt") == "x\n");
}
