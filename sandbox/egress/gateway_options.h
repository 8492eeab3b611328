#pragma once
// Limits and settings of the egress gateway. The defaults are what a run uses; tests shorten
// the timeouts.

#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sandbox/egress/decoy_matcher.h"
#include "sandbox/egress/upstream_proxy.h"

namespace safeinstall::sandbox {

struct GatewayOptions {
  // A connection on which no byte moved for this long is closed.
  std::chrono::milliseconds idle_timeout{60'000};
  // A request head, a TLS ClientHello or a DNS-over-TCP query must arrive whole within this,
  // however slowly it trickles in: a drip-feeding client cannot hold a slot for long.
  std::chrono::milliseconds request_head_timeout{30'000};
  // Per address tried; resolution itself is bounded by the host's resolver settings.
  std::chrono::milliseconds connect_timeout{15'000};
  // Concurrent TCP connections from the sandbox (proxy, transparent, DNS over TCP); more are
  // accepted and closed at once rather than left waiting in the backlog.
  std::size_t max_connections = 256;
  std::size_t max_header_bytes = 16 * 1024;
  // One buffer of this size per direction of a relayed connection: memory stays flat however
  // much is transferred.
  std::size_t relay_buffer_bytes = 64 * 1024;
  std::uint32_t dns_ttl_seconds = 60;
  // How long a host's resolved addresses are reused; also pins a name to the addresses it
  // was checked with, so a rebinding DNS answer cannot swap them within that time.
  std::chrono::seconds resolve_cache{300};

  // The invoker's proxy, see UpstreamProxies::from_environment.
  UpstreamProxies upstream;

  // Names answered from this table instead of the host's resolver, as curl's --resolve
  // does; tests use it to point names at loopback servers. Addresses still pass the
  // private-address check.
  std::map<std::string, std::vector<boost::asio::ip::address>> pinned_hosts;

  // The run's decoy credential values: one seen in a request head, the first
  // decoy_body_scan_bytes of a plain-HTTP request body or a DNS question is recorded as
  // exfiltration. Empty: nothing is scanned.
  std::vector<DecoyValue> decoys;
  std::size_t decoy_body_scan_bytes = 64 * 1024;
};

}  // namespace safeinstall::sandbox
