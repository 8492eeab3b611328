// The fake internet must really carry the world's traffic to the sink, and nowhere else:
// every egress test that relies on "the sink saw nothing" is only as good as this.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>

#include "tests/support/blob.h"
#include "tests/support/fake_internet.h"
#include "tests/support/run.h"
#include "tests/support/test_skips.h"

using namespace safeinstall::test;
using namespace std::chrono_literals;

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

// The servers the egress tests lean on: each must really answer the world, and log it, or a
// clean log would prove nothing.

TEST_CASE("the fake DNS server answers the world and logs every question",
          "[fake-internet][root]") {
  SKIP_UNLESS_FAKE_INTERNET();
  FakeInternet net(SI_SINK_PATH);
  auto known = probe_in_world(net, {"resolve", FakeInternet::kRegistryName});
  CHECK(known.out == std::string("OK ") + FakeInternet::kRegistryAddress + "\n");
  auto metadata = probe_in_world(net, {"resolve", FakeInternet::kMetadataName});
  CHECK(metadata.out == std::string("OK ") + FakeInternet::kMetadataAddress + "\n");
  auto unknown = probe_in_world(net, {"resolve", "nosuch.test"});
  CHECK(unknown.out.rfind("DENIED ENOENT", 0) == 0);
  CHECK(
      net.wait_for_log(FakeInternet::Log::Dns, "udp 198.51.100.2 registry.test A -> 203.0.113.10"));
  CHECK(net.wait_for_log(FakeInternet::Log::Dns, "udp 198.51.100.2 registry.test AAAA -> NODATA"));
  CHECK(net.wait_for_log(FakeInternet::Log::Dns, "udp 198.51.100.2 nosuch.test A -> NXDOMAIN"));

  // And over TCP, as resolvers fall back to for long answers.
  const char* script =
      "import socket,struct\n"
      "q=struct.pack('>6H',7,0x100,1,0,0,0)+b'\\x04evil\\x04test\\x00'+struct.pack('>HH',1,1)\n"
      "s=socket.create_connection(('203.0.113.53',53),timeout=5)\n"
      "s.sendall(struct.pack('>H',len(q))+q)\n"
      "n=struct.unpack('>H',s.recv(2))[0]\n"
      "r=b''\n"
      "while len(r)<n: r+=s.recv(n-len(r))\n"
      "print('.'.join(str(b) for b in r[-4:]))\n";
  auto tcp = run(net.in_world({"/usr/bin/python3", "-c", script}));
  CHECK(tcp.out == std::string(FakeInternet::kSinkAddress) + "\n");
  CHECK(net.wait_for_log(FakeInternet::Log::Dns, "tcp 198.51.100.2 evil.test A -> 203.0.113.66"));
  INFO(net.dns_log());
}

TEST_CASE("the registry serves blobs and echoes with keep-alive, and its TLS stand-in answers",
          "[fake-internet][root]") {
  SKIP_UNLESS_FAKE_INTERNET();
  if (which("curl").empty()) {
    WARN("skipped: curl is not installed (scripts/setup.sh installs it)");
    return;
  }
  FakeInternet net(SI_SINK_PATH);
  const std::string base = std::string("http://") + FakeInternet::kRegistryAddress;
  auto fetched =
      run(net.in_world({"curl", "-sS", "--max-time", "10", base + "/blob/1000", base + "/echo"}));
  REQUIRE(fetched.exit_code == 0);
  CHECK(fetched.out.starts_with(registry_blob(1000) + "GET /echo HTTP/1.1\nHost: 203.0.113.10\n"));
  CHECK(net.wait_for_log(FakeInternet::Log::Registry, "GET /echo in="));
  auto log = net.log(FakeInternet::Log::Registry);
  CHECK(log.find("http 198.51.100.2 80 GET /blob/1000 in=") != std::string::npos);
  // One connection carried both requests.
  CHECK(std::count(log.begin(), log.end(), '\n') == 3);

  auto chunked = run(net.in_world({"curl", "-sS", "--max-time", "10", base + "/chunked/25000"}));
  CHECK(chunked.out == registry_blob(25000));

  auto hello = probe_in_world(
      net, {"tls-hello", FakeInternet::kRegistryAddress, "443", FakeInternet::kRegistryName});
  CHECK(hello.out.rfind("OK ", 0) == 0);
  CHECK(hello.out.find("received 3000 bytes") != std::string::npos);
  CHECK(net.wait_for_log(FakeInternet::Log::Registry, "banner 198.51.100.2 443 in="));
  CHECK(net.log(FakeInternet::Log::Registry).find("registry.test") != std::string::npos);
}

TEST_CASE("the upstream proxy tunnels and forwards by its own table, without DNS",
          "[fake-internet][root]") {
  SKIP_UNLESS_FAKE_INTERNET();
  if (which("curl").empty()) {
    WARN("skipped: curl is not installed (scripts/setup.sh installs it)");
    return;
  }
  FakeInternet net(SI_SINK_PATH);
  const std::string proxy = std::string("http://user:pw@") + FakeInternet::kUpstreamProxyAddress +
                            ":" + std::to_string(FakeInternet::kUpstreamProxyPort);
  auto fetched = run(net.in_world(
      {"curl", "-sS", "--max-time", "10", "-x", proxy, "http://registry.test/blob/10"}));
  CHECK(fetched.out == registry_blob(10));
  CHECK(net.wait_for_log(FakeInternet::Log::UpstreamProxy,
                         "GET 198.51.100.2 http://registry.test/blob/10 auth=Basic dXNlcjpwdw== "
                         "-> 200"));
  auto hello = probe_in_world(
      net, {"tls-hello", FakeInternet::kRegistryName, "443", FakeInternet::kRegistryName,
            FakeInternet::kUpstreamProxyAddress, "3128"});
  CHECK(hello.out.find("received 3000 bytes") != std::string::npos);
  CHECK(net.wait_for_log(FakeInternet::Log::UpstreamProxy,
                         "CONNECT 198.51.100.2 registry.test:443 auth=- -> 200"));
  CHECK(net.wait_for_log(FakeInternet::Log::UpstreamProxy, "tunnel registry.test:443 up="));
  CHECK(net.dns_log().empty());
}

TEST_CASE("the metadata stand-in and the world's loopback sink log what reaches them",
          "[fake-internet][root]") {
  SKIP_UNLESS_FAKE_INTERNET();
  FakeInternet net(SI_SINK_PATH);
  CHECK(probe_in_world(net, {"connect", FakeInternet::kMetadataAddress, "80", "imds"}).exit_code ==
        0);
  CHECK(net.wait_for_log(FakeInternet::Log::Metadata, "tcp 198.51.100.2 80 imds"));
  CHECK(probe_in_world(net, {"connect", "127.0.0.1", "443", "local"}).exit_code == 0);
  CHECK(net.wait_for_log(FakeInternet::Log::WorldLoopback, "tcp 127.0.0.1 443 local"));
  CHECK(net.sink_log().empty());
}
