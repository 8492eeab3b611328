// go through the whole pipeline — sandbox, gateway, staging, verdict, promotion — against a
// GOPROXY file tree the test serves in its own fake internet. Go runs no code of a module
// while resolving, downloading or building it (no install hooks; cgo only compiles), so the
// hostile case is the one Go does have: resolution that leaves the allowed proxy for a host
// the attacker names (a dependency on a module path under evil.test with `,direct`).
#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/integration/harness.h"
#include "tests/integration/project_checks.h"
#include "tests/integration/skip.h"
#include "tests/support/ecosystem_registries.h"
#include "tests/support/fake_internet.h"

using namespace safeinstall::test;
using namespace std::chrono_literals;

namespace {

std::vector<GoModule> modules() {
  return {{.path = "example.test/upper",
           .version = "v0.1.0",
           .files = {{"upper.go", "package upper\n\nconst Name = \"upper\"\n"}}},
          {.path = "example.test/greet",
           .version = "v1.1.0",
           .files = {{"greet.go",
                      "package greet\n\nimport \"example.test/upper\"\n\n"
                      "func Hello() string { return \"hello 1.1 \" + upper.Name }\n"}},
           .requires_modules = {{"example.test/upper", "v0.1.0"}}}};
}

void write_project(const Scenario& s, const std::string& extra_require = "") {
  host_write(
      s, "go.mod",
      "module example.test/app\n\ngo 1.19\n\nrequire example.test/greet v1.1.0\n" + extra_require);
  host_write(s, "main.go",
             "package main\n\nimport (\n\t\"fmt\"\n\t\"example.test/greet\"\n)\n\n"
             "func main() { fmt.Println(greet.Hello()) }\n");
}

SandboxRun go_mod_tidy(const Scenario& s, const std::string& goproxy) {
  std::vector<std::string> env = kCleanCiEnv;
  env.insert(env.end(), {"GOPROXY=" + goproxy, "GOSUMDB=off"});
  auto run = s.run({"go", "mod", "tidy"}, {"--allow-host", "registry.test:80"}, env, 180s);
  UNSCOPED_INFO("go mod tidy\nexit " << run.exit_code() << "\nstdout: " << run.result.out
                                     << "\nstderr: " << run.result.err);
  return run;
}

}  // namespace

TEST_CASE("go mod tidy resolves from the proxy and promotes go.sum", "[install][go]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_INSTALL_TEST(who, "go");
  FakeInternet net(SI_SINK_PATH);
  write_go_proxy(net.registry_root(), modules());
  Scenario s(who);
  s.run_behind(net.in_world({}));
  write_project(s);

  auto tidy = go_mod_tidy(s, "http://registry.test/go");
  CHECK(tidy.exit_code() == 0);
  REQUIRE(tidy.report.is_object());
  CHECK(tidy.report.at("profile") == "go");
  CHECK(tidy.report.at("verdict") == "promoted");
  CHECK(contains(project_file(s, "go.sum"), "example.test/greet v1.1.0 h1:"));
  // The report reads go.sum and go.mod: greet is required directly, upper only indirectly.
  const auto* greet = added_package(tidy.report, "Go", "example.test/greet");
  REQUIRE(greet != nullptr);
  CHECK(greet->at("version") == "v1.1.0");
  CHECK(greet->at("direct") == true);
  const auto* upper = added_package(tidy.report, "Go", "example.test/upper");
  REQUIRE(upper != nullptr);
  CHECK(upper->at("direct") == false);
  CHECK(contains(project_file(s, "go.mod"), "example.test/upper v0.1.0 // indirect"));
  for (const auto& change : tidy.report.at("files").at("project"))
    CHECK(change.at("category") == "expected");
  CHECK_FALSE(contacted_hosts(tidy.report, "registry.test").empty());
  CHECK(contains(net.log(FakeInternet::Log::Registry), "GET /go/example.test/greet/@v/v1.1.0.zip"));
  CHECK(net.sink_log().empty());
}

TEST_CASE("a dependency that sends go to the attacker's host is refused and nothing promoted",
          "[install][go]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_INSTALL_TEST(who, "go");
  FakeInternet net(SI_SINK_PATH);
  write_go_proxy(net.registry_root(), modules());
  Scenario s(who);
  s.run_behind(net.in_world({}));
  write_project(s, "require evil.test/implant v0.0.1\n");
  host_write(s, "implant.go", "package main\n\nimport _ \"evil.test/implant\"\n");
  std::string go_mod_before = project_file(s, "go.mod");

  auto tidy = go_mod_tidy(s, "http://registry.test/go,direct");
  CHECK(tidy.exit_code() != 0);
  REQUIRE(tidy.report.is_object());
  CHECK(tidy.report.at("verdict") != "promoted");
  CHECK(project_file(s, "go.mod") == go_mod_before);
  CHECK_FALSE(in_project(s, "go.sum"));
  // The proxy did not have it, so go went direct: to evil.test, through the gateway, refused.
  CHECK(contains(net.log(FakeInternet::Log::Registry), "GET /go/evil.test/implant/@v/"));
  auto refused = refused_hosts(tidy.report, "evil.test");
  REQUIRE_FALSE(refused.empty());
  CHECK(refused[0].at("reason") == "not-allowed");
  CHECK(contains(tidy.result.err, "evil.test"));
  CHECK_FALSE(contains(net.dns_log(), "evil.test"));
  CHECK(net.sink_log().empty());
}
