#include "runner/policy/http_get.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
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

struct Answer {
  unsigned status = 0;
  std::string location;  // of a redirect
  std::string body;      // of a 200
};

constexpr int kMaxRedirects = 5;

bool is_redirect(unsigned status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

template <typename Stream>
asio::awaitable<Answer> exchange(Stream& stream, const Url& url, const HttpGetLimits& limits) {
  http::request<http::empty_body> request{http::verb::get, url.target, 11};
  request.set(http::field::host, host_header(url));
  request.set(http::field::user_agent, "safeinstall");
  request.set(http::field::accept, "application/json");
  beast::get_lowest_layer(stream).expires_after(limits.timeout);
  co_await http::async_write(stream, request, asio::use_awaitable);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(limits.max_body);
  co_await http::async_read(stream, buffer, parser, asio::use_awaitable);
  auto& response = parser.get();
  Answer answer{response.result_int(), {}, {}};
  if (is_redirect(answer.status))
    answer.location = std::string(response[http::field::location]);
  else if (response.result() == http::status::ok)
    answer.body = std::move(response.body());
  else
    throw Failure("HTTP " + std::to_string(answer.status));
  co_return answer;
}

asio::awaitable<Answer> fetch_once(const Url& url, const sandbox::EgressPolicy& allowed,
                                   const HttpGetLimits& limits) {
  auto executor = co_await asio::this_coro::executor;
  auto endpoints = co_await permitted_endpoints(url, allowed);
  if (url.scheme == "http") {
    beast::tcp_stream stream(executor);
    stream.expires_after(limits.timeout);
    co_await stream.async_connect(endpoints.front(), asio::use_awaitable);
    co_return co_await exchange(stream, url, limits);
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
  beast::get_lowest_layer(stream).expires_after(limits.timeout);
  co_await beast::get_lowest_layer(stream).async_connect(endpoints.front(), asio::use_awaitable);
  co_await stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
  co_return co_await exchange(stream, url, limits);
}

// Where a redirect leads: an absolute URL, or a path on the same server. It must be a host the
// profile allows, as the first URL was, and never from https down to http.
Url redirect_target(const Url& from, const std::string& location,
                    const sandbox::EgressPolicy& allowed) {
  if (location.empty()) throw Failure("a redirect without a Location");
  Url to = from;
  if (location.find("://") != std::string::npos) {
    auto parsed = parse_url(location);
    if (!parsed) throw Failure("redirected to " + location + ": " + parsed.error().step);
    to = std::move(*parsed);
  } else if (location.starts_with("//")) {
    auto parsed = parse_url(from.scheme + ":" + location);
    if (!parsed) throw Failure("redirected to " + location + ": " + parsed.error().step);
    to = std::move(*parsed);
  } else if (location.starts_with('/')) {
    to.target = location;
  } else {
    std::string dir = from.target.substr(0, from.target.find_first_of('?'));
    to.target = dir.substr(0, dir.rfind('/') + 1) + location;
  }
  if (from.scheme == "https" && to.scheme != "https")
    throw Failure("redirected from https to " + location + ", which is not followed");
  if (!allowed.allows(to.host, to.port))
    throw Failure("redirected to " + location + ": " + host_header(to) +
                  " is not among the hosts the profile allows");
  return to;
}

asio::awaitable<std::string> fetch(const Url& first, const sandbox::EgressPolicy& allowed,
                                   const HttpGetLimits& limits) {
  Url url = first;
  for (int redirects = 0;; ++redirects) {
    Answer answer = co_await fetch_once(url, allowed, limits);
    if (!is_redirect(answer.status)) co_return std::move(answer.body);
    if (redirects == kMaxRedirects)
      throw Failure("more than " + std::to_string(kMaxRedirects) + " redirects");
    url = redirect_target(url, answer.location, allowed);
  }
}

std::string no_answer(const HttpGetLimits& limits) {
  return "no answer within " + std::to_string(limits.timeout.count()) + " ms";
}

// One request to its result, every failure as text.
asio::awaitable<void> fetch_into(const Url& url, const std::string& shown,
                                 const sandbox::EgressPolicy& allowed, const HttpGetLimits& limits,
                                 std::optional<Result<std::string>>& into) {
  try {
    into = co_await fetch(url, allowed, limits);
  } catch (const boost::system::system_error& e) {
    into = plain_error(shown + ": " +
                       (e.code() == beast::error::timeout ? no_answer(limits) : e.what()));
  } catch (const std::exception& e) {
    into = plain_error(shown + ": " + e.what());
  }
}

// A worker of a batch: takes the next request until none is left.
asio::awaitable<void> worker(const std::vector<std::optional<Url>>& urls,
                             const std::vector<std::string>& shown,
                             const sandbox::EgressPolicy& allowed, const HttpGetLimits& limits,
                             std::size_t& next,
                             std::vector<std::optional<Result<std::string>>>& out) {
  while (next < urls.size()) {
    std::size_t i = next++;
    if (urls[i]) co_await fetch_into(*urls[i], shown[i], allowed, limits, out[i]);
  }
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

std::vector<Result<std::string>> http_get_all(const std::vector<std::string>& urls,
                                              const sandbox::EgressPolicy& allowed,
                                              const HttpGetLimits& limits) {
  std::vector<std::optional<Result<std::string>>> results(urls.size());
  std::vector<std::optional<Url>> parsed(urls.size());
  for (std::size_t i = 0; i < urls.size(); ++i) {
    auto url = parse_url(urls[i]);
    if (!url) {
      results[i] = propagate(url);
    } else if (!allowed.allows(url->host, url->port)) {
      results[i] = plain_error(
          urls[i] + ": " + host_header(*url) + " is not among the hosts the profile allows",
          "allow it with --allow-host or [network] allow");
    } else {
      parsed[i] = std::move(*url);
    }
  }
  std::size_t next = 0;
  asio::io_context io;
  std::size_t workers = std::min(std::max<std::size_t>(limits.parallel, 1), urls.size());
  for (std::size_t w = 0; w < workers; ++w)
    asio::co_spawn(io, worker(parsed, urls, allowed, limits, next, results), asio::detached);
  // Each step has its own timeout; name resolution has none of its own, so the batch has one.
  io.run_for(limits.batch_timeout);
  std::vector<Result<std::string>> out;
  out.reserve(urls.size());
  for (std::size_t i = 0; i < urls.size(); ++i) {
    if (results[i])
      out.push_back(std::move(*results[i]));
    else
      out.push_back(plain_error(urls[i] + ": " + no_answer(limits)));
  }
  return out;
}

Result<std::string> http_get(std::string_view url, const sandbox::EgressPolicy& allowed,
                             const HttpGetLimits& limits) {
  return std::move(http_get_all({std::string(url)}, allowed, limits).front());
}

}  // namespace safeinstall::runner
