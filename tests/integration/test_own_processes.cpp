// The sandbox's own pid 1 and what it holds, tried from inside as a hostile install would:
// its environment, its descriptors (the invoker's, the project lock, the seccomp listener),
// its memory and its signals. Each attempt must fail; the supervisor must keep recording and
// finish the run. Each test runs as root and as an unprivileged user.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "tests/integration/harness.h"
#include "tests/integration/project_checks.h"
#include "tests/integration/skip.h"

using namespace safeinstall::test;

namespace {

Who both_users() {
  return GENERATE(Who::Root, Who::Unprivileged);
}

bool refused(const SandboxRun& run) {
  return run.denied_with("EACCES") || run.denied_with("EPERM");
}

std::string probe_script(const Scenario& s, const std::string& steps) {
  return "p=" + s.probe_in_project() + "; " + steps;
}

}  // namespace

TEST_CASE("pid 1 does not show the invoker's environment") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  auto pid1_env = s.probe({"read", "/proc/1/environ"});
  CHECK(refused(pid1_env));
  CHECK(pid1_env.result.out.find(kCanaryToken) == std::string::npos);
  // The same through a shell, as the attack was first seen.
  auto shell = s.run({"/bin/sh", "-c", "tr '\\0' '\\n' </proc/1/environ; cat /proc/1/environ"});
  CHECK(shell.result.out.find(kCanaryToken) == std::string::npos);
  CHECK(shell.result.out.find("GITHUB_TOKEN") == std::string::npos);
  // Control: a process of the same user on the host can read its own.
  CHECK(s.probe_on_host({"read", "/proc/self/environ"}).exit_code == 0);
}

TEST_CASE("pid 1 holds no descriptor the command could re-open through /proc") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  std::string secret = s.home() + "/.ssh/id_ed25519";
  // The invoker's shell left a secret open on fd 9, as `exec 9<~/.ssh/id_rsa` does.
  s.run_behind({"/bin/sh", "-c", "exec 9<\"$0\"; exec \"$@\"", secret});
  auto fds = s.probe({"proc-fds", "1"});
  INFO(fds.probe_line);
  CHECK(refused(fds));
  auto direct = s.probe({"read", "/proc/1/fd/9"});
  CHECK_FALSE(direct.probe_ok());
  CHECK(direct.result.out.find(kCanarySecret) == std::string::npos);
  auto thread = s.probe({"read", "/proc/1/task/1/fd/9"});
  CHECK_FALSE(thread.probe_ok());
  // The project lock, the seccomp listener and the invoker's fd 9 are not the command's
  // either: it starts with stdin, stdout and stderr only.
  auto own = s.probe({"own-fds"});
  CHECK(own.probe_line == "OK ");
}

TEST_CASE("pid 1's memory cannot be opened, read or written") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  CHECK(refused(s.probe({"open-rw", "/proc/1/mem"})));
  CHECK(refused(s.probe({"read", "/proc/1/mem"})));
  CHECK(refused(s.probe({"read", "/proc/1/syscall"})));
  CHECK(refused(s.probe({"open-rw", "/proc/1/task/1/mem"})));
  auto write = s.probe({"process-vm-write", "1"});
  CHECK(write.denied_with("EPERM"));
  auto refusals = violations_of_kind(write.report, "syscall");
  REQUIRE(refusals.size() == 1);
  CHECK(refusals[0].at("detail").get<std::string>().find("process_vm_writev") != std::string::npos);
}

TEST_CASE("signals from the command to pid 1 neither hang nor blind the run") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  // SIGSTOP and SIGKILL, then every catchable signal pid 1 forwards: the run must still
  // end on its own, with the command's exit code and its execs recorded.
  auto run = s.run({"/bin/sh", "-c",
                    probe_script(s,
                                 "$p signal 1 19; $p signal 1 9; $p signal 1 15; "
                                 "$p signal 1 1; $p signal 1 10; exec $p exit 7")},
                   {"--timeout", "60"});
  CHECK(run.exit_code() == 7);
  CHECK_FALSE(run.report.value("timed_out", false));
  std::size_t probes = 0;
  for (const auto& p : run.report.at("processes")) {
    const auto& argv = p.at("argv");
    if (argv.size() > 1 && argv[1] == "signal") ++probes;
  }
  CHECK(probes == 5);
}
