#pragma once
// The gateway's listening sockets. They are created inside the sandbox's network namespace
// (where the sandbox's clients can reach them), passed to the supervisor over a unix
// socket, and served from the host's namespace by the EgressGateway.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sandbox/base/error.h"
#include "sandbox/base/fd.h"

namespace safeinstall::sandbox {

// Where the listeners sit inside the sandbox, and what the sandbox is told about them.
inline constexpr std::uint16_t kGatewayProxyPort = 3128;
inline constexpr std::string_view kGatewayProxyUrl = "http://127.0.0.1:3128";
inline constexpr std::string_view kGatewayDnsAddress = "127.0.0.1";
inline constexpr std::uint16_t kGatewayDnsPort = 53;
inline constexpr std::array<std::uint16_t, 2> kDefaultTransparentPorts{443, 80};
// The sandbox's /etc/resolv.conf: the stub only, no search domains of the host.
inline constexpr std::string_view kSandboxResolvConf =
    "# safeinstall: the egress gateway's DNS stub\n"
    "nameserver 127.0.0.1\n"
    "options timeout:2 attempts:2\n";

// The proxy variables for the sandbox's environment (NAME=VALUE): the standard ones in
// both cases, the package managers' own (npm, yarn, pip, cargo), and an empty NO_PROXY.
std::vector<std::string> gateway_proxy_environment();

// Owning: every fd is closed with the struct unless moved out.
struct GatewayListeners {
  UniqueFd proxy;                                               // TCP, listening on 127.0.0.1:3128
  UniqueFd dns_udp;                                             // UDP, bound to 127.0.0.1:53
  UniqueFd dns_tcp;                                             // TCP, listening on 127.0.0.1:53
  std::vector<std::pair<std::uint16_t, UniqueFd>> transparent;  // TCP, 0.0.0.0:port
};

// Call inside the sandbox's new network namespace, after bring_loopback_up(), while the
// process still has CAP_NET_BIND_SERVICE in its user namespace (ports below 1024).
// Ports 53 and 3128 cannot be transparent ports.
Result<GatewayListeners> create_gateway_listeners(
    const std::vector<std::uint16_t>& transparent_ports = {kDefaultTransparentPorts.begin(),
                                                           kDefaultTransparentPorts.end()});

// Hands the listeners to the other end of `socket` (one message; this side's copies close
// when `listeners` goes out of scope).
Result<> send_gateway_listeners(int socket, const GatewayListeners& listeners);

// Receives them, checking that each fd is the kind of socket its role needs.
Result<GatewayListeners> receive_gateway_listeners(int socket);

}  // namespace safeinstall::sandbox
