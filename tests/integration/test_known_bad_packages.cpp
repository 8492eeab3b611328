// The package policy end to end: the real npm in the real sandbox against the fake
// internet's registry, as root and as an unprivileged user. What a run changes in the
// lockfile is in the report; a version an OSV MAL- entry names gets the run rejected; `scan`
// finds the version in a lockfile and in the kept run's report.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "tests/integration/harness.h"
#include "tests/integration/project_checks.h"
#include "tests/integration/skip.h"
#include "tests/support/fake_internet.h"
#include "tests/support/npm_registry.h"

using namespace safeinstall::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kOsvFixtures = SAFEINSTALL_TEST_FIXTURES "/osv";

// The fixture database copied where the scenario's user can read it.
std::string copy_osv_fixtures(const Scenario& s) {
  std::string dir = s.root() + "/osv";
  fs::create_directories(dir);
  for (const auto& entry : fs::directory_iterator(kOsvFixtures))
    fs::copy_file(entry.path(), dir + "/" + entry.path().filename().string(),
                  fs::copy_options::overwrite_existing);
  for (const auto& entry : fs::recursive_directory_iterator(s.root() + "/osv"))
    ::chmod(entry.path().c_str(), 0644);
  ::chmod(dir.c_str(), 0755);
  return dir;
}

void serve_packages(FakeInternet& net) {
  write_npm_registry(
      net.registry_root(), "http://registry.test/",
      {{.name = "nice-helper",
        .version = "1.0.0",
        .files = {{"index.js", "module.exports = 'nice';\n"}}},
       {.name = "evil-helper",
        .version = "1.0.1",
        .scripts = {{"postinstall", "node hook.js"}},
        .files = {{"hook.js", "require('fs').writeFileSync('hook-ran', 'yes');\n"}}}});
}

const json* package_in(const json& list, const std::string& name) {
  for (const auto& p : list)
    if (p.value("name", "") == name) return &p;
  return nullptr;
}

}  // namespace

TEST_CASE("an npm install records the packages it added, and promotes a clean one",
          "[package-policy][npm]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_INSTALL_TEST(who, "npm");
  FakeInternet net(SI_SINK_PATH);
  serve_packages(net);
  Scenario s(who);
  s.run_behind(net.in_world({}));
  std::string osv = copy_osv_fixtures(s);
  write_package_json(s, "\"nice-helper\":\"1.0.0\"");

  auto run = run_npm(s, {"install"}, {"--osv-db", osv});
  REQUIRE(run.exit_code() == 0);
  CHECK(run.report.at("verdict") == "promoted");
  const json& packages = run.report.at("packages");
  REQUIRE(packages.at("added").size() == 1);
  const json* added = package_in(packages.at("added"), "nice-helper");
  REQUIRE(added != nullptr);
  CHECK(added->at("version") == "1.0.0");
  CHECK(added->at("ecosystem") == "npm");
  CHECK(added->at("direct") == true);
  CHECK(added->at("source") == "package-lock.json");
  CHECK(packages.at("removed").empty());
  CHECK(packages.at("changed").empty());
  CHECK(findings_of_kind(run.report, "malicious-package").empty());
  CHECK(contains(run.result.err, "1 added, 0 changed, 0 removed (npm)"));
}

TEST_CASE("an npm install of a version an OSV MAL- entry names is rejected",
          "[package-policy][npm]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_INSTALL_TEST(who, "npm");
  FakeInternet net(SI_SINK_PATH);
  serve_packages(net);
  Scenario s(who);
  s.run_behind(net.in_world({}));
  std::string osv = copy_osv_fixtures(s);
  write_package_json(s, "\"evil-helper\":\"1.0.1\"");

  auto run = run_npm(s, {"install"}, {"--osv-db", osv});
  CHECK(run.exit_code() == kExitRejected);
  CHECK(run.report.at("verdict") == "rejected");
  auto malicious = findings_of_kind(run.report, "malicious-package");
  REQUIRE(malicious.size() == 1);
  CHECK(malicious[0].at("severity") == "critical");
  CHECK(malicious[0].at("package") == "evil-helper@1.0.1");
  CHECK(contains(malicious[0].at("detail").get<std::string>(), "MAL-2025-0001"));
  CHECK(package_in(run.report.at("packages").at("added"), "evil-helper") != nullptr);
  // Nothing of it reached the project.
  CHECK_FALSE(in_project(s, "node_modules/evil-helper"));
  CHECK_FALSE(in_project(s, "package-lock.json"));
  CHECK(contains(run.result.err, "malicious-package"));
}

TEST_CASE("an unreadable --osv-db holds a run that brought in packages", "[package-policy][npm]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_INSTALL_TEST(who, "npm");
  FakeInternet net(SI_SINK_PATH);
  serve_packages(net);
  Scenario s(who);
  s.run_behind(net.in_world({}));
  write_package_json(s, "\"nice-helper\":\"1.0.0\"");
  auto run = run_npm(s, {"install"}, {"--osv-db", s.root() + "/no-such-db"});
  CHECK(run.exit_code() == kExitHeld);
  CHECK(run.report.at("verdict") == "held");
  CHECK_FALSE(run.report.at("packages").at("errors").empty());
}

TEST_CASE("scan finds a MAL- version in a lockfile and in a kept run's report",
          "[package-policy][scan]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_INSTALL_TEST(who, "npm", "zip");
  FakeInternet net(SI_SINK_PATH);
  serve_packages(net);
  Scenario s(who);
  s.run_behind(net.in_world({}));
  std::string osv = copy_osv_fixtures(s);
  // OSV's all.zip form, imported into the state dir: every later run and scan use it.
  std::string zip = s.root() + "/all.zip";
  REQUIRE(std::system(("cd '" + osv + "' && zip -q '" + zip + "' *.json").c_str()) == 0);
  ::chmod(zip.c_str(), 0644);
  auto imported = subcommand(s, {"db", "import", zip});
  REQUIRE(imported.exit_code == 0);
  CHECK(contains(imported.err, "3 of them malicious"));

  write_package_json(s, "\"evil-helper\":\"1.0.1\"");
  auto run = run_npm(s, {"install"});
  REQUIRE(run.exit_code() == kExitRejected);
  std::string run_id = run.report.at("run_id");

  // Another project, never installed with safeinstall, that locks the other bad version.
  std::string other = s.root() + "/other-project";
  fs::create_directories(other + "/node_modules/x");
  std::ofstream(other + "/package-lock.json") << R"({"lockfileVersion": 3, "packages": {
      "": {"dependencies": {"evil-helper": "^1"}},
      "node_modules/evil-helper": {"version": "1.0.2"},
      "node_modules/nice-helper": {"version": "1.0.0"}}})";
  // node_modules is not walked: a lockfile there is an installed package's, not the project's.
  std::ofstream(other + "/node_modules/x/package-lock.json") << R"({"lockfileVersion": 3,
      "packages": {"node_modules/typo-lodahs": {"version": "1.0.0"}}})";
  ::chmod(other.c_str(), 0755);

  auto scan = subcommand(s, {"scan", "--json", other});
  CHECK(scan.exit_code == 1);
  json result = json::parse(scan.out);
  std::vector<json> in_lockfiles, in_runs;
  for (const auto& f : result.at("findings"))
    (f.at("where") == "lockfile" ? in_lockfiles : in_runs).push_back(f);
  REQUIRE(in_lockfiles.size() == 1);
  CHECK(in_lockfiles[0].at("name") == "evil-helper");
  CHECK(in_lockfiles[0].at("version") == "1.0.2");
  CHECK(in_lockfiles[0].at("direct") == true);
  CHECK(in_lockfiles[0].at("path") == other + "/package-lock.json");
  REQUIRE(in_runs.size() == 1);
  CHECK(in_runs[0].at("run_id") == run_id);
  CHECK(in_runs[0].at("verdict") == "rejected");
  CHECK(in_runs[0].at("promoted") == false);
  CHECK(in_runs[0].at("why") == json::array({"MAL-2025-0001"}));
  // The run did execute the package's postinstall, in the sandbox, and reached the registry.
  REQUIRE_FALSE(in_runs[0].at("scripts_run").empty());
  CHECK(contains(in_runs[0].at("scripts_run")[0].get<std::string>(), "postinstall"));
  CHECK(contains(in_runs[0].at("contacted").dump(), "registry.test"));

  // Text output, and a clean answer for a version nobody has.
  auto text = subcommand(s, {"scan", "--no-runs", other});
  CHECK(text.exit_code == 1);
  CHECK(contains(text.out, "found: npm evil-helper@1.0.2 in " + other + "/package-lock.json"));
  auto clean = subcommand(s, {"scan", "--no-runs", "--package", "nice-helper@9.9.9", s.project()});
  CHECK(clean.exit_code == 0);  // the imported database finds nothing there either
  auto wanted = subcommand(s, {"scan", "--no-runs", "--package", "nice-helper@1.0.0", other});
  CHECK(wanted.exit_code == 1);
}

TEST_CASE(
    "a project that holds only critical vulnerabilities widens the sandbox and in CI needs trust",
    "[package-policy]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  host_write(s, ".safeinstall.toml", "[policy]\nvuln_severity = \"critical\"\n");
  auto refused = s.run({"/bin/sh", "-c", "echo ran > ran.txt"}, {}, kCleanCiEnv);
  CHECK(refused.exit_code() == 125);
  CHECK(contains(refused.result.err, "widens the sandbox (vulnerability threshold critical)"));
  CHECK_FALSE(in_project(s, "ran.txt"));
  auto trusted = s.run({"/bin/true"}, {"--trust-project-config"}, kCleanCiEnv);
  CHECK(trusted.exit_code() == 0);
  CHECK(contains(trusted.result.err, "project config adds: vulnerability threshold critical"));
}
