#pragma once
// Plain-HTTP forwarding for one client connection, shared by the proxy (absolute-form
// requests) and the transparent relay (port 80): requests are read one after another
// (keep-alive), each routed by the caller's rule, streamed to the origin (or the invoker's
// proxy) through a fixed buffer, and the response streamed back.

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <expected>
#include <functional>
#include <memory>
#include <optional>

#include "sandbox/egress/gateway_session.h"
#include "sandbox/egress/network_record.h"
#include "sandbox/egress/proxy_request.h"

namespace safeinstall::sandbox {

// Decides where one request goes, or why it is refused.
using RequestRouter =
    std::function<std::expected<RequestTarget, RequestRefusal>(const RequestHead& head)>;

class HttpForwarder {
 public:
  HttpForwarder(GatewaySession& session, Via via);

  // Serves requests from the session's client until the connection should end (nullopt) or
  // a request asks for a tunnel, which is returned for the caller to open (the buffer then
  // holds whatever the client sent after the CONNECT head).
  boost::asio::awaitable<std::optional<RequestTarget>> serve(boost::beast::flat_buffer& buffer,
                                                             const RequestRouter& route);

 private:
  boost::asio::awaitable<bool> forward(RequestParser& request, boost::beast::flat_buffer& buffer,
                                       const RequestTarget& target);
  boost::asio::awaitable<bool> connect_upstream(const RequestTarget& target);
  boost::asio::awaitable<bool> exchange(RequestParser& request, boost::beast::flat_buffer& buffer,
                                        bool& response_started);
  template <bool isRequest>
  boost::asio::awaitable<bool> stream_message(http::parser<isRequest, http::buffer_body>& parser,
                                              boost::asio::ip::tcp::socket& from,
                                              boost::beast::flat_buffer& from_buffer,
                                              boost::asio::ip::tcp::socket& to,
                                              std::uint64_t* counted_written,
                                              std::uint64_t* counted_read);
  // stream_message, or for a body of known length: the head through Beast, the body relayed
  // as raw bytes (no parsing or re-framing needed, and no copy through the parser).
  template <bool isRequest>
  boost::asio::awaitable<bool> forward_message(http::parser<isRequest, http::buffer_body>& parser,
                                               boost::asio::ip::tcp::socket& from,
                                               boost::beast::flat_buffer& from_buffer,
                                               boost::asio::ip::tcp::socket& to,
                                               std::uint64_t& counted);
  boost::asio::awaitable<void> switch_protocols(boost::beast::flat_buffer& client_buffer);
  // The start of each request body, kept for the decoy scan (GatewayOptions::decoys).
  bool sampling_body() const;
  void sample_body(const char* data, std::size_t size);
  void record_decoys_in_body(std::string_view host);

  GatewaySession& session_;
  Via via_;
  std::optional<Authority> connected_to_;  // the upstream connection's host, if open
  bool through_proxy_ = false;
  std::string proxy_authorization_;
  ContactedHost* counts_ = nullptr;
  boost::beast::flat_buffer upstream_buffer_;
  std::unique_ptr<char[]> chunk_;  // the body buffer, both directions in turn
  std::string body_sample_;
};

// Records each decoy value the request's line or headers carry as exfiltration to `host`.
void record_decoys_in_head(GatewayState& state, const RequestHead& head, std::string_view host);

// Records a refusal (when it is one) and answers the client with it.
boost::asio::awaitable<void> refuse_request(GatewaySession& session, const RequestRefusal& refusal);

// The refusal for a failed outbound connection: 403 for a policy refusal, else 502.
RequestRefusal refusal_for_connect_failure(const ConnectFailure& failure, const Authority& target);

}  // namespace safeinstall::sandbox
