// `safeinstall check` against a real run on the same host, as root and as an unprivileged
// user: the check tries the staging overlay and loopback with the launch's own code, so what
// it reports is what a run then finds.
#include <catch2/catch.hpp>
#include <sstream>
#include <string>

#include "tests/integration/harness.h"
#include "tests/integration/project_checks.h"

using namespace safeinstall::test;

namespace {

// "ok", "warn" or "FAIL" of the check line whose description starts with `description`; empty
// when no line has it.
std::string status_of(const std::string& check_output, const std::string& description) {
  std::istringstream lines(check_output);
  for (std::string line; std::getline(lines, line);) {
    // "ok    description  detail": a status of four columns, two spaces, the description.
    if (line.size() > 6 && line.compare(6, description.size(), description) == 0)
      return line.substr(0, line.find(' '));
  }
  return {};
}

}  // namespace

TEST_CASE("check and a run agree on the staging overlay and loopback", "[check]") {
  const Who who = GENERATE(Who::Root, Who::Unprivileged);
  Scenario s(who);
  const auto check = subcommand(s, {"--verbose", "check"});
  INFO(name_of(who) << " check:\n" << check.out << check.err);
  const std::string overlay = status_of(check.out, "overlayfs in a user namespace");
  const std::string loopback = status_of(check.out, "loopback up in a new network namespace");
  REQUIRE_FALSE(overlay.empty());
  REQUIRE_FALSE(loopback.empty());
  const bool buildable = check.exit_code == 0;

  // Every run stages the project through the overlay and brings loopback up for the gateway.
  const auto run =
      s.run({"/bin/sh", "-c", "echo made > made.txt"}, {"--expect", "made.txt"}, {"CI=true"});
  INFO("run exit " << run.exit_code() << ", stderr: " << run.result.err);
  const bool promoted = run.exit_code() == 0 && in_project(s, "made.txt");
  if (buildable) CHECK(promoted);
  if (overlay != "ok" || loopback != "ok") CHECK_FALSE(promoted);
}
