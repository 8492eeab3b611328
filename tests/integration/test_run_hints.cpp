// What a held or failed run tells the user next, end to end: the exact `.safeinstall.toml`
// lines and flags that would have let it pass (and that they do), an audit of a failed
// command that says it proves nothing, npm's log kept in the run dir, and a failed run that
// changed nothing discarded by itself.
#include <catch2/catch.hpp>
#include <fstream>

#include "tests/integration/harness.h"
#include "tests/integration/project_checks.h"
#include "tests/integration/skip.h"
#include "tests/support/fake_internet.h"
#include "tests/support/npm_registry.h"

using namespace safeinstall::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::string kBuild =
    "mkdir -p dist/assets && echo 'built' > dist/index.js && echo 'a' > dist/assets/a.css";

SandboxRun shell(const Scenario& s, const std::string& script,
                 const std::vector<std::string>& flags = {}) {
  auto run = s.run({"/bin/sh", "-c", script}, flags, kCleanCiEnv, 120s);
  UNSCOPED_INFO("sh -c " << script << "\nflags " << Catch::Detail::stringify(flags) << "\nexit "
                         << run.exit_code() << "\nstderr: " << run.result.err);
  return run;
}

std::vector<std::string> strings_at(const json& object, const char* key) {
  return object.at(key).get<std::vector<std::string>>();
}

// The config lines of a report's suggestion, as a file.
std::string config_file(const json& report) {
  std::string text;
  for (const auto& line : strings_at(report.at("suggestions"), "config")) text += line + "\n";
  return text;
}

}  // namespace

TEST_CASE("hints: a build that writes dist/ is held with the expect line, which then lets it pass",
          "[hints]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);

  auto held = shell(s, kBuild);
  CHECK(held.exit_code() == kExitHeld);
  REQUIRE(held.report.is_object());
  CHECK(held.report.at("verdict") == "held");
  CHECK_FALSE(in_project(s, "dist"));
  const json& hints = held.report.at("suggestions");
  CHECK(strings_at(hints, "expected") == std::vector<std::string>{"dist/**"});
  CHECK(strings_at(hints, "allow_hosts").empty());
  CHECK(strings_at(hints, "flags") == std::vector<std::string>{"--expect 'dist/**'"});
  CHECK(contains(held.result.err, "expected = [\"dist/**\"]"));
  CHECK(contains(held.result.err, "or run with --expect 'dist/**'"));

  // The flag, as printed, lets the same build pass.
  auto with_flag = shell(s, kBuild, {"--expect", "dist/**"});
  CHECK(with_flag.exit_code() == 0);
  CHECK(with_flag.report.at("verdict") == "promoted");
  CHECK(project_file(s, "dist/index.js") == "built\n");
  CHECK_FALSE(with_flag.report.contains("suggestions"));

  // And so do the config lines, in the project's .safeinstall.toml (CI wants its trust).
  host_write(s, ".safeinstall.toml", config_file(held.report));
  auto with_config = shell(s, kBuild + " && echo 'v2' > dist/index.js", {"--trust-project-config"});
  CHECK(with_config.exit_code() == 0);
  CHECK(with_config.report.at("verdict") == "promoted");
  CHECK(project_file(s, "dist/index.js") == "v2\n");
}

TEST_CASE("hints: a direct connect is called suspicious, with no setting to let it pass",
          "[hints]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  // The command goes on and succeeds after the attempt: only the attempt holds the run.
  auto run = shell(s, s.probe_in_project() + " connect 203.0.113.9 443; true");
  CHECK(run.exit_code() == kExitSuspicious);
  REQUIRE(run.report.is_object());
  REQUIRE(run.report.contains("suggestions"));
  const json& hints = run.report.at("suggestions");
  CHECK(strings_at(hints, "config").empty());
  CHECK(strings_at(hints, "flags").empty());
  CHECK(contains(hints.at("withheld").get<std::string>(), "direct-connect"));
  CHECK(contains(run.result.err, "suspicious: suspicious (direct-connect)"));
  CHECK_FALSE(contains(run.result.err, "to pass:"));
  CHECK_FALSE(contains(run.result.err, "allow = ["));
}

TEST_CASE("hints: an install whose postinstall was refused a host, and fell back, names the host",
          "[hints][npm]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_INSTALL_TEST(who, "npm", "curl");
  FakeInternet net(SI_SINK_PATH);
  std::ofstream(net.registry_root() + "/prebuilt.bin") << "prebuilt\n";
  // Like node-pre-gyp: fetch a prebuilt binary, else build from source.
  const std::string fetch =
      "curl -sf -o prebuilt.bin http://other.test/prebuilt.bin && echo fetched || "
      "(echo 'no prebuilt binary: building from source' && echo built > built-from-source)";
  write_npm_registry(net.registry_root(), "http://registry.test/",
                     {{.name = "native-ish",
                       .version = "5.1.1",
                       .scripts = {{"install", fetch}},
                       .files = {{"index.js", "module.exports = 1;\n"}}}});
  Scenario s(who);
  s.run_behind(net.in_world({}));
  write_package_json(s, "\"native-ish\":\"5.1.1\"");

  auto refused = run_npm(s, {"install"});
  // The install succeeded through its fallback; only the refusal holds it.
  CHECK(refused.exit_code() == kExitSuspicious);
  REQUIRE(refused.report.is_object());
  CHECK(refused.report.at("exit_code") == 0);
  CHECK_FALSE(refused_hosts(refused.report, "other.test").empty());
  REQUIRE(refused.report.contains("suggestions"));
  const json& hints = refused.report.at("suggestions");
  CHECK(strings_at(hints, "allow_hosts") == std::vector<std::string>{"other.test:80"});
  CHECK(strings_at(hints, "flags") == std::vector<std::string>{"--allow-host other.test:80"});
  CHECK(hints.at("withheld") == "");
  CHECK(contains(refused.result.err, "allow = [\"other.test:80\"]"));
  CHECK(contains(refused.result.err, "--allow-host other.test:80"));

  // With the host allowed, the prebuilt binary is fetched and the run passes.
  auto allowed = run_npm(s, {"install"}, {"--allow-host", "other.test:80"});
  CHECK(allowed.exit_code() == 0);
  CHECK(allowed.report.at("verdict") == "promoted");
  CHECK(contains(net.log(FakeInternet::Log::Registry), "GET /prebuilt.bin"));
  CHECK(project_file(s, "node_modules/native-ish/prebuilt.bin") == "prebuilt\n");
}

TEST_CASE("hints: an audit of a command that failed is inconclusive, never 'needed nothing'",
          "[hints][audit]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  // An upstream failure: the command stops before it reaches or is refused anything.
  auto run = shell(s, "echo 'npm ERR! 502 Bad Gateway' >&2; exit 1", {"--audit"});
  CHECK(run.exit_code() == 1);
  REQUIRE(run.report.is_object());
  const json& audit = run.report.at("audit");
  CHECK(strings_at(audit, "allow_hosts").empty());
  CHECK(strings_at(audit, "expected").empty());
  CHECK(audit.at("inconclusive") == true);
  CHECK(contains(run.result.err, "inconclusive: the command failed (exit 1)"));
  CHECK_FALSE(contains(run.result.err, "needed nothing"));
  CHECK(contains(read_file(audit.at("file")), "# Inconclusive"));

  auto passing = shell(s, "true", {"--audit"});
  CHECK(passing.report.at("audit").at("inconclusive") == false);
  CHECK(contains(passing.result.err, "the run needed nothing beyond its profile"));
}

TEST_CASE("runs: a failed run that changed nothing is discarded by itself", "[hints][runs]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  auto run = shell(s, "exit 4");
  CHECK(run.exit_code() == 4);
  REQUIRE(run.report.is_object());
  CHECK(run.report.at("verdict") == "failed");
  CHECK(run.report.at("staging").at("next").empty());
  CHECK_FALSE(contains(run.result.err, "next:"));
  CHECK_FALSE(contains(run.result.err, "safeinstall discard"));
  auto listed = json::parse(subcommand(s, {"runs", "--json"}).out);
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].at("state") == "discarded");
  CHECK(path_exists(listed[0].at("report").get<std::string>()));

  // One that did change something still offers the discard.
  auto changed = shell(s, "echo x > x.txt; exit 4");
  CHECK(changed.exit_code() == 4);
  CHECK(contains(changed.result.err, "next:      safeinstall discard"));
}

TEST_CASE("logs: npm's log is kept in the run dir after a failing npm command, and named",
          "[hints][npm]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_INSTALL_TEST(who, "npm");
  FakeInternet net(SI_SINK_PATH);
  write_npm_registry(net.registry_root(), "http://registry.test/",
                     {{.name = "present", .version = "1.0.0", .files = {{"index.js", "1;\n"}}}});
  Scenario s(who);
  s.run_behind(net.in_world({}));
  write_package_json(s, "\"present\":\"1.0.0\"");

  auto run = run_npm(s, {"install", "no-such-package@1.0.0"});
  CHECK(run.exit_code() != 0);
  REQUIRE(run.report.is_object());
  REQUIRE(run.report.contains("logs"));
  REQUIRE_FALSE(run.report.at("logs").empty());
  const json& log = run.report.at("logs").back();
  CHECK(log.at("tool") == "npm");
  std::string kept = log.at("path");
  std::string run_dir = run.report.at("staging").at("run_dir");
  CHECK(kept.rfind(run_dir + "/logs/npm/", 0) == 0);
  CHECK(contains(log.at("inside").get<std::string>(), "/.npm/_logs/"));
  CHECK(contains(read_file(kept), "no-such-package"));
  // npm's own line names the discarded home; the receipt names the copy.
  CHECK(contains(run.result.err, "A complete log of this run can be found in"));
  CHECK(contains(run.result.err, "is kept as " + kept));
  // Kept after the failed run was discarded.
  CHECK(path_exists(kept));
}
