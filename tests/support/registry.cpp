// si-registry: the registry host of the fake internet. Two kinds of listener:
//
// --http PORT    plain HTTP/1.1 with keep-alive:
//                  GET /blob/N   N bytes of the cycle in blob.h (streamed, any size)
//                  GET /chunked/N  the same bytes in chunked transfer encoding
//                  ANY /echo     the request as the server received it: request line, header
//                                fields one per line, an empty line, then the body
//                  GET|HEAD anything else: a file under --root DIR, if given (below), else 404
// --banner PORT  a stand-in for a TLS server: reads the client's first TLS record (a
//                ClientHello; or whatever one read brings if it is not TLS), answers with a
//                fixed banner of kBannerBytes bytes, half-closes, and waits for the client's end
//                (so byte counts on the path between can be checked exactly, without real TLS).
//
// --root DIR    static files, as package registries are: the target's path, percent-decoded
//                (npm asks for /@scope%2fname), names DIR/path if a regular file, else
//                DIR/path/index.json, else DIR/path/index.html; a path with a `..` segment is
//                refused (403); Content-Type by extension. Files are read at request time, so
//                a test may add them while the server runs.
//
// One line per event in the log, written when the event is complete:
//
//   accept <peer> <port>
//   http <peer> <port> <METHOD> <target> in=<request bytes> out=<response bytes>
//   banner <peer> <port> in=<bytes received> out=<bytes sent> <first bytes, escaped>
//
// "ready" on stdout once every socket listens; SIGTERM or SIGINT ends it.
//
// usage: si-registry --log FILE --bind ADDR... [--http PORT]... [--banner PORT]... [--root DIR]
#include <algorithm>
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
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/blob.h"
#include "tests/support/server_common.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
using namespace safeinstall::test::server;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

constexpr std::size_t kBannerBytes = 3000;
constexpr std::size_t kMaxLoggedBytes = 512;
constexpr std::size_t kStreamChunk = 256 * 1024;  // a multiple of the blob cycle
constexpr std::uint64_t kMaxRequestBody = 64ull << 20;
constexpr auto kBannerTimeout = std::chrono::seconds(5);

struct Options {
  std::string log;
  std::vector<std::string> bind;
  std::vector<unsigned short> http_ports;
  std::vector<unsigned short> banner_ports;
  std::string root;
};

// What every session shares. The log is written from the one io_context thread only.
struct Server {
  mutable EventLog log;
  std::string root;  // static files; empty: none
};

std::string banner() {
  std::string text = "si-registry banner\n";
  std::string out;
  while (out.size() < kBannerBytes) out += text;
  out.resize(kBannerBytes);
  return out;
}

const std::string& stream_chunk() {
  static const std::string chunk = safeinstall::test::registry_blob(kStreamChunk);
  return chunk;
}

std::string response_head(unsigned status, std::string_view reason, std::uint64_t length,
                          bool keep_alive,
                          std::string_view content_type = "application/octet-stream") {
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
  head += "Content-Type: " + std::string(content_type) + "\r\n";
  head += "Content-Length: " + std::to_string(length) + "\r\n";
  if (!keep_alive) head += "Connection: close\r\n";
  head += "\r\n";
  return head;
}

// N of /blob/N (or /chunked/N with that prefix).
std::optional<std::uint64_t> blob_size(std::string_view target,
                                       std::string_view prefix = "/blob/") {
  if (!target.starts_with(prefix)) return std::nullopt;
  target.remove_prefix(prefix.size());
  target = target.substr(0, target.find('?'));
  std::uint64_t size = 0;
  auto [end, ec] = std::from_chars(target.data(), target.data() + target.size(), size);
  if (ec != std::errc() || end != target.data() + target.size()) return std::nullopt;
  return size;
}

// Writes `size` bytes of the blob; returns what was written.
asio::awaitable<std::uint64_t> write_blob(tcp::socket& socket, std::uint64_t size) {
  const std::string& chunk = stream_chunk();
  std::uint64_t written = 0;
  while (written < size) {
    auto n = static_cast<std::size_t>(std::min<std::uint64_t>(size - written, chunk.size()));
    auto [ec, w] = co_await asio::async_write(socket, asio::buffer(chunk.data(), n), kNoThrow);
    written += w;
    if (ec) break;
  }
  co_return written;
}

// The blob in chunked transfer encoding, chunks of at most kChunk bytes; returns what was
// written (framing included).
asio::awaitable<std::uint64_t> write_chunked_blob(tcp::socket& socket, std::uint64_t size,
                                                  bool keep_alive) {
  constexpr std::size_t kChunk = 10000;
  std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
      "Transfer-Encoding: chunked\r\n";
  if (!keep_alive) head += "Connection: close\r\n";
  head += "\r\n";
  auto [ec, written] = co_await asio::async_write(socket, asio::buffer(head), kNoThrow);
  std::uint64_t out = written;
  const std::string& cycle = stream_chunk();
  std::uint64_t sent = 0;
  while (!ec) {
    auto n = static_cast<std::size_t>(std::min<std::uint64_t>(size - sent, kChunk));
    char length[32];
    int length_size = std::snprintf(length, sizeof length, "%zx\r\n", n);
    std::string frame(length, static_cast<std::size_t>(length_size));
    // The blob's bytes from offset `sent`: the cycle is 64 bytes, the stream chunk a multiple.
    std::size_t offset = static_cast<std::size_t>(sent % 64);
    frame.append(cycle, offset, n);
    frame += "\r\n";
    auto [e, w] = co_await asio::async_write(socket, asio::buffer(frame), kNoThrow);
    out += w;
    ec = e;
    sent += n;
    if (n == 0) break;
  }
  co_return out;
}

std::string echo_body(const http::request<http::string_body>& request) {
  std::string out = std::string(request.method_string()) + " " + std::string(request.target()) +
                    " HTTP/" + std::to_string(request.version() / 10) + "." +
                    std::to_string(request.version() % 10) + "\n";
  for (const auto& field : request) {
    out += std::string(field.name_string()) + ": " + std::string(field.value()) + "\n";
  }
  out += "\n";
  out += request.body();
  return out;
}

// What a static file request resolved to.
struct StaticReply {
  unsigned status = 404;
  std::string_view reason = "Not Found";
  std::string content_type = "application/octet-stream";
  std::string body = "not found\n";
};

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    unsigned value = 0;
    if (i + 2 >= text.size()) return std::nullopt;
    auto [end, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
    if (ec != std::errc() || end != text.data() + i + 3) return std::nullopt;
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

std::string content_type_of(const std::filesystem::path& file) {
  const std::string name = file.filename().string();
  auto ends_with = [&name](std::string_view suffix) { return name.ends_with(suffix); };
  if (ends_with(".json")) return "application/json";
  if (ends_with(".html")) return "text/html";
  for (std::string_view binary :
       {".tgz", ".gem", ".crate", ".zip", ".whl", ".tar.gz", ".gz", ".rz"})
    if (ends_with(binary)) return "application/octet-stream";
  return "text/plain";
}

// The file a request path names under `root`: the path itself, or a directory's index.json or
// index.html.
std::optional<std::filesystem::path> static_file(const std::filesystem::path& root,
                                                 const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path candidate = root / fs::path(path).relative_path();
  if (fs::is_regular_file(candidate, ec)) return candidate;
  if (!fs::is_directory(candidate, ec)) return std::nullopt;
  for (const char* index : {"index.json", "index.html"}) {
    if (fs::is_regular_file(candidate / index, ec)) return candidate / index;
  }
  return std::nullopt;
}

StaticReply serve_static(const std::string& root, std::string_view target) {
  StaticReply reply;
  if (root.empty()) return reply;
  auto path = percent_decode(target.substr(0, target.find('?')));
  if (!path || !path->starts_with('/') || path->find('\0') != std::string::npos) {
    reply.status = 400;
    reply.reason = "Bad Request";
    reply.body = "bad request path\n";
    return reply;
  }
  for (std::string_view rest = *path; !rest.empty();) {
    std::size_t slash = rest.find('/');
    if (rest.substr(0, slash) == "..") {
      reply.status = 403;
      reply.reason = "Forbidden";
      reply.body = "no .. in paths\n";
      return reply;
    }
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  }
  auto file = static_file(root, *path);
  if (!file) return reply;
  std::ifstream in(*file, std::ios::binary);
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) return reply;
  reply.status = 200;
  reply.reason = "OK";
  reply.content_type = content_type_of(*file);
  reply.body = std::move(body);
  return reply;
}

asio::awaitable<void> http_session(tcp::socket socket, std::string peer, unsigned short port,
                                   const Server& server) {
  EventLog& log = server.log;
  log.line("accept " + peer + " " + std::to_string(port));
  beast::flat_buffer buffer;
  while (true) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(64 * 1024);
    parser.body_limit(kMaxRequestBody);
    auto [ec, in] = co_await http::async_read(socket, buffer, parser, kNoThrow);
    if (ec) break;
    const auto& request = parser.get();
    const bool keep_alive = request.keep_alive();
    std::string target(request.target());
    std::uint64_t out = 0;
    boost::system::error_code write_error;
    if (auto size = blob_size(target); size && request.method() == http::verb::get) {
      std::string head = response_head(200, "OK", *size, keep_alive);
      auto [head_error, w] = co_await asio::async_write(socket, asio::buffer(head), kNoThrow);
      out += w;
      write_error = head_error;
      if (!write_error) out += co_await write_blob(socket, *size);
    } else if (auto chunked = blob_size(target, "/chunked/");
               chunked && request.method() == http::verb::get) {
      out += co_await write_chunked_blob(socket, *chunked, keep_alive);
    } else if (target == "/echo" || target.starts_with("/echo?")) {
      std::string body = echo_body(request);
      std::string reply = response_head(200, "OK", body.size(), keep_alive) + body;
      auto [e, w] = co_await asio::async_write(socket, asio::buffer(reply), kNoThrow);
      out += w;
      write_error = e;
    } else {
      const bool head_only = request.method() == http::verb::head;
      StaticReply found = head_only || request.method() == http::verb::get
                              ? serve_static(server.root, target)
                              : StaticReply{};
      std::string reply = response_head(found.status, found.reason, found.body.size(), keep_alive,
                                        found.content_type);
      if (!head_only) reply += found.body;
      auto [e, w] = co_await asio::async_write(socket, asio::buffer(reply), kNoThrow);
      out += w;
      write_error = e;
    }
    log.line("http " + peer + " " + std::to_string(port) + " " +
             std::string(request.method_string()) + " " + escape(target) +
             " in=" + std::to_string(in) + " out=" + std::to_string(out));
    if (write_error || !keep_alive) break;
  }
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
}

// Reads the first TLS record (or one read of anything else). Bytes the client sends beyond
// it in the same read are kept too: everything received is counted.
asio::awaitable<std::string> read_first_record(tcp::socket& socket) {
  std::string received;
  std::vector<char> buffer(16 * 1024 + 5);
  while (true) {
    if (!received.empty() && received[0] != 0x16) break;
    if (received.size() >= 5) {
      std::size_t length =
          (static_cast<std::size_t>(static_cast<unsigned char>(received[3])) << 8) |
          static_cast<unsigned char>(received[4]);
      if (received.size() >= 5 + length) break;
    }
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(buffer), kNoThrow);
    received.append(buffer.data(), n);
    if (ec) break;
  }
  co_return received;
}

asio::awaitable<void> banner_session(tcp::socket socket, std::string peer, unsigned short port,
                                     const Server& server) {
  EventLog& log = server.log;
  log.line("accept " + peer + " " + std::to_string(port));
  asio::steady_timer timer(socket.get_executor(), kBannerTimeout);
  auto first = co_await (read_first_record(socket) || timer.async_wait(kNoThrow));
  std::string received = first.index() == 0 ? std::get<0>(first) : std::string();
  std::uint64_t in = received.size();
  std::uint64_t out = 0;
  if (!received.empty()) {
    static const std::string text = banner();
    auto [ec, w] = co_await asio::async_write(socket, asio::buffer(text), kNoThrow);
    out = w;
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_send, ignored);
    // Whatever else the client sends until it hangs up counts too.
    std::array<char, 4096> rest{};
    timer.expires_after(kBannerTimeout);
    while (!ec) {
      auto more = co_await (socket.async_read_some(asio::buffer(rest), kNoThrow) ||
                            timer.async_wait(kNoThrow));
      if (more.index() == 1) break;
      auto [read_error, n] = std::get<0>(more);
      in += n;
      if (read_error) break;
    }
  }
  log.line("banner " + peer + " " + std::to_string(port) + " in=" + std::to_string(in) +
           " out=" + std::to_string(out) + " " +
           escape(std::string_view(received).substr(0, kMaxLoggedBytes)));
}

using SessionFunction = asio::awaitable<void> (*)(tcp::socket, std::string, unsigned short,
                                                  const Server&);

Options parse_options(int argc, char** argv) {
  Options options;
  for_each_option(argc, argv, [&options](std::string_view flag, const std::string& value) {
    if (flag == "--log")
      options.log = value;
    else if (flag == "--bind")
      options.bind.push_back(value);
    else if (flag == "--http")
      options.http_ports.push_back(parse_port(value));
    else if (flag == "--banner")
      options.banner_ports.push_back(parse_port(value));
    else if (flag == "--root")
      options.root = value;
    else
      throw UsageError{"unknown option " + std::string(flag)};
  });
  if (options.log.empty()) throw UsageError{"--log FILE is required"};
  if (options.bind.empty()) throw UsageError{"--bind ADDR is required"};
  if (options.http_ports.empty() && options.banner_ports.empty())
    throw UsageError{"nothing to serve: give --http PORT and/or --banner PORT"};
  return options;
}

// A listener on bind:port whose connections each run `session`.
std::unique_ptr<TcpListener> listen(asio::io_context& io, const std::string& bind,
                                    unsigned short port, SessionFunction session,
                                    const Server& server) {
  return std::make_unique<TcpListener>(
      io, tcp::endpoint(parse_address(bind), port),
      "cannot listen on " + bind + " port " + std::to_string(port),
      [&io, port, session, &server](tcp::socket socket, const asio::ip::address& peer) {
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        asio::co_spawn(io, session(std::move(socket), peer_name(peer), port, server),
                       asio::detached);
      });
}

int serve(const Options& options) {
  asio::io_context io;
  Server server{EventLog(options.log), options.root};
  std::vector<std::unique_ptr<TcpListener>> listeners;
  for (const auto& bind : options.bind) {
    for (auto port : options.http_ports)
      listeners.push_back(listen(io, bind, port, http_session, server));
    for (auto port : options.banner_ports)
      listeners.push_back(listen(io, bind, port, banner_session, server));
  }
  return run_until_stopped(io);
}

}  // namespace

int main(int argc, char** argv) {
  return server_main(argc, argv, "si-registry",
                     "si-registry --log FILE --bind ADDR... [--http PORT]... [--banner PORT]... "
                     "[--root DIR]",
                     [](int count, char** words) { return serve(parse_options(count, words)); });
}
