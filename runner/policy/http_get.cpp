#include "runner/policy/http_get.h"

#include <openssl/ssl.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <optional>
#include <stdexcept>
#include <variant>

namespace safeinstall::runner {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string host_header(const Url& url) {
  bool v6 = url.host.find(':') != std::string::npos;
  std::string host = v6 ? "[" + url.host + "]" : url.host;
  bool default_port =
      (url.scheme == "http" && url.port == 80) || (url.scheme == "https" && url.port == 443);
  return default_port ? host : host + ":" + std::to_string(url.port);
}

// Resolved addresses the egress policy permits (public, or listed exactly): the metadata
// fetch must not reach what the sandbox itself could not.
asio::awaitable<std::vector<tcp::endpoint>> permitted_endpoints(
    const Url& url, const sandbox::EgressPolicy& allowed) {
  tcp::resolver resolver(co_await asio::this_coro::executor);
  auto results =
      co_await resolver.async_resolve(url.host, std::to_string(url.port), asio::use_awaitable);
  std::vector<tcp::endpoint> out;
  for (const auto& entry : results) {
    if (allowed.permits_address(entry.endpoint().address(), url.port))
      out.push_back(entry.endpoint());
  }
  if (out.empty())
    throw Failure(url.host + " resolves only to addresses the profile does not permit");
  co_return out;
}

template <typename Stream>
asio::awaitable<std::string> exchange(Stream& stream, const Url& url, std::size_t max_body) {
  http::request<http::empty_body> request{http::verb::get, url.target, 11};
  request.set(http::field::host, host_header(url));
  request.set(http::field::user_agent, "safeinstall");
  request.set(http::field::accept, "application/json");
  co_await http::async_write(stream, request, asio::use_awaitable);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_body);
  co_await http::async_read(stream, buffer, parser, asio::use_awaitable);
  auto& response = parser.get();
  if (response.result() != http::status::ok)
    throw Failure("HTTP " + std::to_string(response.result_int()));
  co_return std::move(response.body());
}

asio::awaitable<std::string> fetch(Url url, const sandbox::EgressPolicy& allowed,
                                   std::size_t max_body) {
  auto executor = co_await asio::this_coro::executor;
  auto endpoints = co_await permitted_endpoints(url, allowed);
  if (url.scheme == "http") {
    beast::tcp_stream stream(executor);
    co_await stream.async_connect(endpoints.front(), asio::use_awaitable);
    co_return co_await exchange(stream, url, max_body);
  }
  asio::ssl::context context(asio::ssl::context::tls_client);
  context.set_default_verify_paths();
  context.set_verify_mode(asio::ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(executor, context);
  stream.set_verify_callback(asio::ssl::host_name_verification(url.host));
  // SNI; the OpenSSL macro for it is an old-style cast, so its call is spelled out.
  if (::SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(url.host.c_str())) != 1)
    throw Failure("TLS: cannot set the server name");
  co_await beast::get_lowest_layer(stream).async_connect(endpoints.front(), asio::use_awaitable);
  co_await stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
  co_return co_await exchange(stream, url, max_body);
}

}  // namespace

Result<Url> parse_url(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return plain_error("URL " + std::string(text) + ": " + why);
  };
  Url url;
  auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return bad("no scheme");
  url.scheme = std::string(text.substr(0, scheme_end));
  if (url.scheme != "http" && url.scheme != "https") return bad("only http and https are fetched");
  std::string_view rest = text.substr(scheme_end + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  url.target = std::string(rest.substr(authority.size()));
  if (auto hash = url.target.find('#'); hash != std::string::npos) url.target.resize(hash);
  if (url.target.empty() || url.target.front() != '/') url.target.insert(0, "/");
  if (authority.find('@') != std::string_view::npos) return bad("user info is not sent");
  std::string_view port;
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return bad("unclosed [");
    url.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return bad("junk after ]");
      port = authority.substr(close + 2);
    }
  } else {
    auto colon = authority.find(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (url.host.empty()) return bad("no host");
  url.port = url.scheme == "https" ? 443 : 80;
  if (!port.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535)
      return bad("bad port");
    url.port = static_cast<std::uint16_t>(value);
  }
  return url;
}

Result<std::string> http_get(std::string_view text, const sandbox::EgressPolicy& allowed,
                             const HttpGetLimits& limits) {
  auto url = parse_url(text);
  if (!url) return propagate(url);
  if (!allowed.allows(url->host, url->port))
    return plain_error(
        std::string(text) + ": " + host_header(*url) + " is not among the hosts the profile allows",
        "allow it with --allow-host or [network] allow");
  asio::io_context io;
  std::optional<std::variant<std::string, std::string>> outcome;  // body, or why not
  asio::co_spawn(io, fetch(*url, allowed, limits.max_body),
                 [&](std::exception_ptr error, std::string body) {
                   if (!error) {
                     outcome.emplace(std::in_place_index<0>, std::move(body));
                     return;
                   }
                   try {
                     std::rethrow_exception(error);
                   } catch (const std::exception& e) {
                     outcome.emplace(std::in_place_index<1>, e.what());
                   }
                 });
  io.run_for(limits.timeout);
  if (!outcome)
    return plain_error(std::string(text) + ": no answer within " +
                       std::to_string(limits.timeout.count()) + " ms");
  if (outcome->index() == 1) return plain_error(std::string(text) + ": " + std::get<1>(*outcome));
  return std::get<0>(std::move(*outcome));
}

}  // namespace safeinstall::runner
