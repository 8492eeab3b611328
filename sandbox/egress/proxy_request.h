#pragma once
// What a client asked the gateway for, decided from an HTTP request head alone: no sockets,
// so the proxy, the transparent relay and the fuzz target run the same code.

#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "sandbox/egress/egress_policy.h"

namespace safeinstall::sandbox {

namespace http = boost::beast::http;

using RequestHead = http::request_header<>;
using RequestParser = http::request_parser<http::buffer_body>;

// host:port as a client wrote it: `host` is a canonical name or an IP literal's text (IPv6
// without brackets).
struct Authority {
  std::string host;
  std::uint16_t port = 0;

  // host:port as it goes on the wire: IPv6 in brackets, `:port` left out when it is
  // `omit_port` (80 in a Host header).
  std::string text(std::optional<std::uint16_t> omit_port = std::nullopt) const;
};

// `registry.npmjs.org:443`, `[2001:db8::1]:443`, `example.org` (then `default_port`).
std::optional<Authority> parse_authority(std::string_view text,
                                         std::optional<std::uint16_t> default_port);

// Where one request goes.
struct RequestTarget {
  enum class Kind {
    Tunnel,   // CONNECT: a byte stream after `200`
    Forward,  // a plain-HTTP request, sent on in origin form
  };
  Kind kind = Kind::Forward;
  Authority authority;
  std::string origin_form;  // "/path?query" for Forward
};

// Why a request is answered by the gateway itself instead of being passed on.
struct RequestRefusal {
  unsigned status = 400;                // 400, 403, 431, 502, 503
  std::optional<RefusalReason> reason;  // recorded as a refusal when set
  std::string host;                     // what is recorded; empty if the request named none
  std::uint16_t port = 0;
  std::string message;  // one line for the response body
};

// Sets the limits every request parser of the gateway uses: header size as configured, no
// body limit (bodies are streamed through a fixed buffer, never held whole).
void configure_request_parser(RequestParser& parser, std::size_t max_header_bytes);

// The refusal for a head that failed to parse: 431 past the header limit, else 400.
RequestRefusal refusal_for_parse_error(const boost::system::error_code& error, std::uint16_t port);

// A request to the proxy: CONNECT host:port, or an absolute http:// URL; checked against
// the policy. `listener_port` is recorded for requests that name no port.
std::expected<RequestTarget, RequestRefusal> examine_proxy_request(const RequestHead& head,
                                                                   const EgressPolicy& policy,
                                                                   std::uint16_t listener_port);

// A request caught by the transparent relay on `port` of the fake address for `mapped_host`:
// its Host (and an absolute URL's host, if any) must name that host and port, else it is
// refused as `sni-mismatch` (the HTTP counterpart of TLS SNI).
std::expected<RequestTarget, RequestRefusal> examine_transparent_request(
    const RequestHead& head, std::string_view mapped_host, std::uint16_t port);

// Rewrites a head for the next hop: origin form to the origin server, absolute form when
// the next hop is the invoker's upstream proxy (with its credentials); Host set from the
// target; client-to-proxy headers dropped. Returns true when the client waits for
// `100 Continue`, which the gateway then answers itself (the Expect header is removed).
bool prepare_forwarded_request(RequestHead& head, const RequestTarget& target, bool absolute_form,
                               std::string_view proxy_authorization);

// The complete response for a refusal: status line, plain-text body, Connection: close.
std::string refusal_response(const RequestRefusal& refusal);

// For the fuzz target and unit tests: parse `bytes` as a request head with the gateway's
// parser settings, then examine it as the proxy would (and rewrite it if it passes).
std::expected<RequestTarget, RequestRefusal> examine_proxy_request_bytes(
    std::string_view bytes, const EgressPolicy& policy, std::size_t max_header_bytes);

}  // namespace safeinstall::sandbox
