// Profiles through the real binary: --profile, `profiles`, `profiles show`, the base notice,
// and the invoker's tool configuration inside the sandbox without its secrets.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "tests/integration/harness.h"
#include "tests/integration/project_checks.h"
#include "tests/integration/skip.h"

using namespace safeinstall::test;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kCi = {"CI=true"};

// `safeinstall --project P ARGS...` as the scenario's user.
RunResult safeinstall_cli(const Scenario& s, const std::vector<std::string>& args) {
  std::vector<std::string> all{"--project", s.project()};
  all.insert(all.end(), args.begin(), args.end());
  return subcommand(s, all);
}

void write_readable(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
  ::chmod(path.c_str(), 0644);
}

}  // namespace

TEST_CASE("safeinstall --profile npm -- true runs under the npm profile", "[profiles]") {
  Who who = Who::Root;
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  auto run = s.run({"true"}, {"--profile", "npm"}, kCi);
  INFO(run.result.err);
  CHECK(run.exit_code() == 0);
  CHECK(run.report.value("profile", "") == "npm");
  CHECK(run.result.err.find("profile:") != std::string::npos);
  CHECK(run.result.err.find("registry.npmjs.org") != std::string::npos);

  auto unmatched = s.run({"true"}, {}, kCi);
  CHECK(unmatched.exit_code() == 0);
  CHECK(unmatched.report.value("profile", "") == "base");
  CHECK(unmatched.result.err.find("no profile matches `true`") != std::string::npos);
}

TEST_CASE("an unknown --profile fails before anything runs and lists the profiles", "[profiles]") {
  Scenario s(Who::Root);
  auto run = safeinstall_cli(s, {"--profile", "nmp", "--", "true"});
  CHECK(run.exit_code == 125);
  CHECK(run.err.find("no profile named `nmp`") != std::string::npos);
  CHECK(run.err.find("npm") != std::string::npos);
}

TEST_CASE("safeinstall profiles and profiles show NAME", "[profiles]") {
  Scenario s(Who::Unprivileged);
  write_readable(s.project() + "/.safeinstall.toml", "[network]\nallow = [\"npm.corp.example\"]\n");
  auto list = safeinstall_cli(s, {"profiles"});
  CHECK(list.exit_code == 0);
  for (const char* name :
       {"npm", "yarn", "yarn-berry", "pnpm", "bun", "pip", "uv", "poetry", "pipenv", "gem",
        "bundler", "cargo", "go", "dotnet", "nuget", "composer", "maven", "gradle"}) {
    CHECK(list.out.find(std::string("\n") + name + " — ") != std::string::npos);
  }
  auto show = safeinstall_cli(s, {"profiles", "show", "npm"});
  CHECK(show.exit_code == 0);
  CHECK(show.out.find("\"registry.npmjs.org\",  # " + Installation::get().profiles +
                      "/npm.toml:") != std::string::npos);
  CHECK(show.out.find("\"npm.corp.example\",  # " + s.project() + "/.safeinstall.toml:2:10") !=
        std::string::npos);

  write_readable(s.project() + "/.safeinstall.toml", "[network]\nallow = [\"not a host\"]\n");
  auto broken = safeinstall_cli(s, {"profiles", "show", "npm"});
  CHECK(broken.exit_code == 125);
  CHECK(broken.err.find(s.project() + "/.safeinstall.toml:2:10: bad host pattern") !=
        std::string::npos);
}

TEST_CASE("the invoker's ~/.npmrc reaches the sandbox without its token", "[profiles]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  const std::string token = "npm_canaryTOKEN42";
  write_readable(
      s.home() + "/.npmrc",
      "registry=https://npm.corp.example/\n//npm.corp.example/:_authToken=" + token + "\n");
  auto run = s.run({"/bin/cat", s.home() + "/.npmrc"}, {"--profile", "npm"}, kCi);
  INFO(run.result.err);
  CHECK(run.exit_code() == 0);
  CHECK(run.result.out.find("registry=https://npm.corp.example/") != std::string::npos);
  CHECK(run.result.out.find(token) == std::string::npos);
  CHECK(run.result.err.find("allowed from ~/.npmrc: npm.corp.example") != std::string::npos);

  auto opted_in = s.run({"/bin/cat", s.home() + "/.npmrc"},
                        {"--profile", "npm", "--credentials", s.home() + "/.npmrc"}, kCi);
  CHECK(opted_in.exit_code() == 0);
  CHECK(opted_in.result.out.find(token) != std::string::npos);
}
