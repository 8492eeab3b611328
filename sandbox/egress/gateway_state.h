#pragma once
// What every connection of one egress gateway shares: policy, options, the record, the fake
// address mapping, the outbound connector and the set of live sessions. Held by shared_ptr
// so handlers still queued after the gateway object is gone find it intact.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <memory>
#include <set>
#include <vector>

#include "sandbox/egress/dns/dns_responder.h"
#include "sandbox/egress/egress_policy.h"
#include "sandbox/egress/fake_address_pool.h"
#include "sandbox/egress/gateway_options.h"
#include "sandbox/egress/network_record.h"
#include "sandbox/egress/upstream_connector.h"

namespace safeinstall::sandbox {

class GatewaySession;

struct GatewayState {
  GatewayState(EgressPolicy policy_, GatewayOptions options_)
      : policy(std::move(policy_)),
        options(std::move(options_)),
        decoys(options.decoys),
        connector(policy, options),
        dns(policy, fake_addresses, record, options.dns_ttl_seconds, &decoys) {}
  GatewayState(const GatewayState&) = delete;
  GatewayState& operator=(const GatewayState&) = delete;

  const EgressPolicy policy;
  const GatewayOptions options;
  const DecoyMatcher decoys;
  NetworkRecord record;
  FakeAddressPool fake_addresses;
  UpstreamConnector connector;
  DnsResponder dns;
  std::set<GatewaySession*> sessions;  // live TCP sessions, for the limit and for stop()
  // The listeners being served; closed by stop().
  std::vector<std::shared_ptr<boost::asio::ip::tcp::acceptor>> acceptors;
  std::shared_ptr<boost::asio::ip::udp::socket> dns_udp;
  bool stopped = false;
};

}  // namespace safeinstall::sandbox
