// run(), TempDir and the probe's reporting contract: the pieces every integration test leans
// on, checked on the host where no sandbox is involved.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/support/run.h"
#include "tests/support/temp_dir.h"

using namespace safeinstall::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

TEST_CASE("run captures output and exit codes", "[run]") {
  auto result = run({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  CHECK(result.exit_code == 3);
  CHECK_FALSE(result.timed_out);
  CHECK(result.out == "out\n");
  CHECK(result.err == "err\n");
}

TEST_CASE("run reports death by a signal as 128 + signal", "[run]") {
  CHECK(run({"/bin/sh", "-c", "kill -TERM $$"}).exit_code == 128 + 15);
  CHECK(run({SI_PROBE_PATH, "kill-self", "9"}).exit_code == 128 + 9);
}

TEST_CASE("run kills the whole process group on timeout", "[run]") {
  TempDir dir("si-run-test");
  std::string marker = dir.path() + "/survived";
  RunOptions options;
  options.timeout = 300ms;
  auto started = std::chrono::steady_clock::now();
  // The background subshell would create the marker if it outlived the timeout.
  auto result = run({"/bin/sh", "-c", "(sleep 1; touch " + marker + ") & sleep 30"}, options);
  CHECK(result.timed_out);
  CHECK(result.exit_code == 128 + 9);
  CHECK(std::chrono::steady_clock::now() - started < 5s);
  std::this_thread::sleep_for(1500ms);
  CHECK_FALSE(fs::exists(marker));
}

TEST_CASE("run does not wait for a daemon that keeps stdout open", "[run]") {
  RunOptions options;
  options.timeout = 20s;
  auto result = run({"/bin/sh", "-c", "setsid sleep 5 & echo started"}, options);
  CHECK(result.exit_code == 0);
  CHECK_FALSE(result.timed_out);
  CHECK(result.out == "started\n");
  CHECK(result.elapsed < 3s);
}

TEST_CASE("run feeds stdin, edits the environment and changes directory", "[run]") {
  TempDir dir("si-run-test");
  RunOptions options;
  options.stdin_data = std::string(200000, 'x');  // more than a pipe holds
  CHECK(run({"/usr/bin/wc", "-c"}, options).out == "200000\n");

  ::setenv("SI_RUN_TEST_REMOVED", "1", 1);
  options = {};
  options.env_overrides = {"SI_RUN_TEST=a=b"};
  options.env_remove = {"SI_RUN_TEST_REMOVED"};
  options.cwd = dir.path();
  auto result =
      run({"/bin/sh", "-c", "echo \"$SI_RUN_TEST ${SI_RUN_TEST_REMOVED:-unset} $PWD\""}, options);
  CHECK(result.out == "a=b unset " + dir.path() + "\n");

  options = {};
  options.inherit_env = false;
  options.env_overrides = {"ONLY=1"};
  CHECK(run({"/usr/bin/env"}, options).out == "ONLY=1\n");
}

TEST_CASE("a command that cannot start gives a shell's exit codes", "[run]") {
  CHECK(run({"si-no-such-command"}).exit_code == 127);
  CHECK(run({"/si/no/such/path"}).exit_code == 127);
  CHECK(run({"/etc/hostname"}).exit_code == 126);
  RunOptions options;
  options.cwd = "/si/no/such/dir";
  CHECK(run({"/bin/true"}, options).exit_code == 126);
  CHECK(run({"/bin/sh", "-c", "exit 0"}, options).err.find("working directory") !=
        std::string::npos);
}

TEST_CASE("a command closing stdin early does not kill the caller", "[run]") {
  RunOptions options;
  options.stdin_data = std::string(1 << 20, 'x');
  CHECK(run({"/bin/true"}, options).exit_code == 0);
}

TEST_CASE("run switches user through setpriv", "[run][root]") {
  if (!running_as_root()) {
    WARN("skipped: switching users needs root");
    return;
  }
  auto result = run({SI_PROBE_PATH, "euid"}, RunOptions{.as_user = 65534});
  CHECK(result.out == "OK 65534 65534 65534\n");
}

TEST_CASE("which finds programs on PATH and in sbin", "[run]") {
  CHECK(which("sh").ends_with("/sh"));
  CHECK(which("si-no-such-command").empty());
  CHECK(which("/bin/sh") == "/bin/sh");
}

TEST_CASE("TempDir removes what it holds, read-only parts included", "[temp-dir]") {
  std::string path;
  {
    TempDir dir("si-temp-test");
    path = dir.path();
    CHECK(path.starts_with("/tmp/si-temp-test-"));
    fs::create_directories(path + "/a/b");
    std::ofstream(path + "/a/b/file") << "x";
    fs::permissions(path + "/a", fs::perms::owner_read | fs::perms::owner_exec);
    if (running_as_root()) {
      dir.chown_to(65534);
      struct stat st {};
      REQUIRE(::lstat((path + "/a/b/file").c_str(), &st) == 0);
      CHECK(st.st_uid == 65534);
      CHECK(st.st_gid == 65534);
    }
  }
  CHECK_FALSE(fs::exists(path));
}

TEST_CASE("the probe reports one line: OK, DENIED <errno>, or usage", "[probe]") {
  RunOptions options;
  options.env_overrides = {"SI_PROBE_TEST=va lue\n"};
  CHECK(run({SI_PROBE_PATH, "env", "SI_PROBE_TEST"}, options).out == "OK va lue\\n\n");
  auto missing = run({SI_PROBE_PATH, "env", "SI_PROBE_TEST_UNSET"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.out.rfind("DENIED ENOENT", 0) == 0);
  CHECK(run({SI_PROBE_PATH, "read", "/si/no/such/file"}).out.rfind("DENIED ENOENT ", 0) == 0);
  CHECK(run({SI_PROBE_PATH, "no-such-action"}).exit_code == 2);
  CHECK(run({SI_PROBE_PATH, "read"}).exit_code == 2);
  CHECK(run({SI_PROBE_PATH, "exit", "7"}).exit_code == 7);
  CHECK(run({SI_PROBE_PATH, "personality-query"}).exit_code == 0);
  CHECK(run({SI_PROBE_PATH, "--help"}).out.find("spawn-orphan") != std::string::npos);

  TempDir dir("si-probe-test");
  CHECK(run({SI_PROBE_PATH, "write", dir.path() + "/f"}).exit_code == 0);
  CHECK(run({SI_PROBE_PATH, "mkdir", dir.path() + "/d"}).exit_code == 0);
  CHECK(run({SI_PROBE_PATH, "list", dir.path()}).out == "OK d,f\n");
  CHECK(run({SI_PROBE_PATH, "read", dir.path() + "/f"}).out == "OK probe\\n\n");
}

TEST_CASE("the probe's attacks work on the host as root: the controls", "[probe][root]") {
  if (!running_as_root()) {
    WARN("skipped: the controls are root's");
    return;
  }
  for (const char* action :
       {"ptrace-sibling", "process-vm-read-sibling", "unshare-user", "unshare-net", "clone-newuser",
        "clone3", "socket-packet", "socket-netlink-route", "socket-inet", "socket-unix", "keyctl",
        "personality", "bpf", "syslog"}) {
    INFO(action);
    auto result = run({SI_PROBE_PATH, action});
    INFO(result.out << result.err);
    CHECK(result.exit_code == 0);
  }
  // Deliberately invalid arguments: past the permission check the kernel refuses them
  // (EINVAL/ENOEXEC, or ENOSYS where it was built without kexec or modules), never EPERM.
  for (const char* action : {"kexec", "init-module", "acct"}) {
    INFO(action);
    auto result = run({SI_PROBE_PATH, action});
    INFO(result.out);
    CHECK(result.out.rfind("DENIED ", 0) == 0);
    CHECK(result.out.find("EPERM") == std::string::npos);
  }
  // With pipes for stdio and no controlling terminal the kernel answers ENOTTY, never EPERM.
  CHECK(run({SI_PROBE_PATH, "tiocsti"}).out.find("EPERM") == std::string::npos);
}

TEST_CASE("spawn-orphan leaves a daemon that outlives the probe", "[probe]") {
  auto result = run({SI_PROBE_PATH, "spawn-orphan", "30"});
  REQUIRE(result.exit_code == 0);
  REQUIRE(result.out.rfind("OK ", 0) == 0);
  pid_t orphan = std::stoi(result.out.substr(3));
  CHECK(result.elapsed < 3s);
  CHECK(::kill(orphan, 0) == 0);
  ::kill(orphan, SIGKILL);
}
