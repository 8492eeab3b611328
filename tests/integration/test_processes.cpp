// The process side of the sandbox: exit codes and signals propagate, what the command leaves
// behind is killed and reported, --timeout kills the whole tree.
#include <signal.h>

#include <boost/process.hpp>
#include <catch2/catch.hpp>
#include <thread>

#include "tests/integration/harness.h"
#include "tests/integration/skip.h"

using namespace safeinstall::test;
using namespace std::chrono_literals;

namespace {

Who both_users() {
  return GENERATE(Who::Root, Who::Unprivileged);
}

bool host_has_process_with(const std::string& needle) {
  auto result = run({"pgrep", "-f", needle});
  return result.exit_code == 0;
}

}  // namespace

TEST_CASE("exit codes propagate") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  CHECK(s.probe({"exit", "0"}).exit_code() == 0);
  auto seven = s.probe({"exit", "7"});
  CHECK(seven.exit_code() == 7);
  CHECK(seven.report.at("exit_code") == 7);
  CHECK(seven.report.at("verdict") == "failed");
  CHECK(s.probe({"kill-self", "9"}).exit_code() == 128 + 9);
  CHECK(s.probe({"kill-self", "15"}).exit_code() == 128 + 15);
  CHECK(s.run({"no-such-command-anywhere"}).exit_code() == 127);
  CHECK(s.run({"/etc/hostname"}).exit_code() == 126);
}

TEST_CASE("arguments after the command pass through verbatim") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  auto run = s.run(
      {"/bin/sh", "-c", "printf '%s|' \"$@\"", "sh", "ci", "--ignore-scripts", "--", "-v", "a b"});
  CHECK(run.result.out == "ci|--ignore-scripts|--|-v|a b|");
}

TEST_CASE("processes left behind are killed and reported as survivors") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  const std::string marker = "987" + std::to_string(::getpid() % 1000);
  auto run = s.run(
      {"/bin/sh", "-c",
       "sleep " + marker + " & " + s.probe_in_project() + " spawn-orphan " + marker + "1; exit 0"});
  CHECK(run.exit_code() == 121);  // survivors hold the run as suspicious
  CHECK(run.report.at("verdict") == "held");
  CHECK_FALSE(host_has_process_with("sleep " + marker));
  CHECK_FALSE(host_has_process_with("spawn-orphan " + marker));
  int survivors = 0;
  for (const auto& p : run.report.at("processes")) {
    if (p.at("survived") == true) ++survivors;
  }
  CHECK(survivors >= 2);
  int violations = 0;
  for (const auto& v : run.report.at("violations")) {
    if (v.at("kind") == "survivor") ++violations;
  }
  CHECK(violations == survivors);
  CHECK(run.result.err.find("survivor:") != std::string::npos);
}

TEST_CASE("a timeout kills the whole tree") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  const std::string marker = "876" + std::to_string(::getpid() % 1000);
  auto started = std::chrono::steady_clock::now();
  auto run =
      s.run({"/bin/sh", "-c", "sleep " + marker + " & sleep " + marker + "1"}, {"--timeout", "1"});
  auto took = std::chrono::steady_clock::now() - started;
  CHECK(run.exit_code() == 124);
  CHECK(took < 10s);
  CHECK(run.report.at("timed_out") == true);
  CHECK_FALSE(host_has_process_with("sleep " + marker));
  bool limit = false;
  for (const auto& v : run.report.at("violations")) limit = limit || v.at("kind") == "limit";
  CHECK(limit);
}

TEST_CASE("SIGTERM reaches the command - a second one kills the sandbox") {
  SKIP_UNLESS_SANDBOX(Who::Root);
  Scenario s(Who::Root);
  namespace bp = boost::process;
  std::vector<std::string> args{"--project",          s.project(), "--",
                                s.probe_in_project(), "sleep",     "60"};
  bp::environment env = boost::this_process::environment();
  env["SAFEINSTALL_PROFILE_DIR"] = Installation::get().profiles;
  env["HOME"] = s.home();

  SECTION("one SIGTERM: the command dies of it") {
    bp::child child(Installation::get().safeinstall, bp::args(args), env, bp::std_out > bp::null,
                    bp::std_err > bp::null);
    std::this_thread::sleep_for(700ms);
    ::kill(child.id(), SIGTERM);
    REQUIRE(child.wait_for(10s));
    CHECK(child.exit_code() == 128 + SIGTERM);
  }
  SECTION("a command that ignores SIGTERM is killed by the second one") {
    std::vector<std::string> stubborn{"--project", s.project(), "--",
                                      "/bin/sh",   "-c",        "trap '' TERM; sleep 60"};
    bp::child child(Installation::get().safeinstall, bp::args(stubborn), env,
                    bp::std_out > bp::null, bp::std_err > bp::null);
    std::this_thread::sleep_for(700ms);
    ::kill(child.id(), SIGTERM);
    CHECK_FALSE(child.wait_for(1s));
    ::kill(child.id(), SIGTERM);
    REQUIRE(child.wait_for(10s));
    CHECK(child.exit_code() == 128 + SIGKILL);
  }
}
