#pragma once
// One TCP connection from the sandbox, whatever it carries (proxy, transparent relay, DNS
// over TCP): its sockets, its watchdog, and its place in the gateway's set of sessions.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>

#include "sandbox/egress/gateway_state.h"
#include "sandbox/egress/relay.h"

namespace safeinstall::sandbox {

class GatewaySession : public std::enable_shared_from_this<GatewaySession> {
 public:
  GatewaySession(const GatewaySession&) = delete;
  GatewaySession& operator=(const GatewaySession&) = delete;
  virtual ~GatewaySession();

  // Runs the session and its watchdog; the session lives until both have finished.
  static void start(std::shared_ptr<GatewaySession> session);

  // Closes both sockets: every pending operation ends with an error and the session unwinds.
  void close();

  // The session's parts, for the protocol helpers it runs (forwarder, relay).
  // From now on the session may take at most `limit`, activity or not (reading a head,
  // connecting out).
  void set_deadline(std::chrono::milliseconds limit);
  // From now on the session ends after `limit` without activity (relaying).
  void set_idle_timeout(std::chrono::milliseconds limit);

  GatewayState& state() { return *state_; }
  const GatewayOptions& options() const { return state_->options; }
  boost::asio::ip::tcp::socket& client() { return client_; }
  boost::asio::ip::tcp::socket& upstream() { return upstream_; }
  ActivityClock& activity() { return activity_; }
  // True once closed by the watchdog, stop() or an error: no new work may start.
  bool closed() const { return closed_; }
  // The port the client dialled: the listener's port.
  std::uint16_t local_port() const;

 protected:
  GatewaySession(std::shared_ptr<GatewayState> state, boost::asio::ip::tcp::socket client);

  virtual boost::asio::awaitable<void> run() = 0;

 private:
  boost::asio::awaitable<void> run_then_finish(std::shared_ptr<GatewaySession> self);
  boost::asio::awaitable<void> watch(std::shared_ptr<GatewaySession> self);
  void rearm_if_sooner(std::chrono::steady_clock::time_point due);

  std::shared_ptr<GatewayState> state_;
  boost::asio::ip::tcp::socket client_;
  boost::asio::ip::tcp::socket upstream_;
  ActivityClock activity_;
  boost::asio::steady_timer watchdog_;
  std::chrono::steady_clock::time_point deadline_;
  std::chrono::milliseconds idle_limit_{0};  // 0: the fixed deadline applies
  // When the watchdog's timer fires; max() while it is not waiting.
  std::chrono::steady_clock::time_point armed_for_ = std::chrono::steady_clock::time_point::max();
  bool closed_ = false;
  bool finished_ = false;
};

}  // namespace safeinstall::sandbox
