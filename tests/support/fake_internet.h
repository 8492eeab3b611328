#pragma once
// A small internet of our own, so that no egress test ever sends a packet to a real address
// (DESIGN.md, "Testing what crosses the network"). Needs root; see unavailable_reason().
//
//   host netns: untouched; nothing below is connected to it
//
//   world netns  si-world-<pid>-<n>          internet netns  si-inet-<pid>-<n>
//   ----------------------------------       --------------------------------------------
//   lo    127.0.0.1                          lo    127.0.0.1
//         world-loopback sink: tcp 80, 443         203.0.113.1/24  (loopback: the WHOLE /24
//         (what a gateway that dialled                              is local here, so a dial
//         127.0.0.1 would reach)                                    to an unused address is
//                                                                   refused at once)
//                                                  203.0.113.10    registry: http 80 (si-registry,
//                                                                  also registry_root()'s files),
//                                                                  TLS stand-in 443
//                                                  203.0.113.53    DNS server: udp+tcp 53
//                                                                  (si-fake-dns, logs queries)
//                                                  203.0.113.66    sink: tcp 80, 443; udp 53
//                                                  203.0.113.80    upstream HTTP proxy :3128
//                                                                  (si-upstream-proxy)
//                                                  169.254.169.254 cloud-metadata stand-in:
//                                                                  a sink on tcp 80
//                                                  2001:db8::10, 2001:db8::66   (IPv6, if any)
//   eth0  198.51.100.2/24   <--- veth --->   eth0  198.51.100.1/24
//         2001:db8:1::2/64                         2001:db8:1::1/64
//   default via 198.51.100.1 / 2001:db8:1::1   default: unreachable (ICMP back to the world)
//   /etc/resolv.conf -> nameserver 203.0.113.53 (through /etc/netns/<world>/, which
//                       `ip netns exec` bind-mounts over /etc)
//
// The DNS server answers (A records only; AAAA gets an empty answer for these names):
//   registry.test, other.test -> 203.0.113.10     evil.test     -> 203.0.113.66 (the sink)
//   proxy.test                -> 203.0.113.80     metadata.test -> 169.254.169.254
//   loopback.test             -> 127.0.0.1        anything else -> NXDOMAIN
// The upstream proxy knows the same names from its own table and never asks DNS.
//
// Nothing is routed beyond the internet namespace: a dial to any other address (8.8.8.8,
// 192.0.2.1, ...) fails with EHOSTUNREACH, usually at once and at worst on the first SYN
// retransmit a second later (an ICMP error that arrives while connect() still holds the
// socket lock is only recorded as a soft error; veth delivers it that fast).
//
// The code under test runs in the world namespace (in_world()); servers a test needs run in
// the internet namespace (in_internet()), bound to 203.0.113.x. Every server logs what reached
// it (see log()); a passing egress test shows the sink's log, and every other log that must
// stay clean of something, did.
//
// Names carry the pid and a per-process counter, so parallel ctest runs never share a
// namespace. The destructor stops the servers and deletes both namespaces (which also removes
// the veth pair) and the /etc/netns entry. If the test process is SIGKILLed, the servers die
// with it (parent-death signal) but the namespaces stay: `ip netns list | grep ^si-` shows
// them.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace safeinstall::test {

class FakeInternet {
 public:
  static constexpr const char* kWorldAddress = "198.51.100.2";
  static constexpr const char* kGatewayAddress = "198.51.100.1";
  static constexpr const char* kInternetAddress = "203.0.113.1";
  static constexpr const char* kRegistryAddress = "203.0.113.10";
  static constexpr const char* kDnsAddress = "203.0.113.53";
  static constexpr const char* kSinkAddress = "203.0.113.66";
  static constexpr const char* kWorldAddress6 = "2001:db8:1::2";
  static constexpr const char* kRegistryAddress6 = "2001:db8::10";
  static constexpr const char* kSinkAddress6 = "2001:db8::66";
  static constexpr const char* kUpstreamProxyAddress = "203.0.113.80";
  static constexpr int kUpstreamProxyPort = 3128;
  static constexpr const char* kMetadataAddress = "169.254.169.254";
  static constexpr int kSinkTcpPorts[] = {80, 443};
  static constexpr int kSinkUdpPorts[] = {53};
  // Names the DNS server answers (see above).
  static constexpr const char* kRegistryName = "registry.test";
  static constexpr const char* kOtherName = "other.test";
  static constexpr const char* kEvilName = "evil.test";
  static constexpr const char* kMetadataName = "metadata.test";
  static constexpr const char* kLoopbackName = "loopback.test";
  static constexpr const char* kProxyName = "proxy.test";
  // What the registry's TLS stand-in on port 443 answers to a ClientHello.
  static constexpr std::size_t kRegistryBannerBytes = 3000;

  // The servers' logs, one event per line (formats in the servers' sources):
  enum class Log {
    Sink,           // si-sink: "tcp|udp <peer> <port> <first bytes>"
    Dns,            // si-fake-dns: "udp|tcp <peer> <name> <type> -> <answer>"
    Registry,       // si-registry: "accept ...", "http <peer> <port> <METHOD> <target> in= out=",
                    //   "banner <peer> 443 in= out= <first bytes>"
    UpstreamProxy,  // si-upstream-proxy: "CONNECT <peer> <host:port> auth=...", "tunnel ...",
                    //   "<METHOD> <peer> <url> auth=... -> <status>"
    Metadata,       // the sink on 169.254.169.254:80
    WorldLoopback,  // the sink on the world's 127.0.0.1:80 and :443
  };

  // nullopt when a FakeInternet can be built here; otherwise why not (not root, no `ip`, the
  // kernel refuses network namespaces or veth pairs), for a test to WARN and skip with.
  // Tries it once per process.
  static std::optional<std::string> unavailable_reason();

  // Builds both namespaces and starts the servers (the sink from `sink_binary`, the others
  // from the build tree); throws std::runtime_error naming the step that failed and what
  // `ip` or the server said.
  explicit FakeInternet(std::string sink_binary);
  ~FakeInternet();
  FakeInternet(const FakeInternet&) = delete;
  FakeInternet& operator=(const FakeInternet&) = delete;

  // `ip netns exec <world> argv...`: for run(). Needs root; to run as another user inside,
  // wrap argv with as_user_argv() first.
  std::vector<std::string> in_world(std::vector<std::string> argv) const;
  // The same for the internet side, where test servers (registries, DNS) belong.
  std::vector<std::string> in_internet(std::vector<std::string> argv) const;

  // Everything the sink has logged so far, "tcp|udp <peer> <port> <bytes>" per line.
  std::string sink_log() const;
  // The sink logs a TCP connection once its first bytes arrive (or after a second of
  // silence), i.e. a little after the client's connect() returned: wait for it this way.
  // True once the log contains `needle`.
  bool wait_for_sink_log(const std::string& needle,
                         std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;
  std::string sink_address() const { return kSinkAddress; }

  // Everything one server has logged so far.
  std::string log(Log which) const;
  // True once that log contains `needle`.
  bool wait_for_log(Log which, const std::string& needle,
                    std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;
  // The DNS server's log: every question that reached the fake internet.
  std::string dns_log() const { return log(Log::Dns); }

  const std::string& world_netns() const;
  const std::string& internet_netns() const;
  // The directory si-registry serves as static files at http://registry.test/ (port 80):
  // ROOT/path, else ROOT/path/index.json, else ROOT/path/index.html, paths percent-decoded.
  // Created empty, mode 0755; a test writes into it at any time (see npm_registry.h and
  // ecosystem_registries.h for package registries built in it). Removed with the FakeInternet.
  const std::string& registry_root() const;
  // IPv6 is set up best-effort: false when the kernel has it disabled.
  bool has_ipv6() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace safeinstall::test
