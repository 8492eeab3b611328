#include "sandbox/egress/http_proxy.h"

#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "sandbox/egress/coroutines.h"
#include "sandbox/egress/http_forwarder.h"

namespace safeinstall::sandbox {
namespace {

namespace beast = boost::beast;
constexpr std::string_view kTunnelEstablished = "HTTP/1.1 200 Connection established\r\n\r\n";

class HttpProxySession final : public GatewaySession {
 public:
  HttpProxySession(std::shared_ptr<GatewayState> state, asio::ip::tcp::socket client)
      : GatewaySession(std::move(state), std::move(client)) {}

 private:
  asio::awaitable<void> run() override {
    beast::flat_buffer buffer(std::max(options().max_header_bytes, options().relay_buffer_bytes));
    HttpForwarder forwarder(*this, Via::Proxy);
    const auto& policy = state().policy;
    const std::uint16_t listener_port = local_port();
    const RequestRouter route = [&](const RequestHead& head) {
      return examine_proxy_request(head, policy, listener_port);
    };
    auto tunnel = co_await forwarder.serve(buffer, route);
    if (tunnel) co_await open_tunnel(tunnel->authority, buffer);
  }

  asio::awaitable<void> open_tunnel(const Authority& target, beast::flat_buffer& buffer) {
    set_deadline(options().connect_timeout * 2);
    auto socket = co_await state().connector.open_tunnel(target.host, target.port);
    if (!socket) {
      const auto refusal = refusal_for_connect_failure(socket.error(), target);
      co_await refuse_request(*this, refusal);
      co_return;
    }
    if (closed()) co_return;
    upstream() = std::move(*socket);
    auto& counts = state().record.add_connection(target.host, target.port, Via::Proxy);
    auto [ec, n] = co_await asio::async_write(client(), asio::buffer(kTunnelEstablished), kNoThrow);
    if (ec) co_return;
    // A client may send its first bytes (a TLS ClientHello) without waiting for the 200.
    auto pending = buffer.data();
    const std::span<const std::uint8_t> early(static_cast<const std::uint8_t*>(pending.data()),
                                              pending.size());
    if (!co_await send_upstream(upstream(), early, counts, activity())) co_return;
    buffer.consume(pending.size());
    set_idle_timeout(options().idle_timeout);
    co_await relay_both_ways(client(), upstream(), counts, activity(),
                             options().relay_buffer_bytes);
  }
};

}  // namespace

void start_http_proxy_session(std::shared_ptr<GatewayState> state, asio::ip::tcp::socket client) {
  GatewaySession::start(std::make_shared<HttpProxySession>(std::move(state), std::move(client)));
}

}  // namespace safeinstall::sandbox
