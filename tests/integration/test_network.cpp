// The sandbox has a network namespace with only loopback: every connection to the host or
// beyond fails fast, and (checked on the far side) nothing arrives there.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <thread>

#include "tests/integration/harness.h"
#include "tests/integration/skip.h"
#include "tests/support/fake_internet.h"

using namespace safeinstall::test;
using namespace std::chrono_literals;

namespace {

Who both_users() {
  return GENERATE(Who::Root, Who::Unprivileged);
}

// A listener on the host's loopback that the sandbox must not reach.
class HostListener {
 public:
  HostListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(fd_, 16) == 0);
    socklen_t length = sizeof address;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port_ = ntohs(address.sin_port);
  }
  ~HostListener() { ::close(fd_); }
  HostListener(const HostListener&) = delete;
  HostListener& operator=(const HostListener&) = delete;
  int port() const { return port_; }
  bool accepted_anything() const {
    int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client >= 0) ::close(client);
    return client >= 0;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace

TEST_CASE("a server on the host's loopback cannot be reached") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  HostListener listener;
  std::string port = std::to_string(listener.port());
  // The control: from the host the same probe gets in.
  REQUIRE(s.probe_on_host({"connect", "127.0.0.1", port}).exit_code == 0);
  REQUIRE(listener.accepted_anything());

  auto started = std::chrono::steady_clock::now();
  auto run = s.probe({"connect", "127.0.0.1", port, "leak"});
  CHECK(std::chrono::steady_clock::now() - started < 3s);
  CHECK(run.denied_with("ECONNREFUSED"));  // the sandbox's own loopback, where nobody listens
  CHECK_FALSE(listener.accepted_anything());
}

TEST_CASE("the fake internet's sink sees nothing from the sandbox") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  if (auto reason = FakeInternet::unavailable_reason()) {
    WARN("skipped: no fake internet here: " << *reason);
    return;
  }
  FakeInternet net(SI_SINK_PATH);
  Scenario s(who);
  const std::string sink = net.sink_address();

  // The control: from the world namespace, without safeinstall, the sink is reachable.
  auto control = run(net.in_world({s.probe_in_project(), "connect", sink, "443", "control-tcp"}));
  REQUIRE(control.exit_code == 0);
  REQUIRE(net.wait_for_sink_log("control-tcp"));

  s.run_behind(net.in_world({}));
  auto started = std::chrono::steady_clock::now();
  auto tcp = s.probe({"connect", sink, "443", "leak-tcp"});
  CHECK(std::chrono::steady_clock::now() - started < 3s);
  CHECK(tcp.denied_with("ENETUNREACH"));
  auto udp = s.probe({"udp-send", sink, "53", "leak-udp"});
  CHECK(udp.denied_with("ENETUNREACH"));
  auto http = s.probe({"connect", sink, "80", "leak-http"});
  CHECK(http.denied_with("ENETUNREACH"));

  std::this_thread::sleep_for(1500ms);  // the sink logs a silent connection after a second
  CHECK(net.sink_log().find("leak") == std::string::npos);
}
