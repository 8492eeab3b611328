#include <catch2/catch.hpp>

#include "runner/cli.h"

using namespace safeinstall::runner;

namespace {

CommandLine parse(std::vector<const char*> args) {
  args.insert(args.begin(), "safeinstall");
  return parse_command_line(static_cast<int>(args.size()), args.data());
}

}  // namespace

TEST_CASE("cli: the command and its flags pass through verbatim") {
  auto cl = parse({"npm", "ci", "--ignore-scripts"});
  REQUIRE(cl.action == CommandLine::Action::Run);
  CHECK(cl.options.command == std::vector<std::string>{"npm", "ci", "--ignore-scripts"});
}

TEST_CASE("cli: options before the command, with and without --") {
  auto cl = parse({"--project", "/p", "--timeout=5", "-v", "--", "pip", "install", "-r", "r.txt"});
  REQUIRE(cl.action == CommandLine::Action::Run);
  CHECK(cl.options.project == "/p");
  CHECK(cl.options.timeout_seconds == 5.0);
  CHECK(cl.options.verbose);
  CHECK(cl.options.command == std::vector<std::string>{"pip", "install", "-r", "r.txt"});

  auto same = parse({"--report", "r.json", "gem", "install", "--report"});
  CHECK(same.options.report_path == "r.json");
  CHECK(same.options.command == std::vector<std::string>{"gem", "install", "--report"});
}

TEST_CASE("cli: repeated --pass-env collects every name") {
  auto cl = parse({"--pass-env", "NPM_TOKEN", "--pass-env", "GH_TOKEN", "npm", "ci"});
  CHECK(cl.options.pass_env == std::vector<std::string>{"NPM_TOKEN", "GH_TOKEN"});
}

TEST_CASE("cli: an unknown flag fails with 125 and lists the options that exist") {
  auto cl = parse({"--frobnicate", "npm", "ci"});
  REQUIRE(cl.action == CommandLine::Action::Exit);
  CHECK(cl.exit_code == 125);
  CHECK(cl.output_is_error);
  CHECK_THAT(cl.output, Catch::Contains("--frobnicate"));
  CHECK_THAT(cl.output, Catch::Contains("--project"));
}

TEST_CASE("cli: bad values and missing command fail clearly") {
  CHECK(parse({"--timeout", "-3", "true"}).exit_code == 125);
  CHECK(parse({"--timeout", "soon", "true"}).exit_code == 125);
  auto none = parse({"--verbose"});
  CHECK(none.exit_code == 125);
  CHECK_THAT(none.output, Catch::Contains("no command given"));
}

TEST_CASE("cli: check, help and version") {
  CHECK(parse({"check"}).action == CommandLine::Action::Check);
  CHECK(parse({"--", "check"}).action == CommandLine::Action::Run);
  auto help = parse({"--help"});
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.output, Catch::Contains("COMMAND"));
  auto version = parse({"--version"});
  CHECK_THAT(version.output, Catch::StartsWith("safeinstall "));
}

TEST_CASE("cli: a flag before an option that takes a value keeps that value") {
  auto cl = parse({"-q", "--allow-host", "a.test:80", "-v", "--allow-host", "b.test", "npm", "ci"});
  REQUIRE(cl.action == CommandLine::Action::Run);
  CHECK(cl.options.quiet);
  CHECK(cl.options.verbose);
  CHECK(cl.options.allow_hosts == std::vector<std::string>{"a.test:80", "b.test"});
  CHECK(cl.options.command == std::vector<std::string>{"npm", "ci"});
}
