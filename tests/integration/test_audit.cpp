// --audit end to end in the tests' own fake internet: a command reaches a host no profile
// allows (recorded, not refused), still cannot reach private addresses, is held with the
// project untouched, and the suggested .safeinstall.toml is enough for the same command to
// pass without --audit.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "tests/integration/harness.h"
#include "tests/integration/project_checks.h"
#include "tests/integration/skip.h"
#include "tests/support/fake_internet.h"

using namespace safeinstall::test;
using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// What the command needs: a file from other.test over plain HTTP, and two project writes.
const std::string kNeeds =
    "curl -sS -o /dev/null -w 'other %{http_code}\\n' --max-time 20 http://other.test/audit.txt; "
    "mkdir -p generated/sub && echo a > generated/sub/a.js && echo n > notes.txt";
// What it must still not get in audit mode: the host's loopback and the metadata service.
const std::string kPrivate =
    "curl -sS -o /dev/null -w 'metadata %{http_code}\\n' --max-time 20 "
    "http://metadata.test/latest/; "
    "curl -sS -o /dev/null -w 'loopback %{http_code}\\n' --max-time 20 http://loopback.test/; ";

SandboxRun shell(const Scenario& s, const std::string& script,
                 const std::vector<std::string>& flags) {
  auto run = s.run({"/bin/sh", "-c", script}, flags, kCleanCiEnv, 120s);
  UNSCOPED_INFO("sh -c " << script << "\nflags " << Catch::Detail::stringify(flags) << "\nexit "
                         << run.exit_code() << "\nstdout: " << run.result.out
                         << "\nstderr: " << run.result.err);
  return run;
}

std::vector<std::string> strings_at(const json& report, const char* key) {
  return report.at("audit").at(key).get<std::vector<std::string>>();
}

}  // namespace

TEST_CASE("audit: public hosts are reached and recorded, private ones refused, the run held",
          "[audit]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_INSTALL_TEST(who, "curl");
  FakeInternet net(SI_SINK_PATH);
  std::ofstream(net.registry_root() + "/audit.txt") << "needed\n";
  Scenario s(who);
  s.run_behind(net.in_world({}));

  auto run = shell(s, kPrivate + kNeeds, {"--audit"});
  CHECK(run.exit_code() == kExitSuspicious);  // refused hosts are findings
  REQUIRE(run.report.is_object());
  CHECK(run.report.at("verdict") == "held");
  CHECK(contains(run.result.out, "other 200"));
  CHECK(contains(run.result.out, "metadata 403"));
  CHECK(contains(run.result.out, "loopback 403"));
  // other.test was reached (the registry saw the request) and recorded as contacted.
  CHECK(contains(net.log(FakeInternet::Log::Registry), "GET /audit.txt"));
  CHECK_FALSE(contacted_hosts(run.report, "other.test").empty());
  // The private ones were refused as such, and nothing reached the metadata stand-in.
  for (const char* host : {"metadata.test", "loopback.test"}) {
    auto refused = refused_hosts(run.report, host);
    REQUIRE(refused.size() == 1);
    CHECK(refused[0].at("reason") == "private-address");
  }
  // Held with the project untouched, and the suggestion beside the report.
  CHECK_FALSE(in_project(s, "generated"));
  CHECK_FALSE(in_project(s, "notes.txt"));
  CHECK(strings_at(run.report, "allow_hosts") == std::vector<std::string>{"other.test:80"});
  CHECK(strings_at(run.report, "expected") ==
        std::vector<std::string>{"generated/**", "notes.txt"});
  std::string file = run.report.at("audit").at("file");
  CHECK(file == run.report.at("staging").at("run_dir").get<std::string>() + "/audit.toml");
  CHECK(contains(read_file(file), "other.test:80"));
  CHECK(contains(run.result.err, "suggested .safeinstall.toml additions: " + file));
}

TEST_CASE("audit: the suggested .safeinstall.toml lets the same command pass without --audit",
          "[audit]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_INSTALL_TEST(who, "curl");
  FakeInternet net(SI_SINK_PATH);
  std::ofstream(net.registry_root() + "/audit.txt") << "needed\n";
  Scenario s(who);
  s.run_behind(net.in_world({}));

  // Without the suggestion the command is refused its host and held.
  auto before = shell(s, kNeeds, {});
  CHECK(before.exit_code() == kExitSuspicious);
  CHECK_FALSE(refused_hosts(before.report, "other.test").empty());

  auto audit = shell(s, kNeeds, {"--audit"});
  REQUIRE(audit.report.is_object());
  REQUIRE(audit.report.contains("audit"));
  host_write(s, ".safeinstall.toml", read_file(audit.report.at("audit").at("file")));

  // In CI a project file that widens the sandbox needs the user's word.
  auto untrusted = shell(s, kNeeds, {});
  CHECK(untrusted.exit_code() == 125);
  auto after = shell(s, kNeeds, {"--trust-project-config"});
  CHECK(after.exit_code() == 0);
  REQUIRE(after.report.is_object());
  CHECK(after.report.at("verdict") == "promoted");
  CHECK(contains(after.result.out, "other 200"));
  CHECK(project_file(s, "generated/sub/a.js") == "a\n");
  CHECK(project_file(s, "notes.txt") == "n\n");
}

TEST_CASE("audit: --yes is refused with --audit before anything runs", "[audit]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  auto run = s.run({"/bin/sh", "-c", "echo x > x.txt"}, {"--audit", "--yes"}, {"CI=true"});
  CHECK(run.exit_code() == 125);
  CHECK(contains(run.result.err, "--yes excludes --audit"));
  CHECK_FALSE(in_project(s, "x.txt"));
  CHECK(run.report.is_null());
}

TEST_CASE("audit: with --no-promote the run is staged, exits 0 and still writes its suggestion",
          "[audit]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  auto run = s.run({"/bin/sh", "-c", "mkdir gen && echo a > gen/a.js && echo n > notes.txt"},
                   {"--audit", "--no-promote"}, {"CI=true"});
  CHECK(run.exit_code() == 0);
  REQUIRE(run.report.is_object());
  CHECK(run.report.at("verdict") == "staged");
  CHECK_FALSE(in_project(s, "gen"));
  CHECK_FALSE(in_project(s, "notes.txt"));
  CHECK(strings_at(run.report, "expected") == std::vector<std::string>{"gen/**", "notes.txt"});
  CHECK(contains(read_file(run.report.at("audit").at("file")), "'gen/**'"));
  // Kept like any staged run: promoting it later needs nothing more.
  auto promoted = subcommand(s, {"promote", run.report.at("run_id").get<std::string>()});
  CHECK(promoted.exit_code == 0);
  CHECK(project_file(s, "gen/a.js") == "a\n");
}
