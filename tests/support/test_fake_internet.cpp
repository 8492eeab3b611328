// The fake internet must really carry the world's traffic to the sink, and nowhere else:
// every egress test that relies on "the sink saw nothing" is only as good as this.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>

#include "tests/support/fake_internet.h"
#include "tests/support/run.h"

using namespace safeinstall::test;
using namespace std::chrono_literals;

#define SKIP_UNLESS_FAKE_INTERNET()                          \
  do {                                                       \
    if (auto reason_ = FakeInternet::unavailable_reason()) { \
      WARN("skipped: no fake internet here: " << *reason_);  \
      return;                                                \
    }                                                        \
  } while (false)

namespace {

RunResult probe_in_world(const FakeInternet& net, std::vector<std::string> args) {
  args.insert(args.begin(), SI_PROBE_PATH);
  RunOptions options;
  options.timeout = 20s;
  auto result = run(net.in_world(args), options);
  UNSCOPED_INFO("probe " << args[1] << ": " << result.out << result.err);
  return result;
}

bool namespace_listed(const std::string& name) {
  auto list = run({"ip", "netns", "list"});
  return list.out.find(name) != std::string::npos;
}

}  // namespace

TEST_CASE("a TCP connection from the world reaches the sink", "[fake-internet][root]") {
  SKIP_UNLESS_FAKE_INTERNET();
  FakeInternet net(SI_SINK_PATH);
  for (const char* port : {"80", "443"}) {
    auto result =
        probe_in_world(net, {"connect", net.sink_address(), port, "exfil-" + std::string(port)});
    CHECK(result.exit_code == 0);
    CHECK(result.out.rfind("OK ", 0) == 0);
    std::string expected =
        "tcp " + std::string(FakeInternet::kWorldAddress) + " " + port + " exfil-" + port;
    CHECK(net.wait_for_sink_log(expected));
  }
  INFO(net.sink_log());
}

TEST_CASE("a UDP datagram from the world reaches the sink", "[fake-internet][root]") {
  SKIP_UNLESS_FAKE_INTERNET();
  FakeInternet net(SI_SINK_PATH);
  auto result = probe_in_world(net, {"udp-send", net.sink_address(), "53", "query\x01x"});
  CHECK(result.exit_code == 0);
  CHECK(net.wait_for_sink_log("udp 198.51.100.2 53 query\\x01x"));
}

TEST_CASE("an unused address of the fake internet refuses at once", "[fake-internet][root]") {
  SKIP_UNLESS_FAKE_INTERNET();
  FakeInternet net(SI_SINK_PATH);
  auto started = std::chrono::steady_clock::now();
  auto result = probe_in_world(net, {"connect", "203.0.113.99", "443"});
  CHECK(result.out.rfind("DENIED ECONNREFUSED", 0) == 0);
  CHECK(std::chrono::steady_clock::now() - started < 2s);
  CHECK(net.sink_log().empty());
}

TEST_CASE("the fake internet ends at the internet namespace", "[fake-internet][root]") {
  SKIP_UNLESS_FAKE_INTERNET();
  FakeInternet net(SI_SINK_PATH);
  // Addresses outside the fake internet (TEST-NET-1, and one that exists out there) end at
  // the internet side's unreachable route: refused every time, within the first SYN
  // retransmit, since ICMP errors are not rate-limited there.
  for (const char* address : {"192.0.2.1", "192.0.2.2", "192.0.2.1", "192.0.2.1", "192.0.2.1",
                              "192.0.2.1", "192.0.2.1", "192.0.2.1", "8.8.8.8"}) {
    auto started = std::chrono::steady_clock::now();
    auto result = probe_in_world(net, {"connect", address, "443"});
    bool unreachable = result.out.rfind("DENIED ENETUNREACH", 0) == 0 ||
                       result.out.rfind("DENIED EHOSTUNREACH", 0) == 0;
    CHECK(unreachable);
    CHECK(std::chrono::steady_clock::now() - started < 2s);
  }
  // And the world has no other way out: its only interfaces are lo and the veth.
  auto links = run(net.in_world({"ip", "-o", "link"}));
  CHECK(links.out.find("lo:") != std::string::npos);
  CHECK(links.out.find("eth0@") != std::string::npos);
  CHECK(std::count(links.out.begin(), links.out.end(), '\n') == 2);
}

TEST_CASE("the world resolves through the fake internet's DNS address", "[fake-internet][root]") {
  SKIP_UNLESS_FAKE_INTERNET();
  FakeInternet net(SI_SINK_PATH);
  auto result = probe_in_world(net, {"read", "/etc/resolv.conf"});
  CHECK(result.out == std::string("OK nameserver ") + FakeInternet::kDnsAddress + "\\n\n");
}

TEST_CASE("IPv6 from the world reaches the sink too", "[fake-internet][root]") {
  SKIP_UNLESS_FAKE_INTERNET();
  FakeInternet net(SI_SINK_PATH);
  if (!net.has_ipv6()) {
    WARN("skipped: IPv6 is disabled on this kernel");
    return;
  }
  auto result = probe_in_world(net, {"connect", FakeInternet::kSinkAddress6, "443", "v6"});
  CHECK(result.exit_code == 0);
  CHECK(net.wait_for_sink_log(std::string("tcp ") + FakeInternet::kWorldAddress6 + " 443 v6"));
}

TEST_CASE("instances do not collide and leave nothing behind", "[fake-internet][root]") {
  SKIP_UNLESS_FAKE_INTERNET();
  std::string world, internet;
  {
    FakeInternet first(SI_SINK_PATH);
    FakeInternet second(SI_SINK_PATH);
    world = first.world_netns();
    internet = first.internet_netns();
    CHECK(world != second.world_netns());
    CHECK(internet != second.internet_netns());
    CHECK(namespace_listed(world));
    // Both sinks are up on the same addresses, each in its own namespace.
    CHECK(probe_in_world(second, {"connect", second.sink_address(), "80", "second"}).exit_code ==
          0);
    CHECK(second.wait_for_sink_log("second"));
    CHECK(first.sink_log().empty());
  }
  CHECK_FALSE(namespace_listed(world));
  CHECK_FALSE(namespace_listed(internet));
  CHECK(run({"test", "-e", "/etc/netns/" + world}).exit_code != 0);
}
