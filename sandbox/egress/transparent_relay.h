#pragma once
// The transparent relay, for tools that ignore proxy variables: they resolve a name through
// the DNS stub, get a fake loopback address, and dial it on 443 or 80; listeners on
// 0.0.0.0 inside the sandbox catch the connection. The dialled address (getsockname) says
// which name it stands for; the first bytes must agree:
// - TLS (first byte 0x16): the ClientHello's SNI, if any, must be that name, else the
//   connection is refused as `sni-mismatch` (domain fronting through an allowed address);
// - anything else is read as HTTP/1.x: every request's Host must name that host and port
//   (also `sni-mismatch` otherwise), and requests are forwarded one by one with keep-alive.
// Other protocols are refused as malformed.

#include <boost/asio/ip/tcp.hpp>
#include <memory>

#include "sandbox/egress/gateway_state.h"

namespace safeinstall::sandbox {

// Serves one accepted transparent connection until it ends; the session keeps itself alive.
void start_transparent_session(std::shared_ptr<GatewayState> state,
                               boost::asio::ip::tcp::socket client);

}  // namespace safeinstall::sandbox
