#include <catch2/catch.hpp>

#include "runner/cli/cli.h"

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
  CHECK(cl.options.quiet == 1);
  CHECK(cl.options.verbose);
  CHECK(parse({"-qq", "true"}).options.quiet == 2);
  CHECK(parse({"-q", "--quiet", "true"}).options.quiet == 2);
  CHECK(parse({"true"}).options.quiet == 0);
  CHECK(cl.options.allow_hosts == std::vector<std::string>{"a.test:80", "b.test"});
  CHECK(cl.options.command == std::vector<std::string>{"npm", "ci"});
}

TEST_CASE("cli: staging flags") {
  auto cl = parse({"--no-promote", "--yes", "--allow-protected", "--promote-on-failure", "--expect",
                   "dist/**", "--expect=*.map", "npm", "ci", "--yes"});
  REQUIRE(cl.action == CommandLine::Action::Run);
  CHECK(cl.options.no_promote);
  CHECK(cl.options.yes);
  CHECK(cl.options.allow_protected);
  CHECK(cl.options.promote_on_failure);
  CHECK(cl.options.expect == std::vector<std::string>{"dist/**", "*.map"});
  // The command's own --yes stays the command's.
  CHECK(cl.options.command == std::vector<std::string>{"npm", "ci", "--yes"});

  auto plain = parse({"npm", "ci"});
  CHECK_FALSE(plain.options.no_promote);
  CHECK_FALSE(plain.options.yes);
  CHECK_FALSE(plain.options.allow_protected);
  CHECK(plain.options.expect.empty());
  CHECK(parse({"-y", "npm", "ci"}).options.yes);
}

TEST_CASE("cli: run subcommands") {
  CHECK(parse({"runs"}).action == CommandLine::Action::Runs);
  auto mine = parse({"runs", "--project", "/srv/app", "--json"});
  CHECK(mine.options.project == "/srv/app");
  CHECK(mine.json);
  CHECK_FALSE(mine.runs_show);
  auto show = parse({"runs", "show", "20261122T084513Z-bb51a180"});
  REQUIRE(show.action == CommandLine::Action::Runs);
  CHECK(show.runs_show);
  CHECK(show.run_id == "20261122T084513Z-bb51a180");
  CHECK(parse({"runs", "show"}).action == CommandLine::Action::Exit);  // RUN_ID is required
  auto promote = parse({"promote", "20261122T084513Z-bb51a180"});
  REQUIRE(promote.action == CommandLine::Action::Promote);
  CHECK(promote.run_id == "20261122T084513Z-bb51a180");
  CHECK_FALSE(promote.options.allow_protected);
  CHECK(parse({"promote", "--allow-protected", "X"}).options.allow_protected);
  CHECK(parse({"promote", "X", "--allow-protected"}).options.allow_protected);
  CHECK(parse({"--allow-protected", "promote", "X"}).options.allow_protected);
  auto discard = parse({"discard", "X"});
  REQUIRE(discard.action == CommandLine::Action::Discard);
  CHECK(discard.run_id == "X");

  auto gc = parse({"gc"});
  REQUIRE(gc.action == CommandLine::Action::Gc);
  CHECK_FALSE(gc.gc_all);
  CHECK(gc.gc_older_than_days == 7.0);
  auto all = parse({"gc", "--all", "--older-than", "0.5"});
  CHECK(all.gc_all);
  CHECK(all.gc_older_than_days == 0.5);

  // After --, a command that happens to be called like a subcommand runs as a command.
  auto command = parse({"--", "promote", "X"});
  CHECK(command.action == CommandLine::Action::Run);
  CHECK(command.options.command == std::vector<std::string>{"promote", "X"});
}

TEST_CASE("cli: subcommands refuse missing or extra arguments clearly") {
  auto missing = parse({"promote"});
  REQUIRE(missing.action == CommandLine::Action::Exit);
  CHECK(missing.exit_code == 125);
  CHECK_THAT(missing.output, Catch::Contains("RUN_ID"));
  CHECK(parse({"discard"}).exit_code == 125);
  CHECK(parse({"promote", "X", "Y"}).exit_code == 125);
  CHECK(parse({"runs", "extra"}).exit_code == 125);
  CHECK(parse({"gc", "--older-than", "-1"}).exit_code == 125);
  CHECK(parse({"gc", "--frobnicate"}).exit_code == 125);
}

TEST_CASE("cli: help lists the subcommands and the staging exit codes") {
  auto help = parse({"--help"});
  CHECK_THAT(help.output, Catch::Contains("safeinstall promote"));
  CHECK_THAT(help.output, Catch::Contains("safeinstall gc"));
  CHECK_THAT(help.output, Catch::Contains("122 held"));
  CHECK_THAT(help.output, Catch::Contains("121 held as suspicious"));
  CHECK_THAT(help.output, Catch::Contains("123 rejected"));
  CHECK_THAT(help.output, Catch::Contains("--no-promote"));
}

TEST_CASE("cli: --no-decoys turns the decoy credentials off for one run") {
  CHECK(parse({"--no-decoys", "npm", "ci"}).options.no_decoys);
  CHECK_FALSE(parse({"npm", "ci", "--no-decoys"}).options.no_decoys);  // npm's argument
}

TEST_CASE("cli: scan, db import and db check") {
  auto scan = parse({"scan", "--package", "a@1.0.0", "--package", "@s/b", "--json", "/p1", "/p2"});
  REQUIRE(scan.action == CommandLine::Action::Scan);
  CHECK(scan.scan.packages == std::vector<std::string>{"a@1.0.0", "@s/b"});
  CHECK(scan.scan.paths == std::vector<std::string>{"/p1", "/p2"});
  CHECK(scan.scan.json);
  CHECK(scan.scan.runs);
  auto no_runs = parse({"scan", "--db", "/osv", "--no-runs", "/p"});
  CHECK(no_runs.scan.db == "/osv");
  CHECK_FALSE(no_runs.scan.runs);
  auto help = parse({"scan", "--help"});
  CHECK(help.action == CommandLine::Action::Exit);
  CHECK(help.exit_code == 0);
  CHECK(help.output.find("MAL-") != std::string::npos);

  auto import = parse({"db", "import", "--into", "/db", "a.zip", "dir"});
  REQUIRE(import.action == CommandLine::Action::DbImport);
  CHECK(import.db_dir == "/db");
  CHECK(import.db_sources == std::vector<std::string>{"a.zip", "dir"});
  auto check = parse({"db", "check", "--db", "/db", "package-lock.json"});
  REQUIRE(check.action == CommandLine::Action::DbCheck);
  CHECK(check.db_sources == std::vector<std::string>{"package-lock.json"});
  auto bad = parse({"db", "export"});
  CHECK(bad.action == CommandLine::Action::Exit);
  CHECK(bad.exit_code == 125);
  auto osv = parse({"--osv-db", "/osv", "npm", "ci"});
  CHECK(osv.options.osv_db == "/osv");
  CHECK(osv.options.command == std::vector<std::string>{"npm", "ci"});
}

TEST_CASE("cli: numeric options out of range say the range in the option's unit") {
  auto zero = parse({"--timeout", "0", "npm", "ci"});
  REQUIRE(zero.action == CommandLine::Action::Exit);
  CHECK(zero.exit_code == 125);
  CHECK_THAT(zero.output, Catch::Contains("--timeout: must be between 1 s and 7 d"));
  CHECK_THAT(zero.output, Catch::Contains("got 0"));
  // Not the limits of a double.
  CHECK_THAT(zero.output, !Catch::Contains("1.79769"));
  CHECK_THAT(zero.output, !Catch::Contains("2.22507"));
  CHECK_THAT(parse({"--timeout", "soon", "true"}).output, Catch::Contains("got soon"));
  CHECK_THAT(parse({"--timeout", "inf", "true"}).output, Catch::Contains("got inf"));
  CHECK(parse({"--timeout", "604800", "true"}).action == CommandLine::Action::Run);
  CHECK(parse({"--timeout", "604801", "true"}).exit_code == 125);
  CHECK_THAT(parse({"--cpu-time", "0", "true"}).output,
             Catch::Contains("--cpu-time: must be between 1 s and 7 d"));
  CHECK_THAT(parse({"--pids", "0", "true"}).output,
             Catch::Contains("--pids: must be a whole number between 1 and 4194304, got 0"));
  CHECK_THAT(parse({"--pids", "2.5", "true"}).output, Catch::Contains("got 2.5"));
  CHECK(parse({"--pids", "512", "true"}).options.pids == 512);
  CHECK_THAT(parse({"--files", "-1", "true"}).output,
             Catch::Contains("--files: must be a whole number between 1 and"));
  auto gc = parse({"gc", "--older-than", "-1"});
  CHECK(gc.exit_code == 125);
  CHECK_THAT(gc.output, Catch::Contains("--older-than: must be between 0 and 36500 days, got -1"));
  CHECK(parse({"gc", "--older-than", "0"}).action == CommandLine::Action::Gc);
  // A long pasted value is cut short in the error.
  std::string digits(300, '9');
  auto huge = parse({"--timeout", digits.c_str(), "true"});
  CHECK(huge.exit_code == 125);
  CHECK(huge.output.find(digits) == std::string::npos);
}

TEST_CASE("cli: --format takes sarif, markdown or json") {
  CHECK(parse({"--format", "sarif", "npm", "ci"}).options.format == "sarif");
  CHECK(parse({"--format=json", "npm", "ci"}).options.format == "json");
  CHECK(parse({"--format", "markdown", "npm", "ci"}).options.format == "markdown");
  CHECK(parse({"npm", "ci"}).options.format.empty());
  auto bad = parse({"--format", "xml", "npm", "ci"});
  CHECK(bad.exit_code == 125);
  CHECK_THAT(bad.output, Catch::Contains("--format"));
}

TEST_CASE("cli: a range error is the error alone, not buried under the help") {
  auto zero = parse({"--timeout", "0", "npm", "ci"});
  CHECK(zero.output ==
        "safeinstall: --timeout: must be between 1 s and 7 d (604800 s), got 0\n"
        "(safeinstall --help lists the options)\n");
}
