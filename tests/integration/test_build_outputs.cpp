// A build command's outputs are expected for it: the real `npm run build` writing dist/ is
// promoted, the same script writing a CI workflow is not, and `--expect` still adds paths;
// the real `go build -o PATH` promotes PATH; a held build promoted later is judged as it ran.
#include <catch2/catch.hpp>

#include "tests/integration/harness.h"
#include "tests/integration/project_checks.h"
#include "tests/integration/skip.h"

// Skips (with the reason printed) without the sandbox or without `program` on PATH.
#define SKIP_UNLESS_TOOL(who, program)                                                    \
  SKIP_UNLESS_SANDBOX(who);                                                               \
  do {                                                                                    \
    if (::safeinstall::test::which(program).empty()) {                                    \
      WARN("skipped: " << program << " is not installed (scripts/setup.sh installs it)"); \
      return;                                                                             \
    }                                                                                     \
  } while (false)

using namespace safeinstall::test;
using namespace std::chrono_literals;

namespace {

void write_script(const Scenario& s, const std::string& name, const std::string& script) {
  host_write(s, "package.json",
             "{\"name\":\"demo\",\"version\":\"1.0.0\",\"scripts\":{\"" + name + "\":\"" + script +
                 "\"}}\n");
}

void write_build_script(const Scenario& s, const std::string& script) {
  write_script(s, "build", script);
}

// TOOL ARGS... in the sandbox, in CI mode, with flags of safeinstall's.
SandboxRun tool(const Scenario& s, const std::vector<std::string>& command,
                const std::vector<std::string>& flags = {}) {
  auto run = s.run(command, flags, kCleanCiEnv, 180s);
  UNSCOPED_INFO(Catch::Detail::stringify(command)
                << "\nexit " << run.exit_code() << "\nstderr: " << run.result.err);
  return run;
}

SandboxRun npm(const Scenario& s, const std::vector<std::string>& args,
               const std::vector<std::string>& flags = {}) {
  std::vector<std::string> command{"npm"};
  command.insert(command.end(), args.begin(), args.end());
  return tool(s, command, flags);
}

}  // namespace

TEST_CASE("build outputs: npm run build writing dist/ is promoted, a workflow it writes is held",
          "[build][npm]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_TOOL(who, "npm");
  Scenario s(who);
  write_build_script(s, "mkdir -p dist && echo built > dist/app.js");
  auto built = npm(s, {"run", "build"});
  CHECK(built.exit_code() == 0);
  REQUIRE(built.report.is_object());
  CHECK(built.report.at("verdict") == "promoted");
  CHECK(project_file(s, "dist/app.js") == "built\n");
  CHECK(category_of(change_at(built.report.at("files").at("project"), "dist/app.js")) ==
        "expected");

  // The same command writing outside its outputs: held, the workflow never reaches the project.
  write_build_script(s,
                     "mkdir -p dist .github/workflows && echo v2 > dist/app.js && "
                     "echo 'on: push' > .github/workflows/x.yml");
  auto planted = npm(s, {"run", "build"});
  CHECK(planted.exit_code() == kExitSuspicious);
  REQUIRE(planted.report.is_object());
  CHECK(planted.report.at("verdict") == "held");
  CHECK_FALSE(in_project(s, ".github/workflows/x.yml"));
  CHECK(project_file(s, "dist/app.js") == "built\n");

  // Outputs belong to the build command: another script writing dist/ is not one.
  write_script(s, "gen", "mkdir -p dist && echo x > dist/other.js");
  auto other = npm(s, {"run", "gen"});
  CHECK(other.exit_code() == kExitHeld);
  CHECK_FALSE(in_project(s, "dist/other.js"));

  // --expect still adds to a build's outputs.
  write_build_script(s, "mkdir -p dist gen && echo v3 > dist/app.js && echo g > gen/types.ts");
  auto with_expect = npm(s, {"run", "build"}, {"--expect", "gen/**"});
  CHECK(with_expect.exit_code() == 0);
  CHECK(project_file(s, "dist/app.js") == "v3\n");
  CHECK(project_file(s, "gen/types.ts") == "g\n");
}

namespace {

// "(2 expected, 0 unexpected, 3 protected)" from a report's project changes.
std::string category_counts(const nlohmann::json& report) {
  std::size_t expected = 0, unexpected = 0, protected_count = 0;
  for (const auto& c : report.at("files").at("project")) {
    expected += c.at("category") == "expected" ? 1 : 0;
    unexpected += c.at("category") == "unexpected" ? 1 : 0;
    protected_count += c.at("category") == "protected" ? 1 : 0;
  }
  return "(" + std::to_string(expected) + " expected, " + std::to_string(unexpected) +
         " unexpected, " + std::to_string(protected_count) + " protected)";
}

}  // namespace

TEST_CASE(
    "build outputs: a held npm run build is shown and promoted later with its outputs "
    "and --expect expected",
    "[build][npm][runs]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_TOOL(who, "npm");
  Scenario s(who);
  write_build_script(s,
                     "mkdir -p dist gen .github/workflows && echo v1 > dist/app.js && "
                     "echo g > gen/types.ts && echo 'on: push' > .github/workflows/x.yml");
  auto held = tool(s, {"npm", "run", "build"}, {"--expect", "gen/**"});
  REQUIRE(held.exit_code() == kExitSuspicious);
  REQUIRE(held.report.is_object());
  const auto& changes = held.report.at("files").at("project");
  REQUIRE(category_of(change_at(changes, "dist/app.js")) == "expected");
  REQUIRE(category_of(change_at(changes, "gen/types.ts")) == "expected");
  std::string id = held.report.at("run_id");

  auto shown = subcommand(s, {"runs", "show", id});
  REQUIRE(shown.exit_code == 0);
  CHECK(contains(shown.out, "change:    expected   added    dist/app.js"));
  CHECK(contains(shown.out, "change:    expected   added    gen/types.ts"));
  CHECK_FALSE(contains(shown.out, "change:    unexpected"));

  // Judged again at promotion with the run's own set: the same counts as the run's, the
  // workflow still protected and left out.
  auto promoted = subcommand(s, {"promote", id});
  CHECK(promoted.exit_code == 0);
  CHECK(contains(promoted.err, "changes " + category_counts(held.report)));
  CHECK(contains(promoted.err, "left out: .github/workflows/x.yml"));
  CHECK(project_file(s, "dist/app.js") == "v1\n");
  CHECK(project_file(s, "gen/types.ts") == "g\n");
  CHECK_FALSE(in_project(s, ".github/workflows/x.yml"));
}

TEST_CASE("build outputs: go build -o PATH promotes PATH, go build without -o is held",
          "[build][go]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_TOOL(who, "go");
  Scenario s(who);
  host_write(s, "go.mod", "module example.test/app\n\ngo 1.19\n");
  host_write(s, "main.go", "package main\n\nfunc main() { println(\"built\") }\n");
  auto named = tool(s, {"go", "build", "-o", "bin/app", "."});
  CHECK(named.exit_code() == 0);
  REQUIRE(named.report.is_object());
  CHECK(named.report.at("verdict") == "promoted");
  CHECK(in_project(s, "bin/app"));

  // No -o: the binary lands in the project unannounced, and waits for a review.
  auto unnamed = tool(s, {"go", "build"});
  CHECK(unnamed.exit_code() == kExitHeld);
  CHECK_FALSE(in_project(s, "app"));
}
