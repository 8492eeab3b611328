// si-fake-dns: the fake internet's DNS server. Answers the names it is given (A for IPv4,
// AAAA for IPv6 addresses), NXDOMAIN for every other name, FORMERR for what it cannot parse,
// over UDP and TCP, and logs every message that reaches it, one line each:
//
//   udp|tcp <peer> <name> <type> -> <address>|NODATA|NXDOMAIN
//   udp|tcp <peer> malformed <first bytes, escaped>
//
// so a test can show which names were asked of the outside world, and that a refused one never
// was. Names are logged lowercase, without the trailing dot. "ready" on stdout means every
// socket is bound; SIGTERM or SIGINT ends it.
//
// usage: si-fake-dns --log FILE --bind ADDR [--port 53] [--answer NAME=ADDRESS]...
#include <array>
#include <boost/asio.hpp>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/server_common.h"

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
using namespace safeinstall::test::server;

constexpr std::uint16_t kTypeA = 1;
constexpr std::uint16_t kTypeAaaa = 28;
constexpr std::uint8_t kRcodeFormErr = 1;
constexpr std::uint8_t kRcodeNxDomain = 3;
constexpr std::uint32_t kTtl = 60;
constexpr std::size_t kHeaderBytes = 12;
constexpr std::size_t kMaxLoggedBytes = 64;

struct Options {
  std::string log;
  std::string bind;
  unsigned short port = 53;
  std::multimap<std::string, asio::ip::address> answers;  // lowercase names
};

struct Question {
  std::string name;        // lowercase, dot-separated, no trailing dot
  std::uint16_t type = 0;  // QTYPE
  std::size_t end = 0;     // offset just past QTYPE/QCLASS
};

std::uint16_t read16(const std::vector<std::uint8_t>& m, std::size_t at) {
  return static_cast<std::uint16_t>((m[at] << 8) | m[at + 1]);
}

void put16(std::vector<std::uint8_t>& out, std::uint32_t value) {
  out.push_back(static_cast<std::uint8_t>((value >> 8) & 0xff));
  out.push_back(static_cast<std::uint8_t>(value & 0xff));
}

// One question, uncompressed labels only (what every stub resolver sends).
std::optional<Question> parse_question(const std::vector<std::uint8_t>& m) {
  if (m.size() < kHeaderBytes || read16(m, 4) != 1) return std::nullopt;
  if ((m[2] & 0x80) != 0) return std::nullopt;  // a response, not a query
  Question q;
  std::size_t at = kHeaderBytes;
  while (true) {
    if (at >= m.size()) return std::nullopt;
    std::size_t length = m[at++];
    if (length == 0) break;
    if (length > 63 || at + length > m.size()) return std::nullopt;
    if (!q.name.empty()) q.name += '.';
    for (std::size_t i = 0; i < length; ++i) {
      char c = static_cast<char>(m[at + i]);
      q.name += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    at += length;
  }
  if (at + 4 > m.size()) return std::nullopt;
  q.type = read16(m, at);
  q.end = at + 4;
  return q;
}

std::string type_name(std::uint16_t type) {
  switch (type) {
    case kTypeA:
      return "A";
    case kTypeAaaa:
      return "AAAA";
    case 5:
      return "CNAME";
    case 15:
      return "MX";
    case 16:
      return "TXT";
    case 65:
      return "HTTPS";
    default:
      return "TYPE" + std::to_string(type);
  }
}

class Server {
 public:
  explicit Server(const Options& options) : options_(options), log_(options.log) {}

  // The reply to one message (empty: send nothing), after logging it.
  std::vector<std::uint8_t> answer(const std::vector<std::uint8_t>& message,
                                   const std::string& transport, const asio::ip::address& peer) {
    auto question = parse_question(message);
    if (!question) {
      std::string_view bytes(reinterpret_cast<const char*>(message.data()),
                             std::min(message.size(), kMaxLoggedBytes));
      log_.line(transport + " " + peer_name(peer) + " malformed " + escape(bytes));
      if (message.size() < kHeaderBytes) return {};
      return reply(message, kHeaderBytes, kRcodeFormErr, {}, 0);
    }
    std::vector<asio::ip::address> found;
    bool known = false;
    auto [first, last] = options_.answers.equal_range(question->name);
    for (auto it = first; it != last; ++it) {
      known = true;
      bool wanted = (question->type == kTypeA && it->second.is_v4()) ||
                    (question->type == kTypeAaaa && it->second.is_v6());
      if (wanted) found.push_back(it->second);
    }
    std::string outcome;
    if (!known) {
      outcome = "NXDOMAIN";
    } else if (found.empty()) {
      outcome = "NODATA";
    } else {
      for (const auto& address : found)
        outcome += (outcome.empty() ? "" : ",") + address.to_string();
    }
    log_.line(transport + " " + peer_name(peer) + " " + escape(question->name) + " " +
              type_name(question->type) + " -> " + outcome);
    return reply(message, question->end, known ? 0 : kRcodeNxDomain, found, question->type);
  }

 private:
  // Header and question of the query, then one answer record per address.
  static std::vector<std::uint8_t> reply(const std::vector<std::uint8_t>& query,
                                         std::size_t question_end, std::uint8_t rcode,
                                         const std::vector<asio::ip::address>& addresses,
                                         std::uint16_t type) {
    std::vector<std::uint8_t> out(query.begin(),
                                  query.begin() + static_cast<std::ptrdiff_t>(question_end));
    out[2] = static_cast<std::uint8_t>(0x84 | (query[2] & 0x79));  // QR, AA; opcode and RD kept
    out[3] = static_cast<std::uint8_t>(0x80 | rcode);              // RA
    bool has_question = question_end > kHeaderBytes;
    out[4] = 0;
    out[5] = has_question ? 1 : 0;
    out[6] = 0;
    out[7] = static_cast<std::uint8_t>(addresses.size());
    for (std::size_t i = 8; i < kHeaderBytes; ++i) out[i] = 0;  // no authority, no additional
    for (const auto& address : addresses) {
      put16(out, 0xc00c);  // the name of the question
      put16(out, type);
      put16(out, 1);  // IN
      put16(out, kTtl >> 16);
      put16(out, kTtl & 0xffff);
      if (address.is_v4()) {
        put16(out, 4);
        for (auto byte : address.to_v4().to_bytes()) out.push_back(byte);
      } else {
        put16(out, 16);
        for (auto byte : address.to_v6().to_bytes()) out.push_back(byte);
      }
    }
    return out;
  }

  const Options& options_;
  EventLog log_;
};

class TcpConnection : public std::enable_shared_from_this<TcpConnection> {
 public:
  TcpConnection(tcp::socket socket, asio::ip::address peer, Server& server)
      : socket_(std::move(socket)), peer_(std::move(peer)), server_(server) {}

  void start() { read_length(); }

 private:
  void read_length() {
    asio::async_read(socket_, asio::buffer(length_),
                     [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                       if (!ec) self->read_message();
                     });
  }

  void read_message() {
    message_.resize(static_cast<std::size_t>((length_[0] << 8) | length_[1]));
    asio::async_read(socket_, asio::buffer(message_),
                     [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                       if (!ec) self->respond();
                     });
  }

  void respond() {
    reply_ = server_.answer(message_, "tcp", peer_);
    if (reply_.empty()) return;
    reply_.insert(reply_.begin(), {static_cast<std::uint8_t>(reply_.size() >> 8),
                                   static_cast<std::uint8_t>(reply_.size() & 0xff)});
    asio::async_write(
        socket_, asio::buffer(reply_),
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
          if (!ec) self->read_length();
        });
  }

  tcp::socket socket_;
  asio::ip::address peer_;
  Server& server_;
  std::array<std::uint8_t, 2> length_{};
  std::vector<std::uint8_t> message_;
  std::vector<std::uint8_t> reply_;
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
    } else if (flag == "--answer") {
      auto eq = value.find('=');
      if (eq == std::string::npos || eq == 0) throw UsageError{"--answer wants NAME=ADDRESS"};
      options.answers.emplace(lowercase(value.substr(0, eq)), parse_address(value.substr(eq + 1)));
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
  Server server(options);
  auto address = parse_address(options.bind);
  const std::string failure =
      "cannot listen on " + options.bind + " port " + std::to_string(options.port);
  UdpReceiver udp_server(io, udp::endpoint(address, options.port), failure,
                         [&server](std::string_view datagram, const udp::endpoint& sender) {
                           auto reply = server.answer(
                               std::vector<std::uint8_t>(datagram.begin(), datagram.end()), "udp",
                               sender.address());
                           return std::string(reply.begin(), reply.end());
                         });
  TcpListener tcp_server(
      io, tcp::endpoint(address, options.port), failure,
      [&server](tcp::socket socket, const asio::ip::address& peer) {
        std::make_shared<TcpConnection>(std::move(socket), peer, server)->start();
      });
  return run_until_stopped(io);
}

}  // namespace

int main(int argc, char** argv) {
  return server_main(argc, argv, "si-fake-dns",
                     "si-fake-dns --log FILE --bind ADDR [--port 53] [--answer NAME=ADDRESS]...",
                     [](int count, char** words) { return serve(parse_options(count, words)); });
}
