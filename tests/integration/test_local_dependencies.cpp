// A local dependency outside the project ("sib": "file:../sib") installed by the real npm
// against the loopback registry: the directory is visible read-only at its own path, the
// link npm makes to it is promoted, the report lists it, and a script's write into it fails
// with EROFS and is recorded as a refused write.
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

TEST_CASE("local dependencies: npm installs file:../sib, read-only, and promotes the link",
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
      R"({"name":"demo","version":"1.0.0","dependencies":{"sib":"file:../sib","left":"1.0.0"}})");

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
  // npm itself writes nothing into the dependency: nothing refused, nothing recorded.
  CHECK(findings_of_kind(run.report, "refused-write").empty());
  CHECK_FALSE(fs::exists(sib + "/node_modules"));
}

TEST_CASE(
    "local dependencies: a script's writes into file:../sib fail with EROFS and are "
    "recorded with the path and the process",
    "[npm][local-deps]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_INSTALL_TEST(who, "npm");
  FakeInternet net(SI_SINK_PATH);
  write_npm_registry(net.registry_root(), "http://registry.test/", {});
  Scenario s(who);
  s.run_behind(net.in_world({}));
  std::string sib = make_sibling(s);
  // Straight at ../sib, and through the link npm made (node_modules/sib -> ../../sib).
  host_write(
      s, "package.json",
      R"({"name":"demo","version":"1.0.0","dependencies":{"sib":"file:../sib"},)"
      R"("scripts":{"postinstall":"echo planted > ../sib/planted.txt || echo write-refused; )"
      R"(echo hooked >> node_modules/sib/index.js || echo link-write-refused"}})");

  auto run = run_npm(s, {"install"});
  // The script went on after the refusals; only the attempts hold the run.
  CHECK(run.exit_code() == kExitSuspicious);
  REQUIRE(run.report.is_object());
  CHECK(run.report.at("exit_code") == 0);
  CHECK(run.report.at("verdict") == "held");
  CHECK(contains(run.result.out + run.result.err, "Read-only file system"));
  CHECK(contains(run.result.out + run.result.err, "write-refused"));
  CHECK(contains(run.result.out + run.result.err, "link-write-refused"));
  CHECK_FALSE(fs::exists(sib + "/planted.txt"));
  CHECK(read_file(sib + "/index.js") == "module.exports = 'sib';\n");

  auto findings = findings_of_kind(run.report, "refused-write");
  std::vector<std::string> paths;
  for (const auto& f : findings) {
    INFO(f.dump());
    CHECK(f.at("severity") == "high");
    CHECK(contains(f.at("detail").get<std::string>(), "refused (EROFS)"));
    CHECK(contains(f.at("detail").get<std::string>(), "sh -c"));
    paths.push_back(f.at("path"));
  }
  CHECK(std::ranges::find(paths, sib + "/planted.txt") != paths.end());
  CHECK(std::ranges::find(paths, sib + "/index.js") != paths.end());
  // In violations[] as writes, with the process.
  auto writes = violations_of_kind(run.report, "write");
  REQUIRE(writes.size() >= 2);
  for (const auto& v : writes) {
    CHECK(v.at("finding") == "refused-write");
    CHECK(v.at("pid").get<int>() > 1);
  }
  CHECK(contains(run.result.err, "refused-write"));
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
