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

// Every leak found in carried configuration at once, read the way a hostile install script
// would: the sandbox's copies, the project's own file and the paths around its mount.
TEST_CASE("no canary of the invoker's or the project's tool configuration reaches the command",
          "[profiles]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  const std::vector<std::string> canaries = {
      "canary-commented-1", "canary-token-2",     "canary-pem-3",    "canary/pass-4",
      "canary/ss-5",        "canary-continued-6", "canary-project-7"};
  write_readable(s.home() + "/.npmrc",
                 "registry=https://npm.corp.example/\n"
                 "# //registry.npmjs.org/:_authToken=canary-commented-1\n"
                 "//npm.corp.example/:_authToken=canary-token-2\n"
                 "key=\"-----BEGIN PRIVATE KEY-----\ncanary-pem-3\n-----END PRIVATE KEY-----\"\n"
                 "@corp:registry=https://me:canary/pass-4@npm.corp.example/\n");
  write_readable(s.home() + "/.config/pip/pip.conf",
                 "[global]\nindex-url = https://u:canary/ss-5@pypi.corp.example/simple\n"
                 "password =\n    canary-continued-6\ntimeout = 30\n");
  const std::string project_npmrc =
      "registry=https://project.example/\n//project.example/:_authToken=canary-project-7\n";
  host_write(s, ".npmrc", project_npmrc);
  const std::string p = s.project();
  // Read the copies, then try every way around the project file's mount: its other names,
  // the overlay's lower dir named in mountinfo, removing, replacing or linking it.
  const std::string script = "cat " + s.home() + "/.npmrc " + s.home() + "/.config/pip/pip.conf " +
                             p + "/.npmrc; " + "cat /proc/self/root" + p + "/.npmrc /proc/1/root" +
                             p + "/.npmrc; " +
                             "grep -o 'lowerdir=[^,]*' /proc/self/mountinfo | while read -r l; do "
                             "cat \"${l#lowerdir=}/.npmrc\"; done; "
                             "cat /oldroot" +
                             p + "/.npmrc; " + "rm -f " + p + "/.npmrc; mv " + p + "/.npmrc " + p +
                             "/moved; " + "ln " + p + "/.npmrc " + p + "/linked; echo replaced > " +
                             p + "/.npmrc; " + "echo made > " + p + "/made.txt; true";
  auto run = s.run({"/bin/sh", "-c", script}, {"--profile", "npm", "--expect", "made.txt"}, kCi);
  INFO(run.result.out << run.result.err);
  CHECK(run.exit_code() == 0);
  for (const auto& canary : canaries) {
    INFO(canary);
    CHECK_FALSE(contains(run.result.out, canary));
    CHECK_FALSE(contains(run.result.err, canary));
    CHECK_FALSE(contains(run.report.dump(), canary));
  }
  CHECK(contains(run.result.out, "registry=https://npm.corp.example/\n"));
  // An index-url whose password holds '/' is ambiguous: dropped whole, never cut.
  CHECK(contains(run.result.out, "[global]\ntimeout = 30\n"));
  CHECK(contains(run.result.out, "registry=https://project.example/\n"));

  // The real file is unchanged; the copy over it is no change, staged or promoted.
  CHECK(project_file(s, ".npmrc") == project_npmrc);
  CHECK(run.report.value("verdict", "") == "promoted");
  const auto& changes = run.report["files"]["project"];
  CHECK(change_at(changes, ".npmrc") == nullptr);
  CHECK(change_at(changes, "moved") == nullptr);
  CHECK(change_at(changes, "linked") == nullptr);
  CHECK(change_at(changes, "made.txt") != nullptr);
  CHECK(project_file(s, "made.txt") == "made\n");
  CHECK_FALSE(in_project(s, "moved"));
  CHECK_FALSE(in_project(s, "linked"));

  // The report names what was withheld, file by file.
  bool project_named = false;
  for (const auto& entry : run.report["config_dropped"]) {
    if (entry.value("file", "") != ".npmrc (in the project)") continue;
    project_named = entry["keys"] == nlohmann::json::array({"//project.example/:_authToken"});
  }
  CHECK(project_named);

  // Named with --credentials, the project's file passes as it is.
  auto opted_in =
      s.run({"/bin/cat", p + "/.npmrc"}, {"--profile", "npm", "--credentials", p + "/.npmrc"}, kCi);
  CHECK(opted_in.exit_code() == 0);
  CHECK(contains(opted_in.result.out, "canary-project-7"));
}

TEST_CASE("profiles: a host pattern over a whole public suffix is refused unless --allow-broad",
          "[profiles]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  auto broad = s.run({"/bin/true"}, {"--allow-host", "*.com"}, kCleanCiEnv);
  CHECK(broad.exit_code() == 125);
  CHECK(broad.result.err.find("*.com:443 allows every host under the public suffix com") !=
        std::string::npos);
  auto uk = s.run({"/bin/true"}, {"--allow-host", "*.co.uk"}, kCleanCiEnv);
  CHECK(uk.exit_code() == 125);
  auto meant = s.run({"/bin/true"}, {"--allow-host", "*.com", "--allow-broad"}, kCleanCiEnv);
  CHECK(meant.exit_code() == 0);
  auto narrow = s.run({"/bin/true"}, {"--allow-host", "*.pythonhosted.org"}, kCleanCiEnv);
  CHECK(narrow.exit_code() == 0);

  // The same from a cloned project's own file, named by file:line:col.
  write_readable(s.project() + "/.safeinstall.toml", "[network]\nallow = [\"*.org\"]\n");
  auto cloned = s.run({"/bin/true"}, {"--trust-project-config"}, kCleanCiEnv);
  CHECK(cloned.exit_code() == 125);
  CHECK(cloned.result.err.find(s.project() + "/.safeinstall.toml:2:10: *.org:443 allows every") !=
        std::string::npos);
}

TEST_CASE("profiles: a project config that widens the sandbox is shown, and in CI needs trust",
          "[profiles]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  write_readable(s.project() + "/.safeinstall.toml",
                 "[network]\nallow = [\"npm.corp.example\"]\n[files]\nexpected = [\"dist/**\"]\n");
  auto refused = s.run({"/bin/sh", "-c", "echo ran > ran.txt"}, {}, kCleanCiEnv);
  CHECK(refused.exit_code() == 125);
  CHECK(refused.result.err.find("widens the sandbox (hosts npm.corp.example; expected writes "
                                "dist/**)") != std::string::npos);
  CHECK(refused.result.err.find("--trust-project-config") != std::string::npos);
  CHECK_FALSE(path_exists(s.project() + "/ran.txt"));

  auto trusted = s.run({"/bin/sh", "-c", "mkdir -p dist && echo ok > dist/x"},
                       {"--trust-project-config"}, kCleanCiEnv);
  CHECK(trusted.exit_code() == 0);
  CHECK(trusted.result.err.find("project config adds: hosts npm.corp.example; expected writes "
                                "dist/**") != std::string::npos);
  CHECK(read_file(s.project() + "/dist/x") == "ok\n");
}

TEST_CASE("profiles: a project config that accepts auto-run files widens the sandbox",
          "[profiles][autorun]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  write_readable(s.project() + "/.safeinstall.toml",
                 "[autorun]\naccept = [\".venv/lib/python3.11/site-packages/x.pth sha256:" +
                     std::string(64, 'a') + "\"]\n");
  auto refused = s.run({"/bin/true"}, {}, kCleanCiEnv);
  CHECK(refused.exit_code() == 125);
  CHECK(refused.result.err.find("widens the sandbox (accepted auto-run files "
                                ".venv/lib/python3.11/site-packages/x.pth)") != std::string::npos);
  auto trusted = s.run({"/bin/true"}, {"--trust-project-config"}, kCleanCiEnv);
  CHECK(trusted.exit_code() == 0);
}
