#include "sandbox/egress/upstream_connector.h"

#include <algorithm>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

#include "sandbox/egress/coroutines.h"
#include "sandbox/egress/proxy_request.h"

namespace safeinstall::sandbox {
namespace {

using namespace asio::experimental::awaitable_operators;
// Wildcard patterns let a client name endless hosts; the cache forgets rather than grows.
constexpr std::size_t kMaxCachedNames = 1024;

std::unexpected<ConnectFailure> unreachable(std::string message) {
  return std::unexpected(ConnectFailure{std::nullopt, std::move(message)});
}

}  // namespace

asio::awaitable<std::expected<std::vector<tcp::endpoint>, ConnectFailure>>
UpstreamConnector::resolve(const std::string& host, std::uint16_t port, bool trusted) {
  std::vector<asio::ip::address> addresses;
  auto now = std::chrono::steady_clock::now();
  if (auto literal = parse_ip_literal(host)) {
    addresses.push_back(*literal);
  } else if (auto pinned = options_.pinned_hosts.find(host);
             pinned != options_.pinned_hosts.end()) {
    addresses = pinned->second;
  } else if (auto cached = cache_.find(host);
             cached != cache_.end() && cached->second.expires > now) {
    addresses = cached->second.addresses;
  } else {
    // Asio runs getaddrinfo on its internal resolver thread: the host's resolver, hosts
    // file and search rules apply, and the event loop never blocks on it.
    tcp::resolver resolver(co_await asio::this_coro::executor);
    const std::string service = std::to_string(port);
    auto [ec, results] =
        co_await resolver.async_resolve(host, service, tcp::resolver::numeric_service, kNoThrow);
    if (ec) co_return unreachable("cannot resolve " + host + ": " + ec.message());
    for (const auto& entry : results) {
      auto address = entry.endpoint().address();
      if (std::find(addresses.begin(), addresses.end(), address) == addresses.end()) {
        addresses.push_back(address);
      }
    }
    if (cache_.size() >= kMaxCachedNames) cache_.clear();
    cache_[host] = {addresses, now + options_.resolve_cache};
  }
  std::vector<tcp::endpoint> permitted;
  for (const auto& address : addresses) {
    if (trusted || policy_.permits_address(address, port)) permitted.emplace_back(address, port);
  }
  if (permitted.empty() && !addresses.empty()) {
    co_return std::unexpected(ConnectFailure{
        RefusalReason::PrivateAddress,
        host + " resolves only to private, loopback or link-local addresses (such as " +
            addresses.front().to_string() + ") that the allowed hosts do not list"});
  }
  if (permitted.empty()) co_return unreachable("no addresses for " + host);
  co_return permitted;
}

asio::awaitable<std::expected<tcp::socket, ConnectFailure>> UpstreamConnector::connect_first(
    const std::vector<tcp::endpoint>& endpoints, const std::string& what) {
  auto executor = co_await asio::this_coro::executor;
  std::string last_error = "no address to try";
  for (const auto& endpoint : endpoints) {
    tcp::socket socket(executor);
    asio::steady_timer timer(executor, options_.connect_timeout);
    auto outcome =
        co_await (socket.async_connect(endpoint, kNoThrow) || timer.async_wait(kNoThrow));
    if (outcome.index() == 1) {
      last_error = "timed out";
      continue;
    }
    auto [ec] = std::get<0>(outcome);
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      co_return socket;
    }
    last_error = ec.message();
  }
  co_return unreachable("cannot connect to " + what + ": " + last_error);
}

asio::awaitable<std::expected<tcp::socket, ConnectFailure>> UpstreamConnector::connect_to_proxy(
    const UpstreamProxy& proxy) {
  auto endpoints = co_await resolve(proxy.host, proxy.port, true);
  if (!endpoints) co_return propagate(endpoints);
  const std::string what = "the upstream proxy " + proxy.display();
  auto socket = co_await connect_first(*endpoints, what);
  co_return socket;
}

asio::awaitable<std::expected<tcp::socket, ConnectFailure>> UpstreamConnector::open_tunnel(
    const std::string& host, std::uint16_t port) {
  const UpstreamProxy* proxy = options_.upstream.for_tunnel(host);
  auto literal = parse_ip_literal(host);
  if (proxy == nullptr || literal) {
    // An IP literal is checked here even when a proxy would carry it: that much is known.
    auto endpoints = co_await resolve(host, port, false);
    if (!endpoints) co_return propagate(endpoints);
    if (proxy == nullptr) {
      const std::string what = Authority{host, port}.text();
      auto socket = co_await connect_first(*endpoints, what);
      co_return socket;
    }
  }
  auto socket = co_await connect_to_proxy(*proxy);
  if (!socket) co_return socket;
  auto tunnel =
      co_await request_proxy_tunnel(*socket, host, port, *proxy, options_.max_header_bytes);
  if (!tunnel) co_return propagate(tunnel);
  co_return std::move(*socket);
}

asio::awaitable<std::expected<HttpUpstream, ConnectFailure>> UpstreamConnector::open_http(
    const std::string& host, std::uint16_t port) {
  const UpstreamProxy* proxy = options_.upstream.for_http(host);
  if (proxy == nullptr || parse_ip_literal(host)) {
    auto endpoints = co_await resolve(host, port, false);
    if (!endpoints) co_return propagate(endpoints);
    if (proxy == nullptr) {
      const std::string what = Authority{host, port}.text();
      auto socket = co_await connect_first(*endpoints, what);
      if (!socket) co_return propagate(socket);
      co_return HttpUpstream{std::move(*socket), false, {}};
    }
  }
  auto socket = co_await connect_to_proxy(*proxy);
  if (!socket) co_return propagate(socket);
  co_return HttpUpstream{std::move(*socket), true, proxy->authorization};
}

asio::awaitable<std::expected<void, ConnectFailure>> request_proxy_tunnel(
    tcp::socket& socket, const std::string& host, std::uint16_t port, const UpstreamProxy& proxy,
    std::size_t max_header_bytes) {
  std::string authority = Authority{host, port}.text();
  std::string request = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n";
  if (!proxy.authorization.empty())
    request += "Proxy-Authorization: " + proxy.authorization + "\r\n";
  request += "\r\n";
  auto [write_error, written] = co_await asio::async_write(socket, asio::buffer(request), kNoThrow);
  if (write_error)
    co_return unreachable("upstream proxy " + proxy.display() + ": " + write_error.message());

  std::string head;
  while (!head.ends_with("\r\n\r\n")) {
    if (head.size() >= max_header_bytes) {
      co_return unreachable("upstream proxy " + proxy.display() + " sent an oversized answer");
    }
    char c = 0;
    auto [ec, n] = co_await asio::async_read(socket, asio::buffer(&c, 1), kNoThrow);
    if (ec) co_return unreachable("upstream proxy " + proxy.display() + ": " + ec.message());
    head += c;
  }
  http::response_parser<http::empty_body> parser;
  parser.skip(true);  // a CONNECT answer has no body, whatever its headers say
  boost::system::error_code ec;
  parser.put(asio::buffer(head), ec);
  if (ec || !parser.is_header_done()) {
    co_return unreachable("upstream proxy " + proxy.display() + " sent a malformed answer");
  }
  unsigned status = parser.get().result_int();
  if (status < 200 || status > 299) {
    co_return unreachable("upstream proxy " + proxy.display() + " answered " +
                          std::to_string(status) + " to CONNECT " + authority);
  }
  co_return std::expected<void, ConnectFailure>{};
}

}  // namespace safeinstall::sandbox
