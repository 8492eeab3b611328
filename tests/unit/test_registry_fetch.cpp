// The runner's own metadata fetch against servers on loopback: plain HTTP and HTTPS with a
// certificate that is (or is not) trusted, a refused host, an address the egress policy does
// not permit, a non-200 answer and a server that never answers.
#include <stdlib.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "runner/policy/http_get.h"
#include "runner/policy/registry_client.h"

using namespace safeinstall::runner;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// One connection served on a thread: the request's head is kept, `answer` is written back
// (nothing when empty: the connection is held open until the server is destroyed).
class OneShotServer {
 public:
  OneShotServer(std::string answer, asio::ssl::context* tls = nullptr,
                std::chrono::milliseconds delay = {})
      : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), delay_(delay) {
    thread_ = std::thread([this, answer = std::move(answer), tls] { serve(answer, tls); });
  }
  ~OneShotServer() {
    release_.set_value();
    // A server nobody asked (a refused redirect's target) still waits in accept(): closing
    // the acceptor does not wake it, a connection does.
    boost::system::error_code ec;
    tcp::socket poke(io_);
    poke.connect(acceptor_.local_endpoint(), ec);
    poke.close(ec);
    acceptor_.close();
    thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string request() { return request_.get_future().get(); }

 private:
  template <typename Stream>
  void exchange(Stream& stream, const std::string& answer) {
    asio::streambuf buffer;
    boost::system::error_code ec;
    asio::read_until(stream, buffer, "\r\n\r\n", ec);
    request_.set_value(
        std::string(asio::buffers_begin(buffer.data()), asio::buffers_end(buffer.data())));
    if (answer.empty()) {
      release_.get_future().wait();
      return;
    }
    std::this_thread::sleep_for(delay_);
    asio::write(stream, asio::buffer(answer), ec);
  }

  void serve(const std::string& answer, asio::ssl::context* tls) {
    boost::system::error_code ec;
    tcp::socket socket(io_);
    acceptor_.accept(socket, ec);
    if (ec) return;
    if (tls == nullptr) return exchange(socket, answer);
    asio::ssl::stream<tcp::socket&> stream(socket, *tls);
    stream.handshake(asio::ssl::stream_base::server, ec);
    if (ec) {
      request_.set_value("handshake failed: " + ec.message());
      return;
    }
    exchange(stream, answer);
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::chrono::milliseconds delay_;
  std::promise<std::string> request_;
  std::promise<void> release_;
  std::thread thread_;
};

std::string ok(const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

safeinstall::sandbox::EgressPolicy allowing(const std::string& pattern) {
  auto policy = safeinstall::sandbox::EgressPolicy::parse({pattern});
  REQUIRE(policy);
  return *policy;
}

struct ScratchDir {
  std::string path;
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "si-fetch-XXXXXX").string();
    path = ::mkdtemp(pattern.data());
  }
  ~ScratchDir() { std::filesystem::remove_all(path); }
};

// While it lives, OpenSSL's default trust store is `file` alone.
struct TrustOnly {
  explicit TrustOnly(const std::string& file) { ::setenv("SSL_CERT_FILE", file.c_str(), 1); }
  ~TrustOnly() { ::unsetenv("SSL_CERT_FILE"); }
};

}  // namespace

TEST_CASE("registry fetch: plain HTTP to an allowed host and port, with its Host header") {
  OneShotServer server(ok(R"({"name":"left-pad"})"));
  const std::string base = "127.0.0.1:" + std::to_string(server.port());
  auto body = http_get("http://" + base + "/@scope%2fleft", allowing(base));
  REQUIRE(body);
  CHECK(*body == R"({"name":"left-pad"})");
  auto request = server.request();
  CHECK(request.starts_with("GET /@scope%2fleft HTTP/1.1\r\n"));
  CHECK(request.find("Host: " + base + "\r\n") != std::string::npos);
}

TEST_CASE("registry fetch: refused hosts, non-public addresses, errors and silence") {
  OneShotServer silent("");
  const std::string base = "127.0.0.1:" + std::to_string(silent.port());
  // Another port of the same host is not allowed.
  auto other = http_get("http://" + base + "/x", allowing("127.0.0.1:1"));
  REQUIRE_FALSE(other);
  CHECK(other.error().message().find("not among the hosts the profile allows") !=
        std::string::npos);
  // A name that resolves to loopback is not enough: the address must be listed itself.
  auto by_name = http_get("http://localhost:" + std::to_string(silent.port()) + "/x",
                          allowing("localhost:" + std::to_string(silent.port())));
  REQUIRE_FALSE(by_name);
  CHECK(by_name.error().message().find("addresses the profile does not permit") !=
        std::string::npos);
  // A server that never answers costs the deadline, not more.
  auto started = std::chrono::steady_clock::now();
  auto timed_out = http_get("http://" + base + "/x", allowing(base),
                            {.timeout = std::chrono::milliseconds(300)});
  auto took = std::chrono::steady_clock::now() - started;
  REQUIRE_FALSE(timed_out);
  CHECK(timed_out.error().message().find("no answer within 300 ms") != std::string::npos);
  CHECK(took < std::chrono::seconds(2));

  OneShotServer missing("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  const std::string base404 = "127.0.0.1:" + std::to_string(missing.port());
  auto not_found = http_get("http://" + base404 + "/nope", allowing(base404));
  REQUIRE_FALSE(not_found);
  CHECK(not_found.error().message().find("HTTP 404") != std::string::npos);
}

std::string redirect(const std::string& location) {
  return "HTTP/1.1 302 Found\r\nLocation: " + location +
         "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
}

safeinstall::sandbox::EgressPolicy allowing_all(const std::vector<std::string>& patterns) {
  auto policy = safeinstall::sandbox::EgressPolicy::parse(patterns);
  REQUIRE(policy);
  return *policy;
}

TEST_CASE("registry fetch: redirects are followed to allowed hosts only, five at most") {
  OneShotServer target(ok(R"({"moved":true})"));
  const std::string target_base = "127.0.0.1:" + std::to_string(target.port());
  OneShotServer mover(redirect("http://" + target_base + "/cdn/left-pad"));
  const std::string mover_base = "127.0.0.1:" + std::to_string(mover.port());

  SECTION("to an allowed host: its body, asked for at the new path") {
    auto body =
        http_get("http://" + mover_base + "/left-pad", allowing_all({mover_base, target_base}));
    REQUIRE(body);
    CHECK(*body == R"({"moved":true})");
    CHECK(target.request().starts_with("GET /cdn/left-pad HTTP/1.1\r\n"));
  }
  SECTION("to a host the profile does not allow: refused, never asked") {
    auto body = http_get("http://" + mover_base + "/left-pad", allowing(mover_base));
    REQUIRE_FALSE(body);
    CHECK(body.error().message().find(
              "redirected to http://" + target_base + "/cdn/left-pad: " + target_base +
              " is not among the hosts the profile allows") != std::string::npos);
  }
}

// Servers that redirect one to the next `redirects` times before the last answers 200; the
// first one asked is bases.back().
struct RedirectChain {
  std::vector<std::unique_ptr<OneShotServer>> servers;
  std::vector<std::string> bases;

  explicit RedirectChain(int redirects) {
    add(ok("{}"));
    for (int i = 0; i < redirects; ++i) add(redirect("http://" + bases.back() + "/next"));
  }
  void add(std::string answer) {
    servers.push_back(std::make_unique<OneShotServer>(std::move(answer)));
    bases.push_back("127.0.0.1:" + std::to_string(servers.back()->port()));
  }
};

TEST_CASE("registry fetch: a chain of more than five redirects ends in an error") {
  RedirectChain six(6);
  auto body = http_get("http://" + six.bases.back() + "/first", allowing_all(six.bases));
  REQUIRE_FALSE(body);
  CHECK(body.error().message().find("more than 5 redirects") != std::string::npos);
  RedirectChain five(5);
  auto followed = http_get("http://" + five.bases.back() + "/first", allowing_all(five.bases));
  REQUIRE(followed);
  CHECK(*followed == "{}");
}

TEST_CASE("registry fetch: HTTPS checks the certificate and the host it names") {
  ScratchDir dir;
  const std::string cert = dir.path + "/cert.pem", key = dir.path + "/key.pem";
  const std::string make =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
      "-addext subjectAltName=IP:127.0.0.1 -keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  REQUIRE(std::system(make.c_str()) == 0);
  asio::ssl::context tls(asio::ssl::context::tls_server);
  tls.use_certificate_chain_file(cert);
  tls.use_private_key_file(key, asio::ssl::context::pem);

  const std::string body =
      R"({"time":{"1.0.0":"2025-06-10T10:00:00.000Z"},"versions":{"1.0.0":{}}})";
  {
    OneShotServer server(ok(body), &tls);
    const std::string base = "127.0.0.1:" + std::to_string(server.port());
    TrustOnly trust(cert);
    RegistryClient client(registry_bases({"npm", "--registry", "https://" + base + "/"}, {}, ""),
                          allowing(base));
    auto metadata = client.lookup({Ecosystem::npm, "left-pad", "1.0.0", true, "package-lock.json"});
    INFO((metadata ? std::string() : metadata.error().message()));
    REQUIRE(metadata);
    CHECK(metadata->published == parse_timestamp("2025-06-10T10:00:00Z"));
    // One request per document: the second lookup is answered from the run's cache.
    CHECK(client.lookup({Ecosystem::npm, "left-pad", "1.0.0", true, "package-lock.json"}));
  }
  {
    OneShotServer server(ok(body), &tls);
    const std::string base = "127.0.0.1:" + std::to_string(server.port());
    TrustOnly trust(dir.path + "/none.pem");  // the certificate is not trusted
    auto refused = http_get("https://" + base + "/left-pad", allowing(base));
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message().find("certificate verify failed") != std::string::npos);
  }
}

TEST_CASE("registry fetch: a batch runs its requests at once and keeps their order") {
  constexpr int kServers = 8;
  const auto delay = std::chrono::milliseconds(400);
  std::vector<std::unique_ptr<OneShotServer>> servers;
  std::vector<std::string> urls, patterns;
  for (int i = 0; i < kServers; ++i) {
    servers.push_back(
        std::make_unique<OneShotServer>(ok("{\"n\":" + std::to_string(i) + "}"), nullptr, delay));
    const std::string base = "127.0.0.1:" + std::to_string(servers.back()->port());
    urls.push_back("http://" + base + "/p" + std::to_string(i));
    patterns.push_back(base);
  }
  auto allowed = safeinstall::sandbox::EgressPolicy::parse(patterns);
  REQUIRE(allowed);
  auto started = std::chrono::steady_clock::now();
  auto bodies = http_get_all(urls, *allowed);
  auto took = std::chrono::steady_clock::now() - started;
  REQUIRE(bodies.size() == kServers);
  for (int i = 0; i < kServers; ++i) {
    REQUIRE(bodies[i]);
    CHECK(*bodies[i] == "{\"n\":" + std::to_string(i) + "}");
  }
  // One after the other would take kServers * delay (3.2 s).
  CHECK(took < 3 * delay);
}
