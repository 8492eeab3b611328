#pragma once
// The DNS stub the sandbox's resolv.conf points at, on UDP and TCP port 53 of the sandbox's
// loopback. Answers come from DnsResponder; no query is ever sent anywhere else.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <memory>

#include "sandbox/egress/gateway_state.h"

namespace safeinstall::sandbox {

// Answers datagrams on `socket` (already bound) until it is closed. The socket is shared so
// the gateway can close it on stop while the loop still holds it.
void start_dns_udp_server(std::shared_ptr<GatewayState> state,
                          std::shared_ptr<boost::asio::ip::udp::socket> socket);

// Serves DNS over TCP (two-byte length prefix, several queries per connection) on one
// accepted connection until it ends.
void start_dns_tcp_session(std::shared_ptr<GatewayState> state,
                           boost::asio::ip::tcp::socket client);

}  // namespace safeinstall::sandbox
