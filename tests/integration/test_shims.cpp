// `safeinstall setup`: aliases in a real shell at a terminal, and PATH shims in a CI-like
// environment (CI=true, no terminal). Through both only installs run in the sandbox; the
// real npm answers everything else, and a shim never reaches itself.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/integration/harness.h"
#include "tests/integration/project_checks.h"
#include "tests/integration/skip.h"
#include "tests/support/fake_internet.h"
#include "tests/support/npm_registry.h"
#include "tests/support/terminal.h"

using namespace safeinstall::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* kSystemPath = "/usr/local/bin:/usr/bin:/bin";
const std::vector<std::string> kNpmInstall = {"npm",
                                              "install",
                                              "--no-audit",
                                              "--no-fund",
                                              "--no-update-notifier",
                                              "--registry",
                                              "http://registry.test/"};

Who both_users() {
  return GENERATE(Who::Root, Who::Unprivileged);
}

// A file in the scenario's home, owned (with its new parents) by the scenario's user.
void home_write(const Scenario& s, const std::string& relative, const std::string& content) {
  fs::path path = fs::path(s.home()) / relative;
  fs::create_directories(path.parent_path());
  std::ofstream(path) << content;
  for (fs::path p = path; p != fs::path(s.home()); p = p.parent_path())
    REQUIRE(::lchown(p.c_str(), s.uid(), s.uid()) == 0);
}

// The user's own npm profile layer lets the run reach the tests' registry: a shim passes no
// flags of safeinstall's, and a project config that widens egress is refused in CI.
void allow_test_registry(const Scenario& s) {
  home_write(s, ".config/safeinstall/npm.toml", "[network]\nallow = [\"registry.test:80\"]\n");
}

void serve_left_pad(const FakeInternet& net) {
  write_npm_registry(net.registry_root(), "http://registry.test/",
                     {{.name = "left-pad-lite",
                       .version = "1.0.0",
                       .files = {{"index.js", "module.exports = (s) => ' ' + s;\n"}}}});
}

json kept_runs(const Scenario& s) {
  auto listed = subcommand(s, {"runs", "--json"});
  REQUIRE(listed.exit_code == 0);
  return json::parse(listed.out);
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

std::string real_npm_version() {
  RunOptions options;
  options.env_overrides = {std::string("PATH=") + kSystemPath};
  auto result = run({"npm", "--version"}, options);
  REQUIRE(result.exit_code == 0);
  return trimmed(result.out);
}

// `argv` as the scenario's user with PATH = PATH_FIRST:system, in CI mode, no terminal; behind
// `prefix` (the fake internet's world) when given.
RunResult on_path(const Scenario& s, const std::string& path_first,
                  const std::vector<std::string>& argv, const std::vector<std::string>& prefix = {},
                  const std::string& cwd = {}) {
  RunOptions options;
  options.env_overrides = s.base_env();
  options.env_overrides.insert(options.env_overrides.end(), kCleanCiEnv.begin(), kCleanCiEnv.end());
  options.env_overrides.push_back("PATH=" + path_first + ":" + kSystemPath);
  options.cwd = cwd.empty() ? s.project() : cwd;
  options.timeout = std::chrono::seconds(120);
  // env looks the command up on the new PATH, as a shell would.
  std::vector<std::string> command{"/usr/bin/env"};
  command.insert(command.end(), argv.begin(), argv.end());
  if (s.who() == Who::Unprivileged) {
    if (prefix.empty())
      options.as_user = kUnprivilegedUid;
    else
      command = as_user_argv(kUnprivilegedUid, command);
  }
  command.insert(command.begin(), prefix.begin(), prefix.end());
  auto result = run(command, options);
  UNSCOPED_INFO(Catch::Detail::stringify(argv)
                << " with PATH " << path_first << ":...\nexit " << result.exit_code
                << "\nstdout: " << result.out << "\nstderr: " << result.err);
  return result;
}

std::string setup_ci(const Scenario& s) {
  std::string shims = s.root() + "/shims";
  auto setup = subcommand(s, {"setup", "--ci", shims});
  REQUIRE(setup.exit_code == 0);
  CHECK(contains(setup.out, "export PATH=" + shims + ":\"$PATH\""));
  for (const char* tool : {"npm", "npx", "pip", "cargo", "go", "composer"})
    CHECK(::access((shims + "/" + tool).c_str(), X_OK) == 0);
  return shims;
}

// The registry serving left-pad-lite, allowed by the user's npm layer; a project with these
// dependencies; the CI shims. Returns the shims' dir.
std::string shims_for_left_pad(const Scenario& s, const FakeInternet& net,
                               const std::string& dependencies) {
  serve_left_pad(net);
  allow_test_registry(s);
  write_package_json(s, dependencies);
  return setup_ci(s);
}

struct ShellCase {
  std::string shell;   // bash, zsh, fish
  std::string rc;      // relative to the home
  std::string status;  // how the shell names the last exit status
};

}  // namespace

TEST_CASE("CI shims on PATH: npm install and npm ci run in the sandbox and are promoted",
          "[shim][npm]") {
  Who who = both_users();
  SKIP_UNLESS_INSTALL_TEST(who, "npm");
  FakeInternet net(SI_SINK_PATH);
  Scenario s(who);
  std::string shims = shims_for_left_pad(s, net, "\"left-pad-lite\":\"1.0.0\"");

  // Not an install: the real npm, reached through the shim, nothing run in a sandbox.
  auto version = on_path(s, shims, {"npm", "--version"}, net.in_world({}));
  CHECK(version.exit_code == 0);
  CHECK(trimmed(version.out) == real_npm_version());
  CHECK(kept_runs(s).empty());

  auto install = on_path(s, shims, kNpmInstall, net.in_world({}));
  CHECK(install.exit_code == 0);
  CHECK(project_file(s, "node_modules/left-pad-lite/index.js") ==
        "module.exports = (s) => ' ' + s;\n");
  CHECK(in_project(s, "package-lock.json"));
  CHECK(net.wait_for_log(FakeInternet::Log::Registry,
                         "GET /left-pad-lite/-/left-pad-lite-1.0.0.tgz"));
  // Quiet by default: a clean run prints one line, not the receipt.
  CHECK(contains(install.err, "safeinstall: `npm install"));
  CHECK(contains(install.err, "promoted"));
  CHECK(contains(install.err, "reached registry.test"));
  CHECK_FALSE(contains(install.err, "confined:"));
  CHECK_FALSE(contains(install.err, "verdict:"));
  auto runs = kept_runs(s);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].at("project") == s.project());
  CHECK(runs[0].at("state") == "promoted");
  auto report = json::parse(read_file(runs[0].at("report").get<std::string>()));
  CHECK(report.at("verdict") == "promoted");
  CHECK(report.at("command") ==
        json::array({"npm", "install", "--no-audit", "--no-fund", "--no-update-notifier",
                     "--registry", "http://registry.test/"}));

  std::vector<std::string> ci = kNpmInstall;
  ci[1] = "ci";
  auto clean_install = on_path(s, shims, ci, net.in_world({}));
  CHECK(clean_install.exit_code == 0);
  CHECK(in_project(s, "node_modules/left-pad-lite/index.js"));
  CHECK(kept_runs(s).size() == 2);
}

TEST_CASE(
    "CI shims on PATH: npm --prefix . install PKG behind global options is an install, "
    "npm --prefix . --version is not",
    "[shim][npm]") {
  Who who = both_users();
  SKIP_UNLESS_INSTALL_TEST(who, "npm");
  FakeInternet net(SI_SINK_PATH);
  Scenario s(who);
  std::string shims = shims_for_left_pad(s, net, "");

  auto version = on_path(s, shims, {"npm", "--prefix", ".", "--version"}, net.in_world({}));
  CHECK(version.exit_code == 0);
  CHECK(trimmed(version.out) == real_npm_version());
  CHECK(kept_runs(s).empty());

  // Sandboxed, and judged as the install it is: package.json's new dependency is expected.
  std::vector<std::string> install = {"npm", "--prefix", ".", "--loglevel", "warn"};
  install.insert(install.end(), kNpmInstall.begin() + 1, kNpmInstall.end());
  install.insert(install.begin() + 6, "left-pad-lite");
  auto added = on_path(s, shims, install, net.in_world({}));
  CHECK(added.exit_code == 0);
  CHECK(project_file(s, "node_modules/left-pad-lite/index.js") ==
        "module.exports = (s) => ' ' + s;\n");
  CHECK(contains(project_file(s, "package.json"), "\"left-pad-lite\""));
  auto runs = kept_runs(s);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].at("state") == "promoted");
}

TEST_CASE("CI shims in the home directory: an install is refused with why and what to do",
          "[shim][npm]") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  if (which("npm").empty()) {
    WARN("skipped: npm is not installed (scripts/setup.sh installs it)");
    return;
  }
  Scenario s(who);
  std::string shims = setup_ci(s);
  std::string real_npm = fs::canonical(which("npm")).string();

  auto install = on_path(s, shims, {"npm", "install", "left-pad-lite"}, {}, s.home());
  CHECK(install.exit_code == 125);
  CHECK(contains(install.err, "refusing to use " + s.home() +
                                  " as the project directory: it is your home directory"));
  CHECK(contains(install.err, "which the sandbox replaces with a throwaway home"));
  CHECK(contains(install.err, "`npm` installs run in safeinstall's sandbox (safeinstall setup)"));
  CHECK(contains(install.err, "run it in the project's own directory"));
  CHECK(contains(install.err, "call it by its path: "));
  // Nothing ran: no run kept, nothing written into the home.
  CHECK(kept_runs(s).empty());
  CHECK_FALSE(fs::exists(s.home() + "/node_modules"));
  CHECK_FALSE(fs::exists(s.home() + "/package.json"));
  // What is not an install still runs there, and so does npm by the path the hint names.
  CHECK(on_path(s, shims, {"npm", "--version"}, {}, s.home()).exit_code == 0);
  auto hinted = install.err.substr(install.err.find("call it by its path: ") + 21);
  hinted = hinted.substr(0, hinted.find_first_of("\n "));
  CHECK(fs::canonical(hinted) == real_npm);
}

TEST_CASE("CI shims: setup in GitHub Actions names $GITHUB_PATH, and --remove takes the shims away",
          "[shim]") {
  Who who = both_users();
  Scenario s(who);
  std::string shims = s.root() + "/shims";
  auto setup = on_path(s, "/nonexistent", {Installation::get().safeinstall, "setup", "--ci", shims},
                       {"env", "GITHUB_ACTIONS=true"});
  REQUIRE(setup.exit_code == 0);
  CHECK(contains(setup.out, "echo " + shims + " >> \"$GITHUB_PATH\""));
  CHECK(contains(setup.out, "npm      "));
  // A file of the user's in the shim directory is never overwritten, nor removed.
  { std::ofstream(shims + "/notes.txt") << "mine\n"; }
  auto again = subcommand(s, {"setup", "--ci", shims});
  CHECK(again.exit_code == 0);
  auto removed = subcommand(s, {"setup", "--ci", shims, "--remove"});
  CHECK(removed.exit_code == 0);
  CHECK_FALSE(path_exists(shims + "/npm"));
  CHECK(read_file(shims + "/notes.txt") == "mine\n");
  std::ofstream(shims + "/npm") << "#!/bin/sh\necho mine\n";
  auto refused = subcommand(s, {"setup", "--ci", shims});
  CHECK(refused.exit_code == 125);
  CHECK(contains(refused.err, "is not a safeinstall shim"));
  CHECK(read_file(shims + "/npm") == "#!/bin/sh\necho mine\n");
}

TEST_CASE("shim recursion: a shim whose lookup would find itself stops at once", "[shim]") {
  Who who = both_users();
  Scenario s(who);
  std::string shims = setup_ci(s);
  std::string link = s.root() + "/shims-again";
  REQUIRE(::symlink(shims.c_str(), link.c_str()) == 0);

  // Only shims on PATH (the same directory twice, and through a symlink): not found.
  for (const auto& args :
       {std::vector<std::string>{"npm", "--version"}, std::vector<std::string>{"npm", "ci"}}) {
    RunOptions options;
    options.env_overrides = s.base_env();
    options.env_overrides.push_back("PATH=" + shims + ":" + link + ":" + shims);
    options.timeout = std::chrono::seconds(20);
    if (who == Who::Unprivileged) options.as_user = kUnprivilegedUid;
    std::vector<std::string> command{"/usr/bin/env"};
    command.insert(command.end(), args.begin(), args.end());
    auto result = run(command, options);
    INFO(result.err);
    CHECK_FALSE(result.timed_out);
    CHECK(result.exit_code == 127);
    CHECK(contains(result.err, "npm: not found on PATH (besides safeinstall's shims)"));
  }

  // A wrapper that calls npm by name again would loop through the shim: the hop count ends it.
  std::string wrapper = s.root() + "/wrapper";
  fs::create_directories(wrapper);
  std::ofstream(wrapper + "/npm") << "#!/bin/sh\nexec npm \"$@\"\n";
  fs::permissions(wrapper + "/npm", fs::perms(0755));
  auto looped = on_path(s, shims + ":" + wrapper, {"npm", "--version"});
  CHECK_FALSE(looped.timed_out);
  CHECK(looped.exit_code == 125);
  CHECK(contains(looped.err, "entered 32 times"));
}

TEST_CASE("aliases at a terminal: npm --version runs npm, npm install runs in the sandbox",
          "[shim][npm][terminal]") {
  Who who = both_users();
  auto shell = GENERATE(ShellCase{"bash", ".bashrc", "$?"}, ShellCase{"zsh", ".zshrc", "$?"},
                        ShellCase{"fish", ".config/fish/conf.d/safeinstall.fish", "$status"});
  if (which(shell.shell).empty()) {
    WARN("skipped: " << shell.shell << " is not installed (scripts/setup.sh installs it)");
    return;
  }
  SKIP_UNLESS_INSTALL_TEST(who, "npm");
  FakeInternet net(SI_SINK_PATH);
  serve_left_pad(net);
  Scenario s(who);
  allow_test_registry(s);
  write_package_json(s, "\"left-pad-lite\":\"1.0.0\"");
  const std::string users_lines = "# the user's own\nexport KEEP=1\n";
  if (shell.shell != "fish") home_write(s, shell.rc, users_lines);

  // The shell comes from $SHELL.
  std::string shell_path = which(shell.shell);
  auto setup = on_path(s, "/nonexistent", {Installation::get().safeinstall, "setup"},
                       {"env", "SHELL=" + shell_path});
  REQUIRE(setup.exit_code == 0);
  CHECK(contains(setup.out, s.home() + "/" + shell.rc));
  std::string rc = read_file(s.home() + "/" + shell.rc);
  CHECK(contains(rc, "# >>> safeinstall setup >>>"));
  auto again = on_path(s, "/nonexistent", {Installation::get().safeinstall, "setup"},
                       {"env", "SHELL=" + shell_path});
  CHECK(contains(again.out, "already set up"));
  CHECK(read_file(s.home() + "/" + shell.rc) == rc);

  std::string script = "type npm; npm --version; echo version-exit=" + shell.status + "; ";
  for (const auto& word : kNpmInstall) script += word + " ";
  script += "; echo install-exit=" + shell.status;
  std::vector<std::string> argv{shell_path, "-i", "-c", script};
  if (who == Who::Unprivileged) argv = as_user_argv(kUnprivilegedUid, argv);
  TerminalOptions options;
  options.env = s.base_env();
  options.env.insert(options.env.end(),
                     {"PATH=" + std::string(kSystemPath), "TERM=dumb", "SHELL=" + shell_path,
                      "http_proxy=", "https_proxy=", "HTTP_PROXY=", "HTTPS_PROXY="});
  options.cwd = s.project();
  options.timeout = std::chrono::seconds(120);
  auto result = run_on_terminal(net.in_world(argv), options);
  INFO(shell.shell << " at a terminal:\n" << result.out);
  CHECK(contains(result.out, "version-exit=0"));
  CHECK(contains(result.out, real_npm_version()));
  CHECK(contains(result.out, "install-exit=0"));
  CHECK(contains(result.out, s.home() + "/.local/share/safeinstall/shims/npm"));
  CHECK(project_file(s, "node_modules/left-pad-lite/index.js") ==
        "module.exports = (s) => ' ' + s;\n");
  auto runs = kept_runs(s);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].at("state") == "promoted");

  auto removed = subcommand(s, {"setup", "--remove"});
  CHECK(removed.exit_code == 0);
  if (shell.shell == "fish") {
    CHECK_FALSE(path_exists(s.home() + "/" + shell.rc));
  } else {
    CHECK(read_file(s.home() + "/" + shell.rc) == users_lines);
  }
  CHECK_FALSE(path_exists(s.home() + "/.local/share/safeinstall/shims/npm"));
}
