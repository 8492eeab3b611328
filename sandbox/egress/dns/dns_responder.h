#pragma once
// The DNS stub's answers, transport aside: an allowed name gets its fake loopback address,
// a refused name NXDOMAIN, a malformed query FORMERR; every question is recorded. Nothing is
// ever forwarded to a real resolver.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "sandbox/egress/decoy_matcher.h"
#include "sandbox/egress/dns/dns_message.h"
#include "sandbox/egress/egress_policy.h"
#include "sandbox/egress/fake_address_pool.h"
#include "sandbox/egress/network_record.h"

namespace safeinstall::sandbox {

// Recorded as the port of malformed DNS messages.
inline constexpr std::uint16_t kDnsPort = 53;

class DnsResponder {
 public:
  // A question whose name holds one of `decoys`' values is recorded as exfiltration, and
  // under a name with that value masked.
  DnsResponder(const EgressPolicy& policy, FakeAddressPool& addresses, NetworkRecord& record,
               std::uint32_t ttl_seconds, const DecoyMatcher* decoys = nullptr)
      : policy_(policy),
        addresses_(addresses),
        record_(record),
        ttl_(ttl_seconds),
        decoys_(decoys) {}

  // The reply to one message, or nullopt when none must be sent (shorter than a header, or
  // itself a response).
  std::optional<std::vector<std::uint8_t>> respond(std::span<const std::uint8_t> message);

 private:
  std::vector<std::uint8_t> answer(std::span<const std::uint8_t> message, const DnsQuery& query);

  const EgressPolicy& policy_;
  FakeAddressPool& addresses_;
  NetworkRecord& record_;
  std::uint32_t ttl_;
  const DecoyMatcher* decoys_;
};

}  // namespace safeinstall::sandbox
