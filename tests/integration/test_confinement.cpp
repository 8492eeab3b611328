// Every confinement claim, tried from inside the sandbox with the probe: the attempt must
// fail, the host must be unchanged, and the report must say what it can. Each test runs as
// root and as an unprivileged user.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "tests/integration/harness.h"
#include "tests/integration/skip.h"

using namespace safeinstall::test;
namespace fs = std::filesystem;

namespace {

Who both_users() {
  return GENERATE(Who::Root, Who::Unprivileged);
}

}  // namespace

TEST_CASE("the host's system directories cannot be written") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  for (const char* target : {"/etc/si-escape", "/usr/si-escape", "/usr/local/bin/si-escape"}) {
    INFO(name_of(who) << " writing " << target);
    auto run = s.probe({"write", target});
    CHECK(run.denied_with("EROFS"));
    CHECK_FALSE(path_exists(target));
  }
}

TEST_CASE("the invoker's real home is replaced by a throwaway one") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  std::string canary = s.home() + "/.ssh/id_ed25519";
  REQUIRE(s.probe_on_host({"read", canary}).out.find(kCanarySecret) != std::string::npos);

  auto read = s.probe({"read", canary});
  CHECK(read.denied_with("ENOENT"));
  CHECK(read.result.out.find(kCanarySecret) == std::string::npos);

  auto write = s.probe({"write", s.home() + "/.bashrc"});
  CHECK(write.probe_ok());                          // the throwaway home is writable...
  CHECK_FALSE(path_exists(s.home() + "/.bashrc"));  // ...and thrown away

  auto list = s.probe({"list", s.home()});
  CHECK(list.probe_line.find(".ssh") == std::string::npos);
}

TEST_CASE("/root, /home and other secrets of the host are hidden") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  auto shadow = s.probe({"read", "/etc/shadow"});
  CHECK(shadow.result.out.find("root:") == std::string::npos);
  if (who == Who::Root) {
    // Outside the sandbox root can read it: the control for the line above.
    CHECK(s.probe_on_host({"read", "/etc/shadow"}).out.find("root") != std::string::npos);
    auto list = s.probe({"list", "/root"});
    // Only toolchain directories may appear in root's home, never its files.
    CHECK(list.probe_line.find(".bash_history") == std::string::npos);
    CHECK(list.probe_line.find(".ssh") == std::string::npos);
  }
  // Not visible at all (the allow-list), or only the mount point of a home or project in it.
  auto home = s.probe({"list", "/home"});
  CHECK((home.denied_with("ENOENT") || home.probe_line == "OK "));
  auto hidden = shadow.report.at("sandbox").at("hidden");
  CHECK(std::find(hidden.begin(), hidden.end(), "/etc/shadow") != hidden.end());
}

TEST_CASE("secrets in the environment do not reach the command") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  auto run = s.probe({"env", "GITHUB_TOKEN"});
  CHECK(run.denied_with("ENOENT"));
  CHECK(run.result.out.find(kCanaryToken) == std::string::npos);
  auto dropped = run.report.at("env_dropped");
  CHECK(std::find(dropped.begin(), dropped.end(), "GITHUB_TOKEN") != dropped.end());
  CHECK(std::find(dropped.begin(), dropped.end(), "AWS_SECRET_ACCESS_KEY") != dropped.end());
  CHECK(run.report.dump().find(kCanaryToken) == std::string::npos);

  auto passed = s.probe({"env", "GITHUB_TOKEN"}, {"--pass-env", "GITHUB_TOKEN"});
  CHECK(passed.probe_line == std::string("OK ") + kCanaryToken);
}

TEST_CASE("ptrace and process_vm_readv of a sibling are refused") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  CHECK(s.probe_on_host({"ptrace-sibling"}).exit_code == 0);
  CHECK(s.probe({"ptrace-sibling"}).denied_with("EPERM"));
  CHECK(s.probe({"process-vm-read-sibling"}).denied_with("EPERM"));
}

TEST_CASE("mounting and creating namespaces are refused") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  CHECK(s.probe({"mount-tmpfs", "/tmp"}).denied_with("EPERM"));
  CHECK(s.probe({"umount", "/proc"}).denied_with("EPERM"));
  CHECK(s.probe({"unshare-user"}).denied_with("EPERM"));
  CHECK(s.probe({"unshare-net"}).denied_with("EPERM"));
  CHECK(s.probe({"clone-newuser"}).denied_with("EPERM"));
  CHECK(s.probe({"clone3"}).denied_with("ENOSYS"));
  CHECK(s.probe({"chroot", "/tmp"}).denied_with("EPERM"));
}

TEST_CASE("terminal injection with TIOCSTI and TIOCLINUX is refused") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  // On a descriptor that is not a terminal the kernel answers ENOTTY; EPERM can only come
  // from the filter, which refuses before the kernel looks at the descriptor.
  CHECK(s.probe_on_host({"tiocsti"}).out.find("EPERM") == std::string::npos);
  CHECK(s.probe({"tiocsti"}).denied_with("EPERM"));
  CHECK(s.probe({"tioclinux"}).denied_with("EPERM"));
}

TEST_CASE("sockets other than unix, inet, inet6 and netlink-route are refused") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  for (const char* kind :
       {"socket-packet", "socket-vsock", "socket-alg", "socket-key", "socket-netlink-audit"}) {
    INFO(kind);
    CHECK(s.probe({kind}).denied_with("EPERM"));
  }
  CHECK(s.probe({"socket-inet"}).probe_ok());
  CHECK(s.probe({"socket-unix"}).probe_ok());
  CHECK(s.probe({"socket-netlink-route"}).probe_ok());
}

TEST_CASE("kernel attack surface is refused: io_uring, bpf, perf, userfaultfd, keyrings") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  for (const char* action : {"io-uring", "bpf", "perf-event-open", "userfaultfd", "keyctl",
                             "personality", "kexec", "init-module", "reboot", "syslog", "acct"}) {
    INFO(action);
    CHECK(s.probe({action}).denied_with("EPERM"));
  }
  CHECK(s.probe({"personality-query"}).probe_ok());
}

TEST_CASE("no capability survives and no_new_privs is set") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  auto run = s.probe({"caps"});
  REQUIRE(run.probe_ok());
  for (const char* set :
       {"CapEff:\t0000000000000000", "CapPrm:\t0000000000000000", "CapBnd:\t0000000000000000",
        "CapAmb:\t0000000000000000", "NoNewPrivs:\t1", "Seccomp:\t2"}) {
    INFO(set);
    CHECK(run.result.out.find(set) != std::string::npos);
  }
}

TEST_CASE("a setuid-root binary gains nothing") {
  SKIP_UNLESS_SANDBOX(Who::Unprivileged);
  if (!running_as_root()) {
    WARN("skipped: planting a setuid-root binary needs root");
    return;
  }
  Scenario s(Who::Unprivileged);
  std::string setuid = s.project() + "/.probe/si-setuid";
  fs::copy_file(s.probe_in_project(), setuid);
  REQUIRE(::chown(setuid.c_str(), 0, 0) == 0);
  REQUIRE(::chmod(setuid.c_str(), 04755) == 0);
  auto control = run({setuid, "setuid-target"}, RunOptions{.as_user = kUnprivilegedUid});
  INFO("outside the sandbox: " << control.out);
  auto inside = s.run({setuid, "setuid-target"});
  REQUIRE(inside.probe_ok());
  CHECK(inside.probe_line == "OK 65534 65534");
}

TEST_CASE("the project directory is writable, and only it") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  // Expected, so the staged write is promoted (test_staging.cpp covers the other verdicts).
  auto run =
      s.probe({"write", s.project() + "/node_modules.txt"}, {"--expect", "node_modules.txt"});
  CHECK(run.probe_ok());
  CHECK(path_exists(s.project() + "/node_modules.txt"));
  // Beside the project is the sandbox's own /tmp here: writable, thrown away afterwards.
  s.probe({"write", s.root() + "/beside-project"});
  CHECK_FALSE(path_exists(s.root() + "/beside-project"));
  // The host's /var is not visible at all; what is visible of it is read-only.
  CHECK(s.probe({"write", "/var/tmp/si-escape"}).denied_with("ENOENT"));
  CHECK_FALSE(path_exists("/var/tmp/si-escape"));
  CHECK(s.probe({"write", "/opt/si-escape"}).denied_with("EROFS"));
  CHECK_FALSE(path_exists("/opt/si-escape"));
}

TEST_CASE("the hostname is random per run, not the host's") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  auto first = s.probe({"hostname"});
  auto second = s.probe({"hostname"});
  REQUIRE(first.probe_ok());
  CHECK(first.probe_line != second.probe_line);
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  CHECK(first.probe_line != std::string("OK ") + host);
}

TEST_CASE("a toolchain installed under the real home stays usable, read-only") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  std::string bin = s.home() + "/.cargo/bin";
  fs::create_directories(bin);
  fs::copy_file(s.probe_in_project(), bin + "/si-tool");
  if (who == Who::Unprivileged) {
    REQUIRE(::chown((s.home() + "/.cargo").c_str(), kUnprivilegedUid, kUnprivilegedUid) == 0);
    REQUIRE(::chown(bin.c_str(), kUnprivilegedUid, kUnprivilegedUid) == 0);
  }
  auto run = s.run({"si-tool", "read", s.home() + "/.ssh/id_ed25519"}, {},
                   {"PATH=" + bin + ":/usr/bin:/bin"});
  CHECK(run.exit_code() == 1);  // the tool ran, and could not read the key
  CHECK(run.denied_with("ENOENT"));
  CHECK(s.run({"si-tool", "write", bin + "/planted"}, {}, {"PATH=" + bin + ":/usr/bin:/bin"})
            .denied_with("EROFS"));
  CHECK_FALSE(path_exists(bin + "/planted"));
}

TEST_CASE("writes to the throwaway home and /tmp are recorded, persistence flagged") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  auto run = s.run({"/bin/sh", "-c",
                    "echo 'curl x | sh' >> \"$HOME/.bashrc\" && printf '#!/bin/sh\\n' > "
                    "/tmp/processor.sh && chmod +x /tmp/processor.sh"});
  // Nothing reached the project, but the plant is a finding: the run is held as suspicious.
  REQUIRE(run.exit_code() == 121);
  REQUIRE(run.report.at("findings").size() == 1);
  CHECK(run.report.at("findings").at(0).at("kind") == "persistence");
  CHECK_FALSE(path_exists(s.home() + "/.bashrc"));
  const auto& files = run.report.at("files");
  auto find = [](const nlohmann::json& list, const std::string& path) {
    for (const auto& f : list) {
      if (f.at("path") == path) return f;
    }
    return nlohmann::json();
  };
  auto bashrc = find(files.at("home"), ".bashrc");
  REQUIRE_FALSE(bashrc.is_null());
  CHECK(bashrc.at("flags").dump().find("persistence") != std::string::npos);
  auto processor = find(files.at("tmp"), "processor.sh");
  REQUIRE_FALSE(processor.is_null());
  CHECK(processor.at("flags").dump().find("executable") != std::string::npos);
  // Mount points the sandbox made (the project, toolchains) are not the command's writes.
  CHECK(files.at("tmp").size() == 1);
  CHECK(run.result.err.find("persistence") != std::string::npos);
}
