// The filesystem inside is an allow-list of host paths, and a unix socket of the host is not
// a way out: each tried from inside, with a host-side control where one applies. Each test
// runs as root and as an unprivileged user.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "tests/integration/harness.h"
#include "tests/integration/project_checks.h"
#include "tests/integration/skip.h"

using namespace safeinstall::test;
namespace fs = std::filesystem;

namespace {

Who both_users() {
  return GENERATE(Who::Root, Who::Unprivileged);
}

std::string unique_name(const std::string& prefix) {
  std::random_device random;
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(random() % 1000000);
}

// A directory the test makes at a host path outside /tmp (under /var, /srv, /run...), gone
// with the test.
class HostDir {
 public:
  explicit HostDir(const std::string& parent) : path_(parent + "/" + unique_name("si-host")) {
    fs::create_directories(path_);
    fs::permissions(path_, fs::perms(0755));
  }
  ~HostDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  HostDir(const HostDir&) = delete;
  HostDir& operator=(const HostDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A listening unix socket anyone may connect to; says whether anything ever connected.
class HostListener {
 public:
  explicit HostListener(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(fd_, 8) == 0);
    ::chmod(path.c_str(), 0777);
  }
  ~HostListener() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  HostListener(const HostListener&) = delete;
  HostListener& operator=(const HostListener&) = delete;
  bool was_reached() const {
    pollfd pfd{fd_, POLLIN, 0};
    return ::poll(&pfd, 1, 0) > 0;
  }

 private:
  std::string path_;
  int fd_ = -1;
};

void write_canary(const std::string& path, mode_t mode) {
  std::ofstream(path) << "canary-host-file-4e5f\n";
  ::chmod(path.c_str(), mode);
}

}  // namespace

TEST_CASE("only the allow-listed host paths exist inside") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  auto root = s.probe({"list", "/"});
  REQUIRE(root.probe_ok());
  INFO(root.probe_line);
  for (const char* gone : {"var", "srv", "run", "mnt", "media", "boot", "work"})
    CHECK(root.probe_line.find(std::string(gone) + ",") == std::string::npos);
  for (const char* gone : {"/var", "/srv", "/run", "/mnt", "/media"}) {
    INFO(gone);
    CHECK(s.probe({"list", gone}).denied_with("ENOENT"));
  }
  // What a package manager needs is there, read-only.
  CHECK(s.probe({"read", "/etc/passwd"}).probe_ok());
  CHECK(s.probe({"read", "/usr/bin/env"}).probe_ok());
  CHECK(s.probe({"write", "/usr/si-escape"}).denied_with("EROFS"));
  CHECK(s.probe({"write", "/si-escape"}).denied_with("EROFS"));
  auto visible = root.report.at("sandbox").at("visible");
  CHECK(std::find(visible.begin(), visible.end(), "/usr") != visible.end());
}

TEST_CASE("root-only files outside the allow-list stay on the host") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  HostDir var("/var/cache");
  HostDir srv("/srv");
  write_canary(var.path() + "/passwords.dat", 0600);
  write_canary(srv.path() + "/service.key", 0644);
  if (who == Who::Root)  // the control: root reads both on the host
    CHECK(s.probe_on_host({"read", var.path() + "/passwords.dat"}).exit_code == 0);
  for (const auto& file : {var.path() + "/passwords.dat", srv.path() + "/service.key"}) {
    INFO(file);
    auto read = s.probe({"read", file});
    CHECK(read.denied_with("ENOENT"));
    CHECK(read.result.out.find("canary-host-file") == std::string::npos);
  }
  if (fs::exists("/var/cache/debconf/passwords.dat"))
    CHECK(s.probe({"read", "/var/cache/debconf/passwords.dat"}).denied_with("ENOENT"));
}

TEST_CASE("a host path given with --ro-bind becomes visible, read-only") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  HostDir srv("/srv");
  write_canary(srv.path() + "/data.txt", 0644);
  auto read = s.probe({"read", srv.path() + "/data.txt"}, {"--ro-bind", srv.path()});
  CHECK(read.probe_ok());
  CHECK(read.result.out.find("canary-host-file") != std::string::npos);
  CHECK(s.probe({"write", srv.path() + "/x"}, {"--ro-bind", srv.path()}).denied_with("EROFS"));
  auto missing = s.run({"true"}, {"--ro-bind", "/nonexistent-si-dir"});
  CHECK(missing.exit_code() == 125);
  CHECK(missing.result.err.find("--ro-bind /nonexistent-si-dir") != std::string::npos);
}

TEST_CASE("a host daemon's unix socket outside the allow-list cannot be reached") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  HostDir run_dir("/run");
  std::string socket = run_dir.path() + "/daemon.sock";
  HostListener daemon(socket);
  REQUIRE(s.probe_on_host({"connect-unix", socket}).exit_code == 0);  // the control
  REQUIRE(daemon.was_reached());
  HostListener fresh_daemon(run_dir.path() + "/fresh.sock");
  auto run = s.probe({"connect-unix", run_dir.path() + "/fresh.sock"});
  CHECK(run.denied_with("ENOENT"));
  CHECK_FALSE(fresh_daemon.was_reached());
}

TEST_CASE("a host unix socket made visible is refused and recorded") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  HostDir srv("/srv");
  std::string socket = srv.path() + "/db.sock";
  HostListener daemon(socket);
  auto run = s.probe({"connect-unix", socket}, {"--ro-bind", srv.path()});
  CHECK(run.denied_with("EACCES"));
  CHECK_FALSE(daemon.was_reached());
  bool recorded = false;
  for (const auto& a : run.report.at("network").at("direct_attempts")) {
    if (a.value("kind", "") == "unix" && a.at("address") == socket) recorded = true;
  }
  CHECK(recorded);
  auto egress = violations_of_kind(run.report, "egress");
  REQUIRE(egress.size() == 1);
  CHECK(egress[0].at("detail").get<std::string>().find(socket) != std::string::npos);
}

TEST_CASE("the sandbox's own unix sockets in home, /tmp and the project work") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  for (const auto& path :
       {std::string("/tmp/si-own.sock"), s.home() + "/si-own.sock", s.project() + "/si-own.sock"}) {
    INFO(path);
    auto run = s.probe({"unix-roundtrip", path});
    CHECK(run.probe_ok());
    CHECK(violations_of_kind(run.report, "egress").empty());
  }
}
