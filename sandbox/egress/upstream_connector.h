#pragma once
// Outbound connections from the host's network namespace: resolve, refuse non-public
// addresses the policy does not list, connect — or go through the invoker's proxy.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <expected>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sandbox/egress/egress_policy.h"
#include "sandbox/egress/gateway_options.h"

namespace safeinstall::sandbox {

struct ConnectFailure {
  std::optional<RefusalReason> refusal;  // a policy refusal (private-address) to record
  std::string message;                   // for the client: why the host was not reached
};

// A connection that carries plain-HTTP requests.
struct HttpUpstream {
  boost::asio::ip::tcp::socket socket;
  bool through_proxy = false;       // requests must be sent in absolute form
  std::string proxy_authorization;  // to add to each request when through_proxy
};

// GCC 12 mishandles temporaries with destructors inside a co_await expression (seen as a
// double free): coroutines here take references, and callers name their arguments first.
class UpstreamConnector {
 public:
  UpstreamConnector(const EgressPolicy& policy, const GatewayOptions& options)
      : policy_(policy), options_(options) {}

  // A byte stream to host:port for a CONNECT tunnel or a transparent relay: direct, or
  // through the upstream proxy's CONNECT when one applies to this host.
  boost::asio::awaitable<std::expected<boost::asio::ip::tcp::socket, ConnectFailure>> open_tunnel(
      const std::string& host, std::uint16_t port);

  // A connection for plain-HTTP requests to host:port: direct, or to the upstream HTTP proxy.
  boost::asio::awaitable<std::expected<HttpUpstream, ConnectFailure>> open_http(
      const std::string& host, std::uint16_t port);

 private:
  using Endpoints = std::vector<boost::asio::ip::tcp::endpoint>;

  // The addresses of `host`, of which only those the policy permits on `port` are kept
  // unless `trusted` (the invoker's own proxy).
  boost::asio::awaitable<std::expected<Endpoints, ConnectFailure>> resolve(const std::string& host,
                                                                           std::uint16_t port,
                                                                           bool trusted);
  boost::asio::awaitable<std::expected<boost::asio::ip::tcp::socket, ConnectFailure>> connect_first(
      const Endpoints& endpoints, const std::string& what);
  boost::asio::awaitable<std::expected<boost::asio::ip::tcp::socket, ConnectFailure>>
  connect_to_proxy(const UpstreamProxy& proxy);

  struct CachedAddresses {
    std::vector<boost::asio::ip::address> addresses;
    std::chrono::steady_clock::time_point expires;
  };

  const EgressPolicy& policy_;
  const GatewayOptions& options_;
  std::map<std::string, CachedAddresses> cache_;
};

// Asks an HTTP proxy on `socket` for a tunnel to host:port. Reads the proxy's answer byte by
// byte so not one byte of the tunnel that follows is consumed.
boost::asio::awaitable<std::expected<void, ConnectFailure>> request_proxy_tunnel(
    boost::asio::ip::tcp::socket& socket, const std::string& host, std::uint16_t port,
    const UpstreamProxy& proxy, std::size_t max_header_bytes);

}  // namespace safeinstall::sandbox
