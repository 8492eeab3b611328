// si-sink: the attacker's server on the fake internet. It listens where exfiltration would go
// (80/443 TCP, 53 UDP, whatever the test asks) and logs everything that reaches it, one line
// per event, so a test can show that nothing did:
//
//   tcp <peer> <local port> <first bytes received, escaped>
//   udp <peer> <local port> <datagram, escaped>
//
// Each line is one write(2) on an O_APPEND descriptor, so a test reading the log sees a line
// as soon as it is written and never half of one. "ready" on stdout means every socket is
// bound; SIGTERM or SIGINT ends it.
//
// usage: si-sink --log FILE [--bind ADDR]... [--tcp PORT]... [--udp PORT]...
#include <array>
#include <boost/asio.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/server_common.h"

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
using namespace safeinstall::test::server;

// A TCP peer that sends nothing is still logged, after this long.
constexpr auto kFirstBytesWait = std::chrono::seconds(1);
constexpr std::size_t kMaxLoggedBytes = 2048;  // enough for a TLS ClientHello and its SNI

struct Options {
  std::string log;
  std::vector<std::string> bind;
  std::vector<unsigned short> tcp_ports;
  std::vector<unsigned short> udp_ports;
};

void log_event(EventLog& log, const std::string& kind, const asio::ip::address& peer,
               unsigned short port, std::string_view bytes) {
  log.line(kind + " " + peer_name(peer) + " " + std::to_string(port) + " " + escape(bytes));
}

// One accepted connection: waits for the first bytes (or EOF, or kFirstBytesWait), logs one
// line, and hangs up. It never answers: an attacker's server that talks back is not needed to
// prove that something reached it.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, asio::ip::address peer, unsigned short port, EventLog& log)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        port_(port),
        log_(log),
        peer_(std::move(peer)) {}

  void start() {
    timer_.expires_after(kFirstBytesWait);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->finish(0);
    });
    socket_.async_read_some(asio::buffer(buffer_),
                            [self = shared_from_this()](const boost::system::error_code&,
                                                        std::size_t n) { self->finish(n); });
  }

 private:
  void finish(std::size_t received) {
    if (logged_) return;
    logged_ = true;
    log_event(log_, "tcp", peer_, port_, std::string_view(buffer_.data(), received));
    boost::system::error_code ignored;
    timer_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  unsigned short port_;
  EventLog& log_;
  asio::ip::address peer_;
  std::array<char, kMaxLoggedBytes> buffer_{};
  bool logged_ = false;
};

Options parse_options(int argc, char** argv) {
  Options options;
  for_each_option(argc, argv, [&options](std::string_view flag, const std::string& value) {
    if (flag == "--log")
      options.log = value;
    else if (flag == "--bind")
      options.bind.push_back(value);
    else if (flag == "--tcp")
      options.tcp_ports.push_back(parse_port(value));
    else if (flag == "--udp")
      options.udp_ports.push_back(parse_port(value));
    else
      throw UsageError{"unknown option " + std::string(flag)};
  });
  if (options.log.empty()) throw UsageError{"--log FILE is required"};
  if (options.tcp_ports.empty() && options.udp_ports.empty())
    throw UsageError{"nothing to listen on: give --tcp PORT and/or --udp PORT"};
  if (options.bind.empty()) options.bind.push_back("0.0.0.0");
  return options;
}

int serve(const Options& options) {
  asio::io_context io;
  EventLog log(options.log);
  std::vector<std::unique_ptr<TcpListener>> listeners;
  std::vector<std::unique_ptr<UdpReceiver>> receivers;
  for (const auto& bind : options.bind) {
    auto address = parse_address(bind);
    for (auto port : options.tcp_ports) {
      listeners.push_back(std::make_unique<TcpListener>(
          io, tcp::endpoint(address, port),
          "cannot listen on tcp " + bind + " " + std::to_string(port),
          [&log, port](tcp::socket socket, const asio::ip::address& peer) {
            std::make_shared<Connection>(std::move(socket), peer, port, log)->start();
          }));
    }
    for (auto port : options.udp_ports) {
      receivers.push_back(std::make_unique<UdpReceiver>(
          io, udp::endpoint(address, port), "cannot bind udp " + bind + " " + std::to_string(port),
          [&log, port](std::string_view datagram, const udp::endpoint& sender) {
            log_event(log, "udp", sender.address(), port, datagram);
            return std::string();
          }));
    }
  }
  return run_until_stopped(io);
}

}  // namespace

int main(int argc, char** argv) {
  return server_main(argc, argv, "si-sink",
                     "si-sink --log FILE [--bind ADDR]... [--tcp PORT]... [--udp PORT]...",
                     [](int count, char** words) { return serve(parse_options(count, words)); });
}
