#include "sandbox/egress/http_forwarder.h"
#include "sandbox/egress/coroutines.h"

#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>

namespace safeinstall::sandbox {
namespace {

namespace beast = boost::beast;

// Origins send bigger heads than clients (cookies, CSP); still bounded.
constexpr std::size_t kMaxResponseHead = 64 * 1024;
// After a refusal, what the client still sends is read and dropped for a moment, so the
// close does not reset the connection before the client has read the answer.
constexpr std::size_t kMaxDrainBytes = 256 * 1024;
constexpr std::chrono::milliseconds kDrainTime{1000};
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

bool is_parse_error(const boost::system::error_code& ec) {
  return ec.category() == beast::http::make_error_code(http::error::need_more).category() &&
         ec != http::error::end_of_stream;
}

asio::awaitable<void> drain_client(GatewaySession& session) {
  boost::system::error_code ignored;
  session.client().shutdown(tcp::socket::shutdown_send, ignored);
  session.set_deadline(kDrainTime);
  std::array<char, 4096> sink;
  std::size_t drained = 0;
  while (drained < kMaxDrainBytes) {
    auto [ec, n] = co_await session.client().async_read_some(asio::buffer(sink), kNoThrow);
    if (ec) break;
    drained += n;
  }
}

}  // namespace

void record_decoys_in_head(GatewayState& state, const RequestHead& head, std::string_view host) {
  if (state.decoys.empty()) return;
  std::string line = std::string(head.method_string()) + " " + std::string(head.target());
  if (auto decoy = state.decoys.find(line))
    state.record.add_exfiltration(*decoy, "request line", host);
  for (const auto& field : head) {
    if (auto decoy = state.decoys.find(field.value()))
      state.record.add_exfiltration(*decoy, "header " + std::string(field.name_string()), host);
  }
}

asio::awaitable<void> refuse_request(GatewaySession& session, const RequestRefusal& refusal) {
  if (refusal.reason)
    session.state().record.add_refusal(refusal.host, refusal.port, *refusal.reason);
  if (session.closed()) co_return;
  std::string response = refusal_response(refusal);
  auto [ec, n] = co_await asio::async_write(session.client(), asio::buffer(response), kNoThrow);
  if (!ec) co_await drain_client(session);
}

RequestRefusal refusal_for_connect_failure(const ConnectFailure& failure, const Authority& target) {
  if (failure.refusal) return {403, failure.refusal, target.host, target.port, failure.message};
  return {502, std::nullopt, target.host, target.port, failure.message};
}

HttpForwarder::HttpForwarder(GatewaySession& session, Via via)
    : session_(session),
      via_(via),
      upstream_buffer_(std::max(kMaxResponseHead, session.options().relay_buffer_bytes)) {}

asio::awaitable<std::optional<RequestTarget>> HttpForwarder::serve(beast::flat_buffer& buffer,
                                                                   const RequestRouter& route) {
  const auto& options = session_.options();
  while (!session_.closed()) {
    session_.set_deadline(options.request_head_timeout);
    RequestParser parser;
    configure_request_parser(parser, options.max_header_bytes);
    auto [ec, n] = co_await http::async_read_header(session_.client(), buffer, parser, kNoThrow);
    if (ec) {
      if (is_parse_error(ec) && !session_.closed()) {
        const auto refusal = refusal_for_parse_error(ec, session_.local_port());
        co_await refuse_request(session_, refusal);
      }
      co_return std::nullopt;
    }
    auto target = route(parser.get());
    record_decoys_in_head(session_.state(), parser.get(),
                          target ? target->authority.host : target.error().host);
    if (!target) {
      co_await refuse_request(session_, target.error());
      co_return std::nullopt;
    }
    if (target->kind == RequestTarget::Kind::Tunnel) co_return std::move(*target);
    if (!co_await forward(parser, buffer, *target)) co_return std::nullopt;
  }
  co_return std::nullopt;
}

asio::awaitable<bool> HttpForwarder::connect_upstream(const RequestTarget& target) {
  const auto& wanted = target.authority;
  if (connected_to_ && connected_to_->host == wanted.host && connected_to_->port == wanted.port &&
      session_.upstream().is_open()) {
    co_return true;
  }
  boost::system::error_code ignored;
  session_.upstream().close(ignored);
  upstream_buffer_.clear();
  connected_to_.reset();
  session_.set_deadline(session_.options().connect_timeout * 2);
  auto connection = co_await session_.state().connector.open_http(wanted.host, wanted.port);
  if (!connection) {
    const auto refusal = refusal_for_connect_failure(connection.error(), wanted);
    co_await refuse_request(session_, refusal);
    co_return false;
  }
  if (session_.closed()) co_return false;
  session_.upstream() = std::move(connection->socket);
  through_proxy_ = connection->through_proxy;
  proxy_authorization_ = std::move(connection->proxy_authorization);
  counts_ = &session_.state().record.add_connection(wanted.host, wanted.port, via_);
  connected_to_ = wanted;
  co_return true;
}

asio::awaitable<bool> HttpForwarder::forward(RequestParser& request, beast::flat_buffer& buffer,
                                             const RequestTarget& target) {
  bool reused = connected_to_ && connected_to_->host == target.authority.host &&
                connected_to_->port == target.authority.port;
  if (!co_await connect_upstream(target)) co_return false;
  if (!chunk_) chunk_.reset(new char[session_.options().relay_buffer_bytes]);
  session_.set_idle_timeout(session_.options().idle_timeout);

  bool wants_continue =
      prepare_forwarded_request(request.get(), target, through_proxy_, proxy_authorization_);
  if (wants_continue) {
    auto [ec, n] = co_await asio::async_write(session_.client(), asio::buffer(kContinue), kNoThrow);
    if (ec) co_return false;
  }
  bool has_body = !request.is_done();
  bool response_started = false;
  body_sample_.clear();
  bool keep_alive = co_await exchange(request, buffer, response_started);
  record_decoys_in_body(target.authority.host);
  if (!response_started && reused && !has_body && !session_.closed()) {
    // The origin may have closed the idle keep-alive connection just as this request went
    // out; a request without a body is safe to send once more on a fresh connection.
    connected_to_.reset();
    if (!co_await connect_upstream(target)) co_return false;
    session_.set_idle_timeout(session_.options().idle_timeout);
    keep_alive = co_await exchange(request, buffer, response_started);
  }
  if (!response_started && !session_.closed()) {
    const RequestRefusal refusal{502, std::nullopt, target.authority.host, target.authority.port,
                                 "the origin closed the connection"};
    co_await refuse_request(session_, refusal);
  }
  co_return keep_alive;
}

bool HttpForwarder::sampling_body() const {
  return !session_.state().decoys.empty() &&
         body_sample_.size() < session_.options().decoy_body_scan_bytes;
}

void HttpForwarder::sample_body(const char* data, std::size_t size) {
  if (!sampling_body()) return;
  const std::size_t room = session_.options().decoy_body_scan_bytes - body_sample_.size();
  body_sample_.append(data, std::min(size, room));
}

void HttpForwarder::record_decoys_in_body(std::string_view host) {
  if (body_sample_.empty()) return;
  auto& state = session_.state();
  if (auto decoy = state.decoys.find(body_sample_))
    state.record.add_exfiltration(*decoy, "request body", host);
  body_sample_.clear();
}

asio::awaitable<bool> HttpForwarder::exchange(RequestParser& request, beast::flat_buffer& buffer,
                                              bool& response_started) {
  auto& client = session_.client();
  auto& upstream = session_.upstream();
  if (!co_await forward_message(request, client, buffer, upstream, counts_->bytes_sent)) {
    co_return false;
  }
  std::optional<http::response_parser<http::buffer_body>> response;
  while (true) {
    response.emplace();
    response->header_limit(static_cast<std::uint32_t>(kMaxResponseHead));
    response->body_limit(boost::none);
    if (request.get().method() == http::verb::head) response->skip(true);
    auto [ec, n] =
        co_await http::async_read_header(upstream, upstream_buffer_, *response, kNoThrow);
    if (ec) co_return false;
    response_started = true;
    counts_->bytes_received += n;
    unsigned status = response->get().result_int();
    if (status == 101) {
      if (co_await stream_message(*response, upstream, upstream_buffer_, client, nullptr,
                                  nullptr)) {
        co_await switch_protocols(buffer);
      }
      co_return false;
    }
    if (status >= 200) break;
    // 1xx interim responses go to the client as they are; the real one follows.
    if (!co_await stream_message(*response, upstream, upstream_buffer_, client, nullptr, nullptr)) {
      co_return false;
    }
  }
  if (!co_await forward_message(*response, upstream, upstream_buffer_, client,
                                counts_->bytes_received)) {
    co_return false;
  }
  co_return request.keep_alive() && response->keep_alive();
}

// The streaming loop of Beast's HTTP relay example: the parser fills the fixed chunk, the
// serializer writes it out (re-framing chunked bodies canonically), until both are done.
template <bool isRequest>
asio::awaitable<bool> HttpForwarder::stream_message(
    http::parser<isRequest, http::buffer_body>& parser, tcp::socket& from,
    beast::flat_buffer& from_buffer, tcp::socket& to, std::uint64_t* counted_written,
    std::uint64_t* counted_read) {
  const std::size_t chunk_size = session_.options().relay_buffer_bytes;
  http::serializer<isRequest, http::buffer_body> serializer(parser.get());
  auto& body = parser.get().body();
  do {
    if (!parser.is_done()) {
      body.data = chunk_.get();
      body.size = chunk_size;
      auto [read_error, read] = co_await http::async_read(from, from_buffer, parser, kNoThrow);
      if (read_error && read_error != http::error::need_buffer) co_return false;
      if (counted_read != nullptr) *counted_read += read;
      body.size = chunk_size - body.size;
      if constexpr (isRequest) sample_body(chunk_.get(), body.size);
      body.data = chunk_.get();
      body.more = !parser.is_done();
    } else {
      body.data = nullptr;
      body.size = 0;
      body.more = false;
    }
    auto [write_error, written] = co_await http::async_write(to, serializer, kNoThrow);
    if (write_error && write_error != http::error::need_buffer) co_return false;
    if (counted_written != nullptr) *counted_written += written;
    session_.activity().touch();
  } while (!parser.is_done() || !serializer.is_done());
  co_return true;
}

template <bool isRequest>
asio::awaitable<bool> HttpForwarder::forward_message(
    http::parser<isRequest, http::buffer_body>& parser, tcp::socket& from,
    beast::flat_buffer& from_buffer, tcp::socket& to, std::uint64_t& counted) {
  // Requests count what is written upstream; responses what is read from upstream (their
  // heads were counted when read).
  const bool counts_writes = isRequest;
  auto length = parser.content_length();
  // A request body the decoy scan reads goes through the parser, which hands it over in
  // chunks; the raw relay below never sees it as a whole.
  bool scanned = isRequest && sampling_body();
  if (parser.is_done() || !length || parser.chunked() || scanned) {
    co_return co_await stream_message(parser, from, from_buffer, to,
                                      counts_writes ? &counted : nullptr,
                                      counts_writes ? nullptr : &counted);
  }
  http::serializer<isRequest, http::buffer_body> serializer(parser.get());
  auto [head_error, head_bytes] = co_await http::async_write_header(to, serializer, kNoThrow);
  if (head_error) co_return false;
  if (counts_writes) counted += head_bytes;
  std::uint64_t remaining = *length;
  if (from_buffer.size() > 0 && remaining > 0) {
    auto buffered =
        static_cast<std::size_t>(std::min<std::uint64_t>(from_buffer.size(), remaining));
    auto [ec, n] =
        co_await asio::async_write(to, asio::buffer(from_buffer.data().data(), buffered), kNoThrow);
    if (ec) co_return false;
    from_buffer.consume(n);
    counted += n;
    remaining -= n;
  }
  co_return co_await relay_exactly(from, to, remaining, counted, session_.activity(),
                                   session_.options().relay_buffer_bytes);
}

asio::awaitable<void> HttpForwarder::switch_protocols(beast::flat_buffer& client_buffer) {
  auto& client = session_.client();
  auto& upstream = session_.upstream();
  if (upstream_buffer_.size() > 0) {
    auto [ec, n] = co_await asio::async_write(client, upstream_buffer_.data(), kNoThrow);
    if (ec) co_return;
    counts_->bytes_received += n;
    upstream_buffer_.consume(n);
  }
  if (client_buffer.size() > 0) {
    auto data = client_buffer.data();
    std::span<const std::uint8_t> pending(static_cast<const std::uint8_t*>(data.data()),
                                          data.size());
    if (!co_await send_upstream(upstream, pending, *counts_, session_.activity())) co_return;
    client_buffer.consume(data.size());
  }
  co_await relay_both_ways(client, upstream, *counts_, session_.activity(),
                           session_.options().relay_buffer_bytes);
}

}  // namespace safeinstall::sandbox
