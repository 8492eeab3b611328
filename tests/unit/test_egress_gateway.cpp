// In-process end-to-end tests of the egress gateway on the host's loopback: the listeners
// are made here on ephemeral ports (inside a sandbox they sit on fixed ports of its own
// network namespace), origins and an upstream proxy run on a second event loop, and the
// clients are plain blocking sockets on the test thread.

#include <catch2/catch.hpp>

// GCC 12 misreports Asio's coroutine frame allocator (operator new/delete members of
// awaitable_frame_base) as mismatched in some coroutines of this file: a false positive.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <sched.h>
#include <sys/wait.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <future>
#include <mutex>
#include <thread>

#include "egress_test_support.h"
#include "sandbox/confine/network.h"
#include "sandbox/egress/egress_gateway.h"
#include "sandbox/egress/fd_passing.h"
#include "sandbox/egress/relay.h"

using namespace safeinstall::sandbox;
using egress_test::Client;
namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;
using asio::ip::udp;
using namespace std::chrono_literals;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

std::uint16_t bound_port(int fd) {
  sockaddr_in sa{};
  socklen_t size = sizeof(sa);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &size);
  return ntohs(sa.sin_port);
}

UniqueFd loopback_socket(int type, const char* address, std::uint16_t port) {
  UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  REQUIRE(fd);
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  ::inet_pton(AF_INET, address, &sa.sin_addr);
  REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0);
  if (type == SOCK_STREAM) REQUIRE(::listen(fd.get(), 64) == 0);
  return fd;
}

// The test-only stand-in for create_gateway_listeners: ephemeral loopback ports, and
// transparent listeners on the given fake addresses and ports.
GatewayListeners loopback_listeners(
    const std::vector<std::pair<const char*, std::uint16_t>>& transparent) {
  GatewayListeners listeners;
  listeners.proxy = loopback_socket(SOCK_STREAM, "127.0.0.1", 0);
  listeners.dns_udp = loopback_socket(SOCK_DGRAM, "127.0.0.1", 0);
  listeners.dns_tcp = loopback_socket(SOCK_STREAM, "127.0.0.1", 0);
  for (auto [address, port] : transparent) {
    listeners.transparent.emplace_back(port, loopback_socket(SOCK_STREAM, address, port));
  }
  return listeners;
}

template <typename Predicate>
bool eventually(Predicate done, std::chrono::milliseconds limit = 5000ms) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

struct Response {
  int status = 0;
  std::string head;
  std::string body;
};

// Reads one response with a Content-Length body (or up to EOF without one).
Response read_response(Client& client) {
  Response response;
  response.head = client.read_until("\r\n\r\n");
  if (response.head.size() < 12) return response;
  response.status = std::stoi(response.head.substr(9, 3));
  auto at = response.head.find("Content-Length: ");
  if (at == std::string::npos) at = response.head.find("content-length: ");
  if (at != std::string::npos) {
    response.body = client.read_exactly(std::stoul(response.head.substr(at + 16)));
  }
  return response;
}

// The outside world: an origin that speaks HTTP/1.1 or echoes TLS-looking bytes, and an
// upstream proxy that tunnels CONNECTs to the origin and answers plain requests itself.
class World {
 public:
  World() : guard_(io_.get_executor()) {
    origin_ =
        std::make_unique<tcp::acceptor>(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    proxy_ =
        std::make_unique<tcp::acceptor>(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    asio::co_spawn(io_, accept(*origin_, &World::serve_origin), asio::detached);
    asio::co_spawn(io_, accept(*proxy_, &World::serve_proxy), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~World() {
    asio::post(io_, [this] {
      origin_->close();
      proxy_->close();
    });
    guard_.reset();
    io_.stop();
    thread_.join();
  }

  std::uint16_t origin_port() const { return origin_->local_endpoint().port(); }
  std::uint16_t proxy_port() const { return proxy_->local_endpoint().port(); }
  int origin_connections() const { return origin_connections_; }
  std::vector<std::string> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }
  std::vector<std::string> proxy_seen() {
    std::lock_guard lock(mutex_);
    return proxy_seen_;
  }

 private:
  using Handler = asio::awaitable<void> (World::*)(tcp::socket);

  asio::awaitable<void> accept(tcp::acceptor& acceptor, Handler handler) {
    while (true) {
      auto [ec, socket] = co_await acceptor.async_accept(kNoThrow);
      if (ec) co_return;
      asio::co_spawn(io_, (this->*handler)(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve_origin(tcp::socket socket) {
    ++origin_connections_;
    char first = 0;
    auto [peek_error, peeked] =
        co_await socket.async_receive(asio::buffer(&first, 1), tcp::socket::message_peek, kNoThrow);
    if (peek_error) co_return;
    if (first == 0x16) {  // "TLS": echo everything back
      std::array<char, 4096> buffer;
      while (true) {
        auto [ec, n] = co_await socket.async_read_some(asio::buffer(buffer), kNoThrow);
        if (ec) co_return;
        auto [wec, w] =
            co_await asio::async_write(socket, asio::buffer(buffer.data(), n), kNoThrow);
        if (wec) co_return;
      }
    }
    beast::flat_buffer buffer;
    while (true) {
      beast::http::request<beast::http::string_body> request;
      auto [ec, n] = co_await beast::http::async_read(socket, buffer, request, kNoThrow);
      if (ec) co_return;
      std::string target(request.target());
      std::string host(request[beast::http::field::host]);
      {
        std::lock_guard lock(mutex_);
        seen_.push_back(std::string(request.method_string()) + " " + target + " host=" + host);
      }
      beast::http::response<beast::http::string_body> response{beast::http::status::ok,
                                                               request.version()};
      if (target.starts_with("/slow/")) {  // answers after that many milliseconds
        asio::steady_timer delay(io_, std::chrono::milliseconds(std::stoul(target.substr(6))));
        co_await delay.async_wait(kNoThrow);
        response.body() = "slow hello";
      } else if (target.starts_with("/size/")) {
        response.body() = std::string(std::stoul(target.substr(6)), 'x');
      } else if (target == "/echo") {
        response.body() = request.body();
      } else {
        response.body() = "hello from origin";
      }
      response.keep_alive(request.keep_alive());
      response.prepare_payload();
      auto [wec, w] = co_await beast::http::async_write(socket, response, kNoThrow);
      if (wec || !request.keep_alive()) co_return;
    }
  }

  asio::awaitable<void> serve_proxy(tcp::socket socket) {
    beast::flat_buffer buffer;
    beast::http::request_parser<beast::http::empty_body> parser;
    auto [ec, n] = co_await beast::http::async_read_header(socket, buffer, parser, kNoThrow);
    if (ec) co_return;
    auto& request = parser.get();
    std::string target(request.target());
    {
      std::lock_guard lock(mutex_);
      proxy_seen_.push_back(std::string(request.method_string()) + " " + target + " auth=" +
                            std::string(request[beast::http::field::proxy_authorization]));
    }
    if (request.method() != beast::http::verb::connect) {
      std::string body = "via test proxy: " + target;
      std::string response = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                             "\r\nConnection: close\r\n\r\n" + body;
      co_await asio::async_write(socket, asio::buffer(response), kNoThrow);
      co_return;
    }
    // Every name is the origin, on the port asked for.
    auto port = static_cast<std::uint16_t>(std::stoi(target.substr(target.rfind(':') + 1)));
    tcp::socket origin(io_);
    const tcp::endpoint origin_endpoint(asio::ip::make_address("127.0.0.1"), port);
    auto [cec] = co_await origin.async_connect(origin_endpoint, kNoThrow);
    if (cec) co_return;
    std::string established = "HTTP/1.1 200 Connection established\r\n\r\n";
    co_await asio::async_write(socket, asio::buffer(established), kNoThrow);
    ContactedHost counts;
    ActivityClock activity;
    co_await relay_both_ways(socket, origin, counts, activity, 4096);
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::unique_ptr<tcp::acceptor> origin_;
  std::unique_ptr<tcp::acceptor> proxy_;
  std::atomic<int> origin_connections_{0};
  std::mutex mutex_;
  std::vector<std::string> seen_;
  std::vector<std::string> proxy_seen_;
  std::thread thread_;
};

// The gateway on its own event loop thread, as the supervisor will run it.
class Gateway {
 public:
  Gateway(const std::vector<std::string>& patterns, GatewayOptions options,
          const std::vector<std::pair<const char*, std::uint16_t>>& transparent = {})
      : guard_(io_.get_executor()) {
    auto policy = EgressPolicy::parse(patterns);
    REQUIRE(policy);
    gateway_ = std::make_unique<EgressGateway>(io_, *policy, std::move(options));
    auto listeners = loopback_listeners(transparent);
    proxy_port = bound_port(listeners.proxy.get());
    dns_udp_port = bound_port(listeners.dns_udp.get());
    dns_tcp_port = bound_port(listeners.dns_tcp.get());
    auto served = gateway_->serve(std::move(listeners));
    REQUIRE(served);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Gateway() {
    asio::post(io_, [this] { gateway_->stop(); });
    guard_.reset();
    thread_.join();
  }

  template <typename F>
  auto on_loop(F f) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    asio::post(io_, [&task] { task(); });
    return result.get();
  }
  NetworkEntries record() {
    return on_loop([this] { return gateway_->record().entries(); });
  }
  std::size_t active() {
    return on_loop([this] { return gateway_->active_connections(); });
  }
  bool settle() {
    return eventually([this] { return active() == 0; });
  }

  std::uint16_t proxy_port = 0;
  std::uint16_t dns_udp_port = 0;
  std::uint16_t dns_tcp_port = 0;

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::unique_ptr<EgressGateway> gateway_;
  std::thread thread_;
};

GatewayOptions pinned(std::map<std::string, std::vector<std::string>> names) {
  GatewayOptions options;
  for (const auto& [name, addresses] : names) {
    for (const auto& address : addresses) {
      options.pinned_hosts[name].push_back(asio::ip::make_address(address));
    }
  }
  return options;
}

std::string port_text(std::uint16_t port) {
  return std::to_string(port);
}

// The fake address the gateway's DNS stub gives `name`, asked over UDP.
std::optional<std::string> resolve_through_stub(std::uint16_t dns_port, const std::string& name) {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  timeval tv{2, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(dns_port);
  ::inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  auto query = egress_test::dns_query(name, 1);
  ::sendto(fd.get(), query.data(), query.size(), 0, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
  std::array<std::uint8_t, 512> reply{};
  ssize_t n = ::recv(fd.get(), reply.data(), reply.size(), 0);
  if (n != static_cast<ssize_t>(query.size() + 16) || (reply[3] & 0xf) != 0) return std::nullopt;
  std::size_t at = query.size() + 12;
  return std::to_string(reply[at]) + "." + std::to_string(reply[at + 1]) + "." +
         std::to_string(reply[at + 2]) + "." + std::to_string(reply[at + 3]);
}

template <typename Entry>
const Entry* find_entry(const std::deque<Entry>& list, const std::string& host) {
  for (const auto& entry : list) {
    if (entry.host == host) return &entry;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("egress gateway: CONNECT to an allowed host tunnels, bytes counted exactly") {
  World world;
  auto port = port_text(world.origin_port());
  Gateway gateway({"registry.test:" + port, "127.0.0.1:" + port},
                  pinned({{"registry.test", {"127.0.0.1"}}}));

  std::string request =
      "GET /size/100000 HTTP/1.1\r\nHost: registry.test\r\nConnection: close\r\n\r\n";
  std::string response;
  {
    Client client("127.0.0.1", gateway.proxy_port);
    REQUIRE(client.send("CONNECT registry.test:" + port +
                        " HTTP/1.1\r\nHost: registry.test:" + port + "\r\n\r\n"));
    CHECK_THAT(client.read_until("\r\n\r\n"), Catch::StartsWith("HTTP/1.1 200"));
    REQUIRE(client.send(request));
    bool eof = false;
    response = client.read_all(&eof);
    CHECK(eof);
  }
  CHECK_THAT(response, Catch::StartsWith("HTTP/1.1 200"));
  CHECK(response.size() > 100000);
  REQUIRE(gateway.settle());

  auto record = gateway.record();
  REQUIRE(record.contacted.size() == 1);
  const ContactedHost& contacted = record.contacted[0];
  CHECK(contacted.host == "registry.test");
  CHECK(contacted.port == world.origin_port());
  CHECK(contacted.connections == 1);
  CHECK(contacted.bytes_sent == request.size());
  CHECK(contacted.bytes_received == response.size());
  CHECK(contacted.via == Via::Proxy);
  CHECK(record.refused.empty());
}

TEST_CASE("egress gateway: a name resolved by the host (localhost) connects to a listed address") {
  World world;
  auto port = port_text(world.origin_port());
  Gateway gateway({"localhost:" + port, "127.0.0.1:" + port}, GatewayOptions{});
  Client client("127.0.0.1", gateway.proxy_port);
  REQUIRE(
      client.send("GET http://localhost:" + port + "/hello HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  auto response = read_response(client);
  CHECK(response.status == 200);
  CHECK(response.body == "hello from origin");
}

TEST_CASE("egress gateway: CONNECT to a host not allowed is refused with 403 and recorded") {
  World world;
  auto port = port_text(world.origin_port());
  Gateway gateway({"registry.test:" + port, "127.0.0.1:" + port},
                  pinned({{"registry.test", {"127.0.0.1"}}, {"evil.test", {"127.0.0.1"}}}));
  for (int i = 0; i < 2; ++i) {
    Client client("127.0.0.1", gateway.proxy_port);
    REQUIRE(client.send("CONNECT evil.test:" + port + " HTTP/1.1\r\n\r\n"));
    auto response = read_response(client);
    CHECK(response.status == 403);
    CHECK_THAT(response.body, Catch::Contains("not-allowed"));
  }
  Client ip_literal("127.0.0.1", gateway.proxy_port);
  REQUIRE(ip_literal.send("CONNECT 127.0.0.2:" + port + " HTTP/1.1\r\n\r\n"));
  CHECK(read_response(ip_literal).status == 403);
  REQUIRE(gateway.settle());
  auto record = gateway.record();
  CHECK(record.contacted.empty());
  auto* evil = find_entry(record.refused, "evil.test");
  REQUIRE(evil != nullptr);
  CHECK(evil->reason == RefusalReason::NotAllowed);
  CHECK(evil->count == 2);
  CHECK(find_entry(record.refused, "127.0.0.2") != nullptr);
  CHECK(world.origin_connections() == 0);
}

TEST_CASE("egress gateway: plain HTTP keep-alive, two requests, then another host") {
  World world;
  auto port = port_text(world.origin_port());
  Gateway gateway({"registry.test:" + port, "other.test:" + port, "127.0.0.1:" + port},
                  pinned({{"registry.test", {"127.0.0.1"}}, {"other.test", {"127.0.0.1"}}}));
  Client client("127.0.0.1", gateway.proxy_port);
  std::string first = "GET http://registry.test:" + port +
                      "/hello HTTP/1.1\r\nHost: registry.test:" + port +
                      "\r\nProxy-Connection: keep-alive\r\n\r\n";
  REQUIRE(client.send(first));
  auto one = read_response(client);
  CHECK(one.status == 200);
  CHECK(one.body == "hello from origin");
  std::string second = "POST http://registry.test:" + port +
                       "/echo HTTP/1.1\r\nHost: registry.test\r\nContent-Length: 5\r\n\r\nabcde";
  REQUIRE(client.send(second));
  auto two = read_response(client);
  CHECK(two.status == 200);
  CHECK(two.body == "abcde");
  CHECK(world.origin_connections() == 1);

  REQUIRE(client.send("GET http://other.test:" + port +
                      "/size/10 HTTP/1.1\r\nHost: other.test\r\n\r\n"));
  auto three = read_response(client);
  CHECK(three.body == "xxxxxxxxxx");
  CHECK(world.origin_connections() == 2);

  auto seen = world.seen();
  REQUIRE(seen.size() == 3);
  CHECK(seen[0] == "GET /hello host=registry.test:" + port);  // origin form, Host from the URL
  CHECK(seen[1] == "POST /echo host=registry.test:" + port);
  CHECK(seen[2] == "GET /size/10 host=other.test:" + port);

  // Chunked uploads are re-framed, not passed through blindly.
  REQUIRE(client.send(
      "POST http://other.test:" + port +
      "/echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
  CHECK(read_response(client).body == "abcde");

  client.shutdown_send();
  REQUIRE(gateway.settle());
  auto record = gateway.record();
  auto* registry = find_entry(record.contacted, "registry.test");
  REQUIRE(registry != nullptr);
  CHECK(registry->connections == 1);
  CHECK(registry->bytes_received > 0);
  auto* other = find_entry(record.contacted, "other.test");
  REQUIRE(other != nullptr);
  CHECK(other->connections == 1);
}

TEST_CASE("egress gateway: names resolving to private addresses are refused") {
  World world;
  auto port = port_text(world.origin_port());
  Gateway gateway({"localhost:" + port, "metadata.test:80", "rebind.test:" + port},
                  pinned({{"metadata.test", {"169.254.169.254"}},
                          {"rebind.test", {"10.0.0.1", "::ffff:127.0.0.1"}}}));
  Client local("127.0.0.1", gateway.proxy_port);
  REQUIRE(local.send("CONNECT localhost:" + port + " HTTP/1.1\r\n\r\n"));
  auto refused = read_response(local);
  CHECK(refused.status == 403);
  CHECK_THAT(refused.body, Catch::Contains("private-address"));

  Client metadata("127.0.0.1", gateway.proxy_port);
  REQUIRE(metadata.send(
      "GET http://metadata.test/latest/meta-data/ HTTP/1.1\r\nHost: metadata.test\r\n\r\n"));
  CHECK(read_response(metadata).status == 403);

  Client rebind("127.0.0.1", gateway.proxy_port);
  REQUIRE(rebind.send("CONNECT rebind.test:" + port + " HTTP/1.1\r\n\r\n"));
  CHECK(read_response(rebind).status == 403);

  REQUIRE(gateway.settle());
  auto record = gateway.record();
  for (const char* host : {"localhost", "metadata.test", "rebind.test"}) {
    auto* entry = find_entry(record.refused, host);
    INFO(host);
    REQUIRE(entry != nullptr);
    CHECK(entry->reason == RefusalReason::PrivateAddress);
  }
  CHECK(world.origin_connections() == 0);
}

TEST_CASE("egress gateway: DNS stub over UDP and TCP") {
  Gateway gateway({"registry.test"}, GatewayOptions{});
  CHECK(resolve_through_stub(gateway.dns_udp_port, "registry.test") == "127.77.0.1");
  CHECK_FALSE(resolve_through_stub(gateway.dns_udp_port, "6578.exfil.invalid"));

  Client tcp_client("127.0.0.1", gateway.dns_tcp_port);
  for (int i = 0; i < 2; ++i) {
    auto query = egress_test::dns_query("registry.test", 1, static_cast<std::uint16_t>(i));
    std::vector<std::uint8_t> framed;
    egress_test::put16(framed, query.size());
    framed.insert(framed.end(), query.begin(), query.end());
    REQUIRE(tcp_client.send(framed));
    auto prefix = tcp_client.read_exactly(2);
    REQUIRE(prefix.size() == 2);
    auto length =
        (static_cast<unsigned char>(prefix[0]) << 8) | static_cast<unsigned char>(prefix[1]);
    auto reply = tcp_client.read_exactly(static_cast<std::size_t>(length));
    REQUIRE(reply.size() == query.size() + 16);
    CHECK(static_cast<unsigned char>(reply[reply.size() - 1]) == 1);  // 127.77.0.1
  }
  auto record = gateway.record();
  REQUIRE(record.dns.size() == 2);
  CHECK(record.dns[0].name == "registry.test");
  CHECK(record.dns[0].type == "A");
  CHECK(record.dns[0].allowed);
  CHECK(record.dns[0].count == 3);
  CHECK(record.dns[1].name == "6578.exfil.invalid");
  CHECK_FALSE(record.dns[1].allowed);
}

TEST_CASE("egress gateway: transparent relay by fake address, with SNI and Host checks") {
  World world;
  const auto origin_port = world.origin_port();
  auto port = port_text(origin_port);
  // The listener catches the fake address on the origin's port, as 0.0.0.0:443 inside the
  // sandbox catches every 127.x address on 443.
  Gateway gateway({"registry.test:" + port, "127.0.0.1:" + port},
                  pinned({{"registry.test", {"127.0.0.1"}}}), {{"127.77.0.1", origin_port}});

  SECTION("an address the stub never handed out is refused") {
    Client client("127.77.0.1", origin_port);
    bool eof = false;
    client.send(egress_test::client_hello("registry.test"));
    CHECK(client.read_all(&eof).empty());
    REQUIRE(gateway.settle());
    auto record = gateway.record();
    auto* entry = find_entry(record.refused, "127.77.0.1");
    REQUIRE(entry != nullptr);
    CHECK(entry->reason == RefusalReason::NotAllowed);
  }
  SECTION("matching SNI, no SNI and plain HTTP reach the origin; mismatches are refused") {
    REQUIRE(resolve_through_stub(gateway.dns_udp_port, "registry.test") == "127.77.0.1");
    auto hello = egress_test::client_hello("registry.test", 64);  // several records
    {
      Client client("127.77.0.1", origin_port);
      for (std::size_t i = 0; i < hello.size(); i += 50) {  // and several writes
        std::vector<std::uint8_t> part(
            hello.begin() + static_cast<std::ptrdiff_t>(i),
            hello.begin() + static_cast<std::ptrdiff_t>(std::min(i + 50, hello.size())));
        REQUIRE(client.send(part));
        std::this_thread::sleep_for(2ms);
      }
      auto echoed = client.read_exactly(hello.size());
      CHECK(echoed == std::string(hello.begin(), hello.end()));
    }
    {
      Client client("127.77.0.1", origin_port);
      auto no_sni = egress_test::client_hello(std::nullopt);
      REQUIRE(client.send(no_sni));
      CHECK(client.read_exactly(no_sni.size()).size() == no_sni.size());
    }
    {
      Client client("127.77.0.1", origin_port);
      REQUIRE(client.send(egress_test::client_hello("evil.test")));
      bool eof = false;
      CHECK(client.read_all(&eof).empty());
      CHECK(eof);
    }
    {
      Client client("127.77.0.1", origin_port);
      REQUIRE(client.send("GET /hello HTTP/1.1\r\nHost: registry.test:" + port + "\r\n\r\n"));
      auto response = read_response(client);
      CHECK(response.status == 200);
      CHECK(response.body == "hello from origin");
      REQUIRE(client.send("GET /hello HTTP/1.1\r\nHost: fronted.test:" + port + "\r\n\r\n"));
      auto fronted = read_response(client);
      CHECK(fronted.status == 403);
      CHECK_THAT(fronted.body, Catch::Contains("sni-mismatch"));
    }
    REQUIRE(gateway.settle());
    auto record = gateway.record();
    auto* contacted = find_entry(record.contacted, "registry.test");
    REQUIRE(contacted != nullptr);
    CHECK(contacted->via == Via::Transparent);
    CHECK(contacted->connections == 3);
    auto* evil = find_entry(record.refused, "evil.test");
    REQUIRE(evil != nullptr);
    CHECK(evil->reason == RefusalReason::SniMismatch);
    CHECK(evil->port == origin_port);
    auto* fronted = find_entry(record.refused, "fronted.test");
    REQUIRE(fronted != nullptr);
    CHECK(fronted->reason == RefusalReason::SniMismatch);
  }
}

// registry.test served by the origin, allowed, and reachable both through the proxy and by
// the fake address its name was given by the stub (127.77.0.1).
struct FakeAddressWorld {
  FakeAddressWorld() {
    REQUIRE(resolve_through_stub(gateway.dns_udp_port, "registry.test") == "127.77.0.1");
  }
  World world;
  const std::uint16_t origin_port = world.origin_port();
  const std::string port = port_text(origin_port);
  Gateway gateway{{"registry.test:" + port, "127.0.0.1:" + port},
                  pinned({{"registry.test", {"127.0.0.1"}}}),
                  {{"127.77.0.1", origin_port}}};
};

TEST_CASE("egress gateway: transparent TLS bytes are counted exactly") {
  FakeAddressWorld fixture;
  auto& [world, origin_port, port, gateway] = fixture;
  auto hello = egress_test::client_hello("registry.test");
  std::string more(70000, 'z');
  {
    Client client("127.77.0.1", origin_port);
    REQUIRE(client.send(hello));
    REQUIRE(client.send(more));
    CHECK(client.read_exactly(hello.size() + more.size()).size() == hello.size() + more.size());
  }
  REQUIRE(gateway.settle());
  auto record = gateway.record();
  REQUIRE_FALSE(record.contacted.empty());
  CHECK(record.contacted[0].bytes_sent == hello.size() + more.size());
  CHECK(record.contacted[0].bytes_received == hello.size() + more.size());
}

TEST_CASE("egress gateway: chaining through the invoker's proxy") {
  World world;
  auto port = port_text(world.origin_port());
  auto proxy = "http://u:p@127.0.0.1:" + port_text(world.proxy_port());
  auto upstream = UpstreamProxies::from_environment(
      {"HTTPS_PROXY=" + proxy, "HTTP_PROXY=" + proxy, "NO_PROXY=direct.test"});
  REQUIRE(upstream);
  GatewayOptions options = pinned({{"direct.test", {"127.0.0.1"}}});
  options.upstream = *upstream;
  // No 127.0.0.1 in the policy: through the proxy the gateway resolves nothing itself.
  Gateway gateway({"registry.test:" + port, "direct.test:" + port, "127.0.0.1:" + port}, options,
                  {{"127.77.0.1", world.origin_port()}});

  {
    Client client("127.0.0.1", gateway.proxy_port);
    REQUIRE(client.send("CONNECT registry.test:" + port + " HTTP/1.1\r\n\r\n"));
    CHECK_THAT(client.read_until("\r\n\r\n"), Catch::StartsWith("HTTP/1.1 200"));
    REQUIRE(client.send("GET /hello HTTP/1.1\r\nHost: registry.test\r\n\r\n"));
    CHECK(read_response(client).body == "hello from origin");
  }
  {
    Client client("127.0.0.1", gateway.proxy_port);
    REQUIRE(client.send("GET http://registry.test:" + port +
                        "/plain HTTP/1.1\r\nHost: registry.test\r\n\r\n"));
    CHECK(read_response(client).body == "via test proxy: http://registry.test:" + port + "/plain");
  }
  {
    REQUIRE(resolve_through_stub(gateway.dns_udp_port, "registry.test") == "127.77.0.1");
    Client client("127.77.0.1", world.origin_port());
    auto hello = egress_test::client_hello("registry.test");
    REQUIRE(client.send(hello));
    CHECK(client.read_exactly(hello.size()).size() == hello.size());
  }
  {
    Client client("127.0.0.1", gateway.proxy_port);
    REQUIRE(client.send("GET http://direct.test:" + port +
                        "/hello HTTP/1.1\r\nHost: direct.test\r\n\r\n"));
    CHECK(read_response(client).body == "hello from origin");
  }
  REQUIRE(gateway.settle());
  auto seen = world.proxy_seen();
  REQUIRE(seen.size() == 3);
  CHECK(seen[0] == "CONNECT registry.test:" + port + " auth=Basic dTpw");
  CHECK(seen[1] == "GET http://registry.test:" + port + "/plain auth=Basic dTpw");
  CHECK(seen[2] == "CONNECT registry.test:" + port + " auth=Basic dTpw");
  auto record = gateway.record();
  CHECK(find_entry(record.contacted, "direct.test") != nullptr);
  CHECK(record.refused.empty());
}

TEST_CASE("egress gateway: malformed and oversized requests get 400/431 and are recorded") {
  Gateway gateway({"registry.test"}, GatewayOptions{});
  {
    Client client("127.0.0.1", gateway.proxy_port);
    REQUIRE(client.send("GET http://registry.test/ HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') +
                        "\r\n\r\n"));
    CHECK(read_response(client).status == 431);
  }
  {
    Client client("127.0.0.1", gateway.proxy_port);
    REQUIRE(client.send("\x16\x03\x01 this is not HTTP\r\n\r\n"));
    CHECK(read_response(client).status == 400);
  }
  {
    Client client("127.0.0.1", gateway.proxy_port);
    REQUIRE(client.send("GET /not-a-proxy-request HTTP/1.1\r\nHost: registry.test\r\n\r\n"));
    CHECK(read_response(client).status == 400);
  }
  REQUIRE(gateway.settle());
  auto refused = gateway.record().refused;
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].host == "");
  CHECK(refused[0].port == gateway.proxy_port);
  CHECK(refused[0].reason == RefusalReason::Malformed);
  CHECK(refused[0].count == 3);
}

TEST_CASE("egress gateway: idle connections are closed") {
  World world;
  auto port = port_text(world.origin_port());
  GatewayOptions options = pinned({{"registry.test", {"127.0.0.1"}}});
  options.idle_timeout = 300ms;
  options.request_head_timeout = 300ms;
  Gateway gateway({"registry.test:" + port, "127.0.0.1:" + port}, options);

  auto start = std::chrono::steady_clock::now();
  Client silent("127.0.0.1", gateway.proxy_port);
  bool eof = false;
  silent.read_all(&eof);
  CHECK(eof);
  CHECK(std::chrono::steady_clock::now() - start < 3s);

  Client tunnel("127.0.0.1", gateway.proxy_port);
  REQUIRE(tunnel.send("CONNECT registry.test:" + port + " HTTP/1.1\r\n\r\n"));
  CHECK_THAT(tunnel.read_until("\r\n\r\n"), Catch::StartsWith("HTTP/1.1 200"));
  // Activity keeps it open past the timeout...
  for (int i = 0; i < 4; ++i) {
    std::this_thread::sleep_for(150ms);
    REQUIRE(tunnel.send("GET /hello HTTP/1.1\r\nHost: registry.test\r\n\r\n"));
    CHECK(read_response(tunnel).status == 200);
  }
  // ...silence closes it.
  start = std::chrono::steady_clock::now();
  tunnel.read_all(&eof);
  CHECK(eof);
  CHECK(std::chrono::steady_clock::now() - start < 3s);
  CHECK(gateway.settle());
}

TEST_CASE("egress gateway: many new connections in a row are each relayed and recorded") {
  FakeAddressWorld fixture;
  auto& [world, origin_port, port, gateway] = fixture;
  constexpr int kEach = 150;
  const std::string close = "\r\nConnection: close\r\n\r\n";
  for (int i = 0; i < kEach; ++i) {
    Client proxied("127.0.0.1", gateway.proxy_port);
    REQUIRE(proxied.send("GET http://registry.test:" + port + "/hello?" + std::to_string(i) +
                         " HTTP/1.1\r\nHost: registry.test" + close));
    REQUIRE(read_response(proxied).body == "hello from origin");
    Client transparent("127.77.0.1", origin_port);
    REQUIRE(transparent.send("GET /hello?" + std::to_string(i) +
                             " HTTP/1.1\r\nHost: registry.test:" + port + close));
    REQUIRE(read_response(transparent).body == "hello from origin");
  }
  REQUIRE(gateway.settle());
  CHECK(world.origin_connections() == 2 * kEach);
  auto record = gateway.record();
  std::map<Via, std::uint64_t> connections;
  for (const auto& entry : record.contacted) {
    CHECK(entry.host == "registry.test");
    connections[entry.via] += entry.connections;
  }
  CHECK(connections[Via::Proxy] == kEach);
  CHECK(connections[Via::Transparent] == kEach);
  CHECK(record.refused.empty());
}

TEST_CASE("egress gateway: clients that leave early contact nothing and hold no session") {
  FakeAddressWorld fixture;
  auto& [world, origin_port, port, gateway] = fixture;
  {
    Client half_head("127.0.0.1", gateway.proxy_port);
    REQUIRE(half_head.send("GET http://registry.test:" + port + "/hel"));
  }
  { Client silent("127.77.0.1", origin_port); }
  {
    Client half_hello("127.77.0.1", origin_port);
    auto hello = egress_test::client_hello("registry.test");
    hello.resize(hello.size() / 2);
    REQUIRE(half_hello.send(hello));
  }
  // The cut-off head is recorded as malformed; the silent and the cut-off TLS client leave
  // nothing to record. Their connections may still wait to be accepted when the clients are
  // gone, so the refusal is waited for before the gateway counts as settled.
  REQUIRE(eventually([&] { return gateway.record().refused.size() == 1; }));
  REQUIRE(gateway.settle());
  CHECK(world.origin_connections() == 0);
  auto record = gateway.record();
  CHECK(record.contacted.empty());
  REQUIRE(record.refused.size() == 1);
  CHECK(record.refused.front().reason == RefusalReason::Malformed);

  // One that leaves while its answer is on the way: the origin was contacted (and that is
  // recorded); the gateway lets the connection go and serves the next client.
  {
    Client impatient("127.0.0.1", gateway.proxy_port);
    REQUIRE(impatient.send("GET http://registry.test:" + port +
                           "/slow/200 HTTP/1.1\r\nHost: registry.test\r\n\r\n"));
    REQUIRE(eventually([&] { return world.origin_connections() == 1; }));
  }
  Client next("127.0.0.1", gateway.proxy_port);
  REQUIRE(next.send("GET http://registry.test:" + port +
                    "/hello HTTP/1.1\r\nHost: registry.test\r\nConnection: close\r\n\r\n"));
  CHECK(read_response(next).body == "hello from origin");
  REQUIRE(gateway.settle());
  auto after = gateway.record();  // kept: the entry found points into it
  auto* entry = find_entry(after.contacted, "registry.test");
  REQUIRE(entry != nullptr);
  CHECK(entry->connections == 2);
}

// The session's limits change as it goes (the head's deadline, the connect's, then the idle
// timeout): a later limit must not end it at an earlier one's time, a sooner one must.
TEST_CASE("egress gateway: a slow origin is waited for while the idle timeout allows") {
  World world;
  auto port = port_text(world.origin_port());
  GatewayOptions options = pinned({{"registry.test", {"127.0.0.1"}}});
  options.request_head_timeout = 300ms;
  options.connect_timeout = 150ms;
  options.idle_timeout = 1500ms;
  Gateway gateway({"registry.test:" + port, "127.0.0.1:" + port}, options);

  Client client("127.0.0.1", gateway.proxy_port);
  REQUIRE(client.send("GET http://registry.test:" + port +
                      "/slow/800 HTTP/1.1\r\nHost: registry.test\r\n\r\n"));
  auto slow = read_response(client);
  CHECK(slow.status == 200);
  CHECK(slow.body == "slow hello");

  // Slower than the idle timeout: the connection ends without an answer, at about that time.
  auto start = std::chrono::steady_clock::now();
  REQUIRE(client.send("GET http://registry.test:" + port +
                      "/slow/4000 HTTP/1.1\r\nHost: registry.test\r\n\r\n"));
  bool eof = false;
  CHECK(client.read_all(&eof).empty());
  CHECK(eof);
  auto waited = std::chrono::steady_clock::now() - start;
  CHECK(waited >= 1400ms);
  CHECK(waited < 3500ms);
  CHECK(gateway.settle());
}

TEST_CASE("egress gateway: a slow client does not hold up others - the connection limit holds") {
  World world;
  auto port = port_text(world.origin_port());
  GatewayOptions options = pinned({{"registry.test", {"127.0.0.1"}}});
  options.max_connections = 3;
  Gateway gateway({"registry.test:" + port, "127.0.0.1:" + port}, options);

  Client slow("127.0.0.1", gateway.proxy_port);
  REQUIRE(slow.send("GET http://registry.te"));  // and nothing more for now
  Client stalled_tunnel("127.0.0.1", gateway.proxy_port);
  REQUIRE(stalled_tunnel.send("CONNECT registry.test:" + port + " HTTP/1.1\r\n\r\n"));
  CHECK_THAT(stalled_tunnel.read_until("\r\n\r\n"), Catch::StartsWith("HTTP/1.1 200"));
  REQUIRE(eventually([&] { return gateway.active() == 2; }));

  auto start = std::chrono::steady_clock::now();
  {
    Client quick("127.0.0.1", gateway.proxy_port);
    REQUIRE(quick.send("GET http://registry.test:" + port +
                       "/size/200000 HTTP/1.1\r\nHost: x\r\n\r\n"));
    CHECK(read_response(quick).body.size() == 200000);
  }
  CHECK(std::chrono::steady_clock::now() - start < 2s);

  REQUIRE(eventually([&] { return gateway.active() == 2; }));
  Client third("127.0.0.1", gateway.proxy_port);
  REQUIRE(eventually([&] { return gateway.active() == 3; }));
  Client over_limit("127.0.0.1", gateway.proxy_port, 2000);
  bool eof = false;
  over_limit.read_all(&eof);
  CHECK(eof);  // closed at once, not left waiting

  // The slow client finishes its request after all and is served.
  REQUIRE(slow.send("st:" + port + "/hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  CHECK(read_response(slow).body == "hello from origin");
}

// The real arrangement: listeners made inside a new network namespace by a child process,
// passed out over a unix socket, served here; the child is the sandboxed client. The child
// is forked before any thread of this test starts, and learns the origin's port after.
TEST_CASE("egress gateway: listeners created inside a network namespace and passed out") {
  int pair[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0);
  UniqueFd parent_end(pair[0]), child_end(pair[1]);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    parent_end.reset();
    std::uint16_t origin_port = 0;
    if (::recv(child_end.get(), &origin_port, sizeof(origin_port), 0) != sizeof(origin_port))
      ::_exit(76);
    if (::unshare(CLONE_NEWNET) != 0) ::_exit(77);
    if (!bring_loopback_up()) ::_exit(78);
    auto listeners = create_gateway_listeners({origin_port});
    if (!listeners) ::_exit(79);
    if (!send_gateway_listeners(child_end.get(), *listeners)) ::_exit(80);
    *listeners = GatewayListeners{};
    char go = 0;
    if (::recv(child_end.get(), &go, 1, 0) != 1) ::_exit(81);
    // Inside: the stub answers, the proxy forwards, the fake address relays.
    auto fake = resolve_through_stub(kGatewayDnsPort, "registry.test");
    if (fake != "127.77.0.1") ::_exit(82);
    {
      Client client("127.0.0.1", kGatewayProxyPort);
      client.send("GET http://registry.test:" + std::to_string(origin_port) +
                  "/hello HTTP/1.1\r\nHost: registry.test\r\n\r\n");
      if (read_response(client).body != "hello from origin") ::_exit(83);
    }
    {
      Client client(*fake, origin_port);
      client.send("GET /hello HTTP/1.1\r\nHost: registry.test:" + std::to_string(origin_port) +
                  "\r\n\r\n");
      if (read_response(client).body != "hello from origin") ::_exit(84);
    }
    {
      // No route out other than the gateway: a direct connection fails at once.
      Client direct("203.0.113.1", origin_port);
      if (direct.connected() || errno != ENETUNREACH) ::_exit(85);
    }
    ::_exit(0);
  }
  child_end.reset();
  World world;
  const std::uint16_t origin_port = world.origin_port();
  REQUIRE(::send(parent_end.get(), &origin_port, sizeof(origin_port), MSG_NOSIGNAL) ==
          sizeof(origin_port));
  auto listeners = receive_gateway_listeners(parent_end.get());
  int status = 0;
  if (!listeners) {
    ::waitpid(child, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
      WARN("skipped: unshare(CLONE_NEWNET) is not permitted here");
      return;
    }
    FAIL(listeners.error().message());
  }
  REQUIRE(listeners->transparent.size() == 1);
  auto port = std::to_string(origin_port);
  auto policy = EgressPolicy::parse({"registry.test:" + port, "127.0.0.1:" + port});
  REQUIRE(policy);
  asio::io_context io;
  EgressGateway gateway(io, *policy, pinned({{"registry.test", {"127.0.0.1"}}}));
  REQUIRE(gateway.serve(std::move(*listeners)));
  char go = 1;
  REQUIRE(::send(parent_end.get(), &go, 1, MSG_NOSIGNAL) == 1);
  // Serve until the child is done.
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, child, 0)));
  REQUIRE(pidfd);
  asio::posix::stream_descriptor exited(io, ::dup(pidfd.get()));
  exited.async_wait(asio::posix::descriptor_base::wait_read, [&](auto) { gateway.stop(); });
  io.run_for(20s);
  ::waitpid(child, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  const NetworkEntries& record = gateway.record().entries();
  REQUIRE(record.contacted.size() == 2);
  CHECK(record.contacted[0].via == Via::Proxy);
  CHECK(record.contacted[1].via == Via::Transparent);
  REQUIRE_FALSE(record.dns.empty());
  CHECK(record.dns[0].name == "registry.test");
  // The child's direct attempt never reached the gateway: nothing was refused.
  CHECK(record.refused.empty());
}
