// The package policy against the real npm and the tests' own registry: a version younger than
// min_release_age, a new direct dependency outside the allow-list and a name like a popular
// package each hold the run (exit 121) with a finding that names what it found; an install
// script of a new package is named in the receipt.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/integration/project_checks.h"
#include "tests/integration/skip.h"
#include "tests/support/fake_internet.h"
#include "tests/support/npm_registry.h"

using namespace safeinstall::test;
using nlohmann::json;

namespace {

Who both_users() {
  return GENERATE(Who::Root, Who::Unprivileged);
}

NpmPackage package(const std::string& name, const std::string& version,
                   const std::string& published = {}) {
  return {.name = name,
          .version = version,
          .files = {{"index.js", "module.exports = '" + name + "';\n"}},
          .published = published};
}

std::size_t occurrences(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++count;
  return count;
}

// npm install into a project whose .safeinstall.toml holds `policy`, as the scenario's user,
// against the fake internet's registry.
SandboxRun install(const Scenario& s, const std::string& dependencies, const std::string& policy) {
  write_package_json(s, dependencies);
  host_write(s, ".safeinstall.toml", policy);
  auto run = run_npm(s, {"install"});
  REQUIRE(run.report.is_object());
  return run;
}

}  // namespace

TEST_CASE("package policy: a version published an hour ago is held by min_release_age", "[npm]") {
  Who who = both_users();
  SKIP_UNLESS_INSTALL_TEST(who, "npm");
  FakeInternet net(SI_SINK_PATH);
  write_npm_registry(
      net.registry_root(), "http://registry.test/",
      {package("aged", "1.0.0"), package("fresh", "2.0.0", npm_published_ago(3600))});
  Scenario s(who);
  s.run_behind(net.in_world({}));
  auto run =
      install(s, "\"aged\":\"1.0.0\",\"fresh\":\"2.0.0\"", "[policy]\nmin_release_age = \"3d\"\n");
  CHECK(run.exit_code() == kExitSuspicious);
  CHECK(run.report.at("verdict") == "held");
  auto too_new = findings_of_kind(run.report, "too-new");
  REQUIRE(too_new.size() == 1);
  CHECK(too_new[0].at("severity") == "medium");
  CHECK(too_new[0].at("package") == "fresh@2.0.0");
  CHECK(too_new[0].at("detail") == "fresh@2.0.0 was published 1 h ago; min_release_age is 3d");
  CHECK(contains(run.result.err, "fresh@2.0.0 was published 1 h ago"));
  // npm asked for each packument once, and safeinstall once more, after the command.
  const std::string log = net.log(FakeInternet::Log::Registry);
  CHECK(occurrences(log, "GET /fresh ") == 2);
  CHECK(occurrences(log, "GET /aged ") == 2);
  CHECK_FALSE(in_project(s, "node_modules/fresh/index.js"));
}

TEST_CASE("package policy: an old enough version and an excluded one pass", "[npm]") {
  Who who = both_users();
  SKIP_UNLESS_INSTALL_TEST(who, "npm");
  FakeInternet net(SI_SINK_PATH);
  write_npm_registry(
      net.registry_root(), "http://registry.test/",
      {package("aged", "1.0.0"), package("@myorg/fresh", "2.0.0", npm_published_ago(60))});
  Scenario s(who);
  s.run_behind(net.in_world({}));
  auto run = install(s, "\"aged\":\"1.0.0\",\"@myorg/fresh\":\"2.0.0\"",
                     "[policy]\nmin_release_age = \"3d\"\n"
                     "[policy.npm]\nmin_release_age_exclude = [\"@myorg/*\"]\n");
  CHECK(run.exit_code() == 0);
  CHECK(findings_of_kind(run.report, "too-new").empty());
  CHECK(in_project(s, "node_modules/@myorg/fresh/index.js"));
}

TEST_CASE(
    "package policy: a new root dependency outside allow_packages and allow_maintainers is held",
    "[npm]") {
  Who who = both_users();
  SKIP_UNLESS_INSTALL_TEST(who, "npm");
  FakeInternet net(SI_SINK_PATH);
  NpmPackage by_alice = package("alices-lib", "1.0.0");
  by_alice.maintainers = {"alice"};
  NpmPackage by_mallory = package("stranger-lib", "1.0.0");
  by_mallory.maintainers = {"mallory"};
  write_npm_registry(net.registry_root(), "http://registry.test/",
                     {package("approved-lib", "1.0.0"), by_alice, by_mallory});
  Scenario s(who);
  s.run_behind(net.in_world({}));
  auto run =
      install(s, "\"approved-lib\":\"1.0.0\",\"alices-lib\":\"1.0.0\",\"stranger-lib\":\"1.0.0\"",
              "[policy]\nallow_packages = [\"approved-*\"]\nallow_maintainers = [\"alice\"]\n");
  CHECK(run.exit_code() == kExitSuspicious);
  auto unapproved = findings_of_kind(run.report, "unapproved-dependency");
  REQUIRE(unapproved.size() == 1);
  CHECK(unapproved[0].at("package") == "stranger-lib@1.0.0");
  CHECK(unapproved[0].at("severity") == "medium");
  CHECK(unapproved[0].at("detail") ==
        "stranger-lib@1.0.0 is a new direct dependency outside [policy] allow_packages and "
        "allow_maintainers");
  // Only a package the name list does not allow sends for its maintainers.
  // npm asks for each packument once; safeinstall asks only for alices-lib's maintainers.
  const std::string log = net.log(FakeInternet::Log::Registry);
  CHECK(occurrences(log, "GET /alices-lib ") == 2);
  CHECK(occurrences(log, "GET /stranger-lib ") == 2);
  CHECK(occurrences(log, "GET /approved-lib ") == 1);
}

TEST_CASE("package policy: a dependency named like lodash is held as a typosquat", "[npm]") {
  Who who = both_users();
  SKIP_UNLESS_INSTALL_TEST(who, "npm");
  FakeInternet net(SI_SINK_PATH);
  write_npm_registry(net.registry_root(), "http://registry.test/", {package("lodahs", "4.17.21")});
  Scenario s(who);
  s.run_behind(net.in_world({}));
  auto run = install(s, "\"lodahs\":\"4.17.21\"", "");
  CHECK(run.exit_code() == kExitSuspicious);
  auto typosquats = findings_of_kind(run.report, "typosquat");
  REQUIRE(typosquats.size() == 1);
  CHECK(typosquats[0].at("package") == "lodahs@4.17.21");
  CHECK(contains(typosquats[0].at("detail").get<std::string>(), "popular package lodash"));
  CHECK(contains(run.result.err,
                 "medium typosquat: lodahs@4.17.21 is named like the popular package lodash"));
}

TEST_CASE("package policy: a new package's install script is named, held when not allowed",
          "[npm]") {
  Who who = both_users();
  SKIP_UNLESS_INSTALL_TEST(who, "npm");
  FakeInternet net(SI_SINK_PATH);
  auto scripted = [](const std::string& name) {
    NpmPackage p = package(name, "1.0.0");
    p.scripts = {{"postinstall", "node -e 0"}};
    return p;
  };
  write_npm_registry(net.registry_root(), "http://registry.test/",
                     {scripted("builder-a"), scripted("builder-b")});
  Scenario s(who);
  s.run_behind(net.in_world({}));
  write_package_json(s, "\"builder-a\":\"1.0.0\",\"builder-b\":\"1.0.0\"");
  host_write(s, ".safeinstall.toml", "[scripts]\nallow = [\"builder-a@1\"]\n");
  // npm runs no script at all: only the lockfile says which packages have one.
  auto run = run_npm(s, {"install", "--ignore-scripts"}, {});
  REQUIRE(run.report.is_object());
  CHECK(run.exit_code() == kExitSuspicious);
  auto scripts = findings_of_kind(run.report, "unlisted-script");
  REQUIRE(scripts.size() == 2);
  auto of = [&](const std::string& id) {
    for (const auto& f : scripts) {
      if (f.at("package") == id) return f;
    }
    FAIL("no script finding for " << id);
    return json();
  };
  CHECK(of("builder-a@1.0.0").at("severity") == "info");
  json b = of("builder-b@1.0.0");
  CHECK(b.at("severity") == "medium");
  CHECK(b.at("detail") ==
        "builder-b@1.0.0 has an install script, which --scripts allow:builder-a does not allow");
  CHECK(contains(run.result.err, "builder-a@1.0.0 has an install script"));
}
