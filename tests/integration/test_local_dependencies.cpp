// A local dependency outside the project ("sib": "file:../sib") installed by the real npm
// against the loopback registry: the directory is visible read-only at its own path, the
// link npm makes to it is promoted, the report lists it, and a script's write into it fails.
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

// ../sib beside the project, owned by the scenario's user.
std::string make_sibling(const Scenario& s) {
  std::string sib = s.root() + "/sib";
  fs::create_directories(sib);
  std::ofstream(sib + "/package.json") << R"({"name":"sib","version":"1.0.0"})"
                                       << "\n";
  std::ofstream(sib + "/index.js") << "module.exports = 'sib';\n";
  for (const auto& p : {sib, sib + "/package.json", sib + "/index.js"})
    REQUIRE(::chown(p.c_str(), s.uid(), s.uid()) == 0);
  return fs::canonical(sib).string();
}

}  // namespace

TEST_CASE("local dependencies: npm installs file:../sib, read-only, and a write into it fails",
          "[npm][local-deps]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_INSTALL_TEST(who, "npm");
  FakeInternet net(SI_SINK_PATH);
  write_npm_registry(net.registry_root(), "http://registry.test/",
                     {{.name = "left",
                       .version = "1.0.0",
                       .files = {{"index.js", "module.exports = 'left';\n"}}}});
  Scenario s(who);
  s.run_behind(net.in_world({}));
  std::string sib = make_sibling(s);
  host_write(
      s, "package.json",
      R"({"name":"demo","version":"1.0.0","dependencies":{"sib":"file:../sib","left":"1.0.0"},)"
      R"("scripts":{"postinstall":"echo planted > ../sib/planted.txt || echo write-refused"}})");

  auto run = run_npm(s, {"install"});
  CHECK(run.exit_code() == 0);
  CHECK(run.report.at("verdict") == "promoted");
  CHECK(run.report.at("sandbox").at("local_dependencies") == json::array({sib}));
  // npm links the directory; the link leaves the project and is promoted all the same.
  const auto* link = change_at(run.report.at("files").at("project"), "node_modules/sib");
  REQUIRE(link != nullptr);
  CHECK_FALSE(has_flag(link, "symlink-escape"));
  CHECK(fs::is_symlink(s.project() + "/node_modules/sib"));
  CHECK(fs::equivalent(s.project() + "/node_modules/sib", sib));
  CHECK(in_project(s, "node_modules/left/index.js"));
  // The postinstall's write into ../sib failed, and nothing reached it.
  CHECK(contains(run.result.out + run.result.err, "Read-only file system"));
  CHECK(contains(run.result.out + run.result.err, "write-refused"));
  CHECK_FALSE(fs::exists(sib + "/planted.txt"));
  CHECK_FALSE(fs::exists(sib + "/node_modules"));
}

TEST_CASE("local dependencies: a manifest naming the project's parent is refused up front",
          "[npm][local-deps]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  host_write(s, "package.json", R"({"name":"demo","dependencies":{"up":"file:.."}})");
  auto run = s.run({"/bin/sh", "-c", "echo ran > ran.txt"}, {}, kCleanCiEnv);
  CHECK(run.exit_code() == 125);
  CHECK(contains(run.result.err, "as a local dependency, but it "));
  CHECK(contains(run.result.err, s.root()));
  CHECK_FALSE(in_project(s, "ran.txt"));
}

TEST_CASE("local dependencies: a kept run's link to ../sib is promoted later by promote RUN_ID",
          "[npm][local-deps]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_INSTALL_TEST(who, "npm");
  FakeInternet net(SI_SINK_PATH);
  write_npm_registry(net.registry_root(), "http://registry.test/", {});
  Scenario s(who);
  s.run_behind(net.in_world({}));
  std::string sib = make_sibling(s);
  host_write(s, "package.json",
             R"({"name":"demo","version":"1.0.0","dependencies":{"sib":"file:../sib"}})");
  auto staged = run_npm(s, {"install"}, {"--no-promote"});
  REQUIRE(staged.report.contains("run_id"));
  CHECK_FALSE(in_project(s, "node_modules/sib"));
  auto promoted = subcommand(s, {"promote", staged.report.at("run_id").get<std::string>()});
  CHECK(promoted.exit_code == 0);
  CHECK(fs::is_symlink(s.project() + "/node_modules/sib"));
  CHECK(fs::equivalent(s.project() + "/node_modules/sib", sib));
}
