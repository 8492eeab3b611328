// si-upstream-proxy: a corporate HTTP proxy on the fake internet, for the test that the
// gateway chains through the invoker's HTTPS_PROXY / HTTP_PROXY. It serves CONNECT tunnels
// and absolute-form plain-HTTP requests (keep-alive towards the client, one origin connection
// per request), finds hosts only in its own table (--map; IP literals as they are), never in
// DNS, and logs what it carried, one line per event:
//
//   CONNECT <peer> <host:port> auth=<Proxy-Authorization or -> -> <status>
//   tunnel <host:port> up=<client to origin bytes> down=<origin to client bytes>   (at its end)
//   <METHOD> <peer> <absolute target> auth=<...> -> <status>
//
// "ready" on stdout once it listens; SIGTERM or SIGINT ends it.
//
// usage: si-upstream-proxy --log FILE --bind ADDR [--port 3128] [--map NAME=ADDRESS]...
// GCC 12 misreports Asio's coroutine frame allocator (operator new/delete members of
// awaitable_frame_base) as mismatched in some coroutines: a false positive.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/server_common.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
using namespace safeinstall::test::server;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr auto kConnectTimeout = std::chrono::seconds(5);
constexpr std::uint64_t kMaxBody = 256ull << 20;

struct Options {
  std::string log;
  std::string bind;
  unsigned short port = 3128;
  std::map<std::string, asio::ip::address> map;  // lowercase names
};

struct Target {
  std::string host;
  unsigned short port = 80;
  std::string path = "/";
};

std::optional<unsigned short> port_number(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535)
    return std::nullopt;
  return static_cast<unsigned short>(value);
}

// host:port of a CONNECT line, or [v6]:port.
std::optional<Target> parse_authority(std::string_view text, unsigned short default_port) {
  Target target;
  std::string_view host = text;
  std::string_view port;
  if (text.starts_with('[')) {
    auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return std::nullopt;
      port = text.substr(close + 2);
    }
  } else if (auto colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty()) return std::nullopt;
  target.host = lowercase(host);
  target.port = default_port;
  if (!port.empty()) {
    auto number = port_number(port);
    if (!number) return std::nullopt;
    target.port = *number;
  }
  return target;
}

// http://host[:port]/path
std::optional<Target> parse_absolute(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.size() < kScheme.size() || lowercase(url.substr(0, kScheme.size())) != kScheme)
    return std::nullopt;
  url.remove_prefix(kScheme.size());
  auto slash = url.find('/');
  auto target = parse_authority(url.substr(0, slash), 80);
  if (!target) return std::nullopt;
  target->path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  return target;
}

class Proxy {
 public:
  explicit Proxy(const Options& options) : options_(options), log_(options.log) {}

  asio::awaitable<void> session(tcp::socket client, std::string peer) {
    beast::flat_buffer buffer;
    while (true) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(64 * 1024);
      parser.body_limit(kMaxBody);
      auto [ec, n] = co_await http::async_read(client, buffer, parser, kNoThrow);
      if (ec) break;
      auto request = parser.release();
      std::string auth(request[http::field::proxy_authorization]);
      if (auth.empty()) auth = "-";
      if (request.method() == http::verb::connect) {
        co_await tunnel(client, buffer, peer, std::string(request.target()), auth);
        break;
      }
      if (!co_await forward(client, request, peer, auth)) break;
      if (!request.keep_alive()) break;
    }
    boost::system::error_code ignored;
    client.shutdown(tcp::socket::shutdown_send, ignored);
  }

 private:
  std::optional<asio::ip::address> lookup(const std::string& host) const {
    if (auto it = options_.map.find(host); it != options_.map.end()) return it->second;
    boost::system::error_code ec;
    auto literal = asio::ip::make_address(host, ec);
    if (!ec) return literal;
    return std::nullopt;
  }

  asio::awaitable<std::optional<tcp::socket>> connect(const Target& target) {
    auto address = lookup(target.host);
    if (!address) co_return std::nullopt;
    auto executor = co_await asio::this_coro::executor;
    tcp::socket socket(executor);
    asio::steady_timer timer(executor, kConnectTimeout);
    auto outcome = co_await (socket.async_connect(tcp::endpoint(*address, target.port), kNoThrow) ||
                             timer.async_wait(kNoThrow));
    if (outcome.index() != 0) co_return std::nullopt;
    auto [ec] = std::get<0>(outcome);
    if (ec) co_return std::nullopt;
    co_return std::move(socket);
  }

  static asio::awaitable<void> pump(tcp::socket& from, tcp::socket& to, std::uint64_t& count) {
    std::vector<char> buffer(64 * 1024);
    while (true) {
      auto [ec, n] = co_await from.async_read_some(asio::buffer(buffer), kNoThrow);
      if (n > 0) {
        auto [write_error, w] =
            co_await asio::async_write(to, asio::buffer(buffer.data(), n), kNoThrow);
        count += w;
        if (write_error) break;
      }
      if (ec) break;
    }
    boost::system::error_code ignored;
    to.shutdown(tcp::socket::shutdown_send, ignored);
  }

  asio::awaitable<void> tunnel(tcp::socket& client, beast::flat_buffer& buffer,
                               const std::string& peer, const std::string& authority,
                               const std::string& auth) {
    auto target = parse_authority(authority, 443);
    std::optional<tcp::socket> origin;
    if (target) origin = co_await connect(*target);
    const char* status = origin ? "200" : "502";
    log_.line("CONNECT " + peer + " " + escape(authority) + " auth=" + escape(auth) + " -> " +
              status);
    if (!origin) {
      std::string answer = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n";
      co_await asio::async_write(client, asio::buffer(answer), kNoThrow);
      co_return;
    }
    std::string established = "HTTP/1.1 200 Connection established\r\n\r\n";
    auto [ec, w] = co_await asio::async_write(client, asio::buffer(established), kNoThrow);
    if (ec) co_return;
    std::uint64_t up = 0;
    std::uint64_t down = 0;
    if (buffer.size() > 0) {
      auto [early_error, early] = co_await asio::async_write(*origin, buffer.data(), kNoThrow);
      up += early;
      buffer.consume(early);
      if (early_error) co_return;
    }
    co_await (pump(client, *origin, up) && pump(*origin, client, down));
    log_.line("tunnel " + escape(authority) + " up=" + std::to_string(up) +
              " down=" + std::to_string(down));
  }

  // One request to the origin and its response back; false when the client connection must
  // end.
  asio::awaitable<bool> forward(tcp::socket& client, http::request<http::string_body>& request,
                                const std::string& peer, const std::string& auth) {
    std::string url(request.target());
    auto target = parse_absolute(url);
    std::optional<tcp::socket> origin;
    if (target) origin = co_await connect(*target);
    http::response<http::string_body> response;
    bool ok = false;
    if (origin) {
      const bool client_keep_alive = request.keep_alive();
      request.target(target->path);
      request.erase(http::field::proxy_authorization);
      request.erase(http::field::proxy_connection);
      request.keep_alive(false);
      auto [write_error, w] = co_await http::async_write(*origin, request, kNoThrow);
      request.keep_alive(client_keep_alive);
      if (!write_error) {
        beast::flat_buffer origin_buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(kMaxBody);
        auto [read_error, r] = co_await http::async_read(*origin, origin_buffer, parser, kNoThrow);
        if (!read_error) {
          response = parser.release();
          ok = true;
        }
      }
    }
    if (!ok) {
      response = {};
      response.version(11);
      response.result(target ? http::status::bad_gateway : http::status::bad_request);
      response.body() = "si-upstream-proxy: cannot reach " + url + "\n";
    }
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    log_.line(std::string(request.method_string()) + " " + peer + " " + escape(url) +
              " auth=" + escape(auth) + " -> " + std::to_string(response.result_int()));
    auto [ec, w] = co_await http::async_write(client, response, kNoThrow);
    co_return !ec && ok;
  }

  const Options& options_;
  EventLog log_;
};

Options parse_options(int argc, char** argv) {
  Options options;
  for_each_option(argc, argv, [&options](std::string_view flag, const std::string& value) {
    if (flag == "--log") {
      options.log = value;
    } else if (flag == "--bind") {
      options.bind = value;
    } else if (flag == "--port") {
      options.port = parse_port(value);
    } else if (flag == "--map") {
      auto eq = value.find('=');
      if (eq == std::string::npos || eq == 0) throw UsageError{"--map wants NAME=ADDRESS"};
      options.map[lowercase(value.substr(0, eq))] = parse_address(value.substr(eq + 1));
    } else {
      throw UsageError{"unknown option " + std::string(flag)};
    }
  });
  if (options.log.empty()) throw UsageError{"--log FILE is required"};
  if (options.bind.empty()) throw UsageError{"--bind ADDR is required"};
  return options;
}

int serve(const Options& options) {
  asio::io_context io;
  Proxy proxy(options);
  TcpListener listener(io, tcp::endpoint(parse_address(options.bind), options.port),
                       "cannot listen on " + options.bind + " port " + std::to_string(options.port),
                       [&io, &proxy](tcp::socket socket, const asio::ip::address& peer) {
                         asio::co_spawn(io, proxy.session(std::move(socket), peer_name(peer)),
                                        asio::detached);
                       });
  return run_until_stopped(io);
}

}  // namespace

int main(int argc, char** argv) {
  return server_main(argc, argv, "si-upstream-proxy",
                     "si-upstream-proxy --log FILE --bind ADDR [--port 3128] "
                     "[--map NAME=ADDRESS]...",
                     [](int count, char** words) { return serve(parse_options(count, words)); });
}
