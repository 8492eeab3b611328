#pragma once
// What the fake internet's servers (si-sink, si-fake-dns, si-registry, si-upstream-proxy)
// share: an append-only event log a test can read while the server runs, byte escaping for
// it, "--flag value" parsing, listening sockets with an accept loop, and the life cycle every
// server has: say "ready" once every socket is bound, run until SIGTERM or SIGINT, report
// usage errors with exit 2 and other failures with exit 1. Header-only: each server is one
// translation unit.

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <boost/asio.hpp>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace safeinstall::test::server {

struct UsageError {
  std::string message;
};

// Printable ASCII as is, everything else (and the backslash) escaped, so one event is one line.
inline std::string escape(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '\\') {
      out += "\\\\";
    } else if (byte >= 0x20 && byte < 0x7f) {
      out += c;
    } else {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    }
  }
  return out;
}

// A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; tests look for a.b.c.d.
inline std::string peer_name(const boost::asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6())
        .to_string();
  return address.to_string();
}

// One write(2) per line on an O_APPEND descriptor: a reader sees whole lines only.
class EventLog {
 public:
  explicit EventLog(const std::string& path)
      : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "open log " + path);
  }
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;
  ~EventLog() { ::close(fd_); }

  void line(std::string text) {
    text += '\n';
    std::string_view left = text;
    while (!left.empty()) {
      ssize_t n = ::write(fd_, left.data(), left.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // nowhere left to report to; the test will notice the gap
      left.remove_prefix(static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_;
};

inline unsigned short parse_port(std::string_view text) {
  unsigned int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535)
    throw UsageError{"not a port number: " + std::string(text)};
  return static_cast<unsigned short>(value);
}

inline boost::asio::ip::address parse_address(const std::string& text) {
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(text, ec);
  if (ec) throw UsageError{"not an IP address: " + text};
  return address;
}

inline std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Calls on_option(flag, value) for each "--flag value" pair of the command line.
inline void for_each_option(
    int argc, char** argv,
    const std::function<void(std::string_view flag, const std::string& value)>& on_option) {
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (i + 1 >= argc) throw UsageError{"missing value after " + std::string(flag)};
    on_option(flag, argv[++i]);
  }
}

// A listening TCP socket that hands every accepted connection, with its peer's address, to
// on_accept until the io_context stops. A connection whose peer already reset has no address
// to log and is dropped: there is nothing to record. Stays where it was built (the accept
// loop holds `this`).
class TcpListener {
 public:
  using OnAccept =
      std::function<void(boost::asio::ip::tcp::socket, const boost::asio::ip::address& peer)>;

  // Throws std::runtime_error "<failure>: <reason>" when it cannot listen on `at`.
  TcpListener(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& at,
              const std::string& failure, OnAccept on_accept)
      : acceptor_(io), on_accept_(std::move(on_accept)) {
    try {
      acceptor_.open(at.protocol());
      acceptor_.set_option(boost::asio::ip::tcp::acceptor::reuse_address(true));
      acceptor_.bind(at);
      acceptor_.listen();
    } catch (const boost::system::system_error& e) {
      throw std::runtime_error(failure + ": " + e.code().message());
    }
    accept();
  }
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

 private:
  void accept() {
    acceptor_.async_accept(
        [this](const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket) {
          if (ec == boost::asio::error::operation_aborted) return;
          if (!ec) {
            boost::system::error_code peer_error;
            auto peer = socket.remote_endpoint(peer_error);
            if (!peer_error) on_accept_(std::move(socket), peer.address());
          }
          accept();
        });
  }

  boost::asio::ip::tcp::acceptor acceptor_;
  OnAccept on_accept_;
};

// A bound UDP socket that hands every datagram to on_datagram and sends back what it returns
// (nothing if empty), until the io_context stops. Stays where it was built.
class UdpReceiver {
 public:
  using OnDatagram = std::function<std::string(std::string_view datagram,
                                               const boost::asio::ip::udp::endpoint& sender)>;

  // Throws std::runtime_error "<failure>: <reason>" when it cannot bind `at`.
  UdpReceiver(boost::asio::io_context& io, const boost::asio::ip::udp::endpoint& at,
              const std::string& failure, OnDatagram on_datagram)
      : socket_(io), on_datagram_(std::move(on_datagram)) {
    try {
      socket_.open(at.protocol());
      socket_.set_option(boost::asio::ip::udp::socket::reuse_address(true));
      socket_.bind(at);
    } catch (const boost::system::system_error& e) {
      throw std::runtime_error(failure + ": " + e.code().message());
    }
    receive();
  }
  UdpReceiver(const UdpReceiver&) = delete;
  UdpReceiver& operator=(const UdpReceiver&) = delete;

 private:
  void receive() {
    socket_.async_receive_from(
        boost::asio::buffer(buffer_), sender_,
        [this](const boost::system::error_code& ec, std::size_t n) {
          if (ec == boost::asio::error::operation_aborted) return;
          if (!ec) {
            std::string reply = on_datagram_(std::string_view(buffer_.data(), n), sender_);
            boost::system::error_code ignored;
            if (!reply.empty()) socket_.send_to(boost::asio::buffer(reply), sender_, 0, ignored);
          }
          receive();
        });
  }

  boost::asio::ip::udp::socket socket_;
  boost::asio::ip::udp::endpoint sender_;
  OnDatagram on_datagram_;
  std::array<char, 65536> buffer_{};
};

// Tells the test that started the server that every socket is bound.
inline void say_ready() {
  std::fputs("ready\n", stdout);
  std::fflush(stdout);
}

// Says ready, then runs `io` until SIGTERM or SIGINT.
inline int run_until_stopped(boost::asio::io_context& io) {
  boost::asio::signal_set stop(io, SIGTERM, SIGINT);
  stop.async_wait([&io](const boost::system::error_code&, int) { io.stop(); });
  say_ready();
  io.run();
  return 0;
}

// main() of every server: serve(argc, argv), a usage error reported as
// "<name>: <message>\nusage: <usage>" with exit 2, any other failure as "<name>: <what>" with
// exit 1.
inline int server_main(int argc, char** argv, const char* name, const char* usage,
                       const std::function<int(int, char**)>& serve) {
  try {
    return serve(argc, argv);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "%s: %s\nusage: %s\n", name, e.message.c_str(), usage);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", name, e.what());
    return 1;
  }
}

}  // namespace safeinstall::test::server
