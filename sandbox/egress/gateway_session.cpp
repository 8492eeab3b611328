#include "sandbox/egress/gateway_session.h"
#include "sandbox/egress/coroutines.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace safeinstall::sandbox {
namespace {

// Whatever goes wrong inside one session stays inside it: the gateway, and with it the
// run, carries on.
void ignore_failure(std::exception_ptr) {}

}  // namespace

GatewaySession::GatewaySession(std::shared_ptr<GatewayState> state, asio::ip::tcp::socket client)
    : state_(std::move(state)),
      client_(std::move(client)),
      upstream_(client_.get_executor()),
      watchdog_(client_.get_executor()),
      deadline_(std::chrono::steady_clock::now() + state_->options.request_head_timeout) {
  state_->sessions.insert(this);
}

GatewaySession::~GatewaySession() {
  state_->sessions.erase(this);
}

void GatewaySession::start(std::shared_ptr<GatewaySession> session) {
  auto executor = session->client_.get_executor();
  asio::co_spawn(executor, session->watch(session), ignore_failure);
  asio::co_spawn(executor, session->run_then_finish(session), ignore_failure);
}

void GatewaySession::close() {
  closed_ = true;
  boost::system::error_code ignored;
  // close(2) alone sends the FIN (or the reset, with unread bytes) that a shutdown before
  // it would: nothing else holds these descriptors.
  client_.close(ignored);
  upstream_.close(ignored);
  watchdog_.cancel();
}

std::uint16_t GatewaySession::local_port() const {
  boost::system::error_code ec;
  auto endpoint = client_.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

void GatewaySession::set_deadline(std::chrono::milliseconds limit) {
  idle_limit_ = std::chrono::milliseconds{0};
  deadline_ = std::chrono::steady_clock::now() + limit;
  rearm_if_sooner(deadline_);
}

void GatewaySession::set_idle_timeout(std::chrono::milliseconds limit) {
  idle_limit_ = limit;
  activity_.touch();
  rearm_if_sooner(activity_.last + idle_limit_);
}

// A later due time needs no wake-up now: the watchdog re-reads the limits when its current
// timer fires and waits on. Only a sooner one must interrupt the wait. (A session sets its
// limits several times per request; each needless wake-up was a turn of the event loop.)
void GatewaySession::rearm_if_sooner(std::chrono::steady_clock::time_point due) {
  if (due < armed_for_) watchdog_.cancel();
}

asio::awaitable<void> GatewaySession::run_then_finish(
    [[maybe_unused]] std::shared_ptr<GatewaySession> self) {
  try {
    co_await run();
  } catch (...) {
    // fall through: the connection is closed below like any other ending
  }
  finished_ = true;
  close();
}

asio::awaitable<void> GatewaySession::watch([[maybe_unused]] std::shared_ptr<GatewaySession> self) {
  while (!finished_ && !closed_) {
    auto due = idle_limit_.count() > 0 ? activity_.last + idle_limit_ : deadline_;
    if (std::chrono::steady_clock::now() >= due) {
      close();
      co_return;
    }
    watchdog_.expires_at(due);
    armed_for_ = due;
    co_await watchdog_.async_wait(kNoThrow);
    armed_for_ = std::chrono::steady_clock::time_point::max();
  }
}

}  // namespace safeinstall::sandbox
