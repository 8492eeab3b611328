#pragma once
// The HTTP proxy the sandbox's HTTP(S)_PROXY variables point at: `CONNECT host:port`
// tunnels and absolute-form plain-HTTP requests with keep-alive, each checked against the
// policy before the gateway connects out from the host's network namespace.

#include <boost/asio/ip/tcp.hpp>
#include <memory>

#include "sandbox/egress/gateway_state.h"

namespace safeinstall::sandbox {

// Serves one accepted proxy connection until it ends; the session keeps itself alive.
void start_http_proxy_session(std::shared_ptr<GatewayState> state,
                              boost::asio::ip::tcp::socket client);

}  // namespace safeinstall::sandbox
