#include "sandbox/egress/proxy_request.h"

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/serializer.hpp>
#include <charconv>

namespace safeinstall::sandbox {
namespace {

constexpr std::uint16_t kHttpPort = 80;

std::string_view status_text(unsigned status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 431:
      return "Request Header Fields Too Large";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

bool iequals_prefix(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

RequestRefusal malformed(std::string host, std::uint16_t port, std::string message) {
  return {400, RefusalReason::Malformed, std::move(host), port, std::move(message)};
}

// "http://host[:port]/path?q#frag" → authority and origin form; the fragment is dropped.
std::expected<RequestTarget, RequestRefusal> parse_absolute_http(std::string_view target,
                                                                 std::uint16_t listener_port) {
  std::string_view rest = target.substr(7);  // after "http://"
  auto authority_end = rest.find_first_of("/?#");
  std::string_view authority_text = rest.substr(0, authority_end);
  std::string_view path =
      authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
  if (authority_text.find('@') != std::string_view::npos) {
    // userinfo is how `http://allowed.example@evil.example/` fools sloppy parsers
    return std::unexpected(
        malformed("", listener_port, "user information in a URL is not accepted"));
  }
  auto authority = parse_authority(authority_text, kHttpPort);
  if (!authority) {
    return std::unexpected(malformed("", listener_port, "the URL's host is not a valid host name"));
  }
  path = path.substr(0, path.find('#'));
  std::string origin = path.starts_with('/') ? std::string(path) : "/" + std::string(path);
  return RequestTarget{RequestTarget::Kind::Forward, std::move(*authority), std::move(origin)};
}

std::expected<RequestTarget, RequestRefusal> apply_policy(RequestTarget target,
                                                          const EgressPolicy& policy) {
  switch (policy.decide(target.authority.host, target.authority.port)) {
    case EgressPolicy::Decision::Allowed:
      return target;
    case EgressPolicy::Decision::Malformed:
      return std::unexpected(
          malformed(target.authority.host, target.authority.port, "not a valid host name"));
    case EgressPolicy::Decision::NotAllowed:
      break;
  }
  return std::unexpected(RequestRefusal{403, RefusalReason::NotAllowed, target.authority.host,
                                        target.authority.port,
                                        "this host and port are not in the allowed hosts"});
}

}  // namespace

std::string Authority::text(std::optional<std::uint16_t> omit_port) const {
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (!omit_port || *omit_port != port) out += ":" + std::to_string(port);
  return out;
}

std::optional<Authority> parse_authority(std::string_view text,
                                         std::optional<std::uint16_t> default_port) {
  std::string_view host = text;
  std::optional<std::string_view> port_text;
  if (text.starts_with('[')) {
    auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = text.substr(0, close + 1);
    auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port_text = rest.substr(1);
    }
  } else if (auto colon = text.find(':'); colon != std::string_view::npos) {
    if (text.find(':', colon + 1) != std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  Authority authority;
  if (port_text) {
    unsigned port = 0;
    auto [end, ec] =
        std::from_chars(port_text->data(), port_text->data() + port_text->size(), port);
    if (port_text->empty() || port_text->size() > 5 || ec != std::errc{} ||
        end != port_text->data() + port_text->size() || port == 0 || port > 65535) {
      return std::nullopt;
    }
    authority.port = static_cast<std::uint16_t>(port);
  } else if (default_port) {
    authority.port = *default_port;
  } else {
    return std::nullopt;
  }
  if (auto address = parse_ip_literal(host)) {
    if (address->is_v6() != host.starts_with('[')) return std::nullopt;
    authority.host = address->to_string();
  } else if (auto name = canonical_host_name(host)) {
    authority.host = std::move(*name);
  } else {
    return std::nullopt;
  }
  return authority;
}

void configure_request_parser(RequestParser& parser, std::size_t max_header_bytes) {
  parser.header_limit(static_cast<std::uint32_t>(max_header_bytes));
  parser.body_limit(boost::none);
  parser.eager(false);
}

RequestRefusal refusal_for_parse_error(const boost::system::error_code& error, std::uint16_t port) {
  if (error == http::error::header_limit || error == http::error::buffer_overflow) {
    return {431, RefusalReason::Malformed, "", port, "the request head is too large"};
  }
  return malformed("", port, "the request head could not be parsed (" + error.message() + ")");
}

std::expected<RequestTarget, RequestRefusal> examine_proxy_request(const RequestHead& head,
                                                                   const EgressPolicy& policy,
                                                                   std::uint16_t listener_port) {
  std::string_view target(head.target().data(), head.target().size());
  if (head.method() == http::verb::connect) {
    auto authority = parse_authority(target, std::nullopt);
    if (!authority) {
      return std::unexpected(
          malformed("", listener_port, "CONNECT needs host:port with a valid host name"));
    }
    return apply_policy({RequestTarget::Kind::Tunnel, std::move(*authority), {}}, policy);
  }
  if (iequals_prefix(target, "http://")) {
    auto parsed = parse_absolute_http(target, listener_port);
    if (!parsed) return parsed;
    return apply_policy(std::move(*parsed), policy);
  }
  if (iequals_prefix(target, "https://")) {
    return std::unexpected(
        malformed("", listener_port, "https:// URLs go through CONNECT, not a plain request"));
  }
  return std::unexpected(malformed(
      "", listener_port, "a proxy request needs an absolute http:// URL or CONNECT host:port"));
}

std::expected<RequestTarget, RequestRefusal> examine_transparent_request(
    const RequestHead& head, std::string_view mapped_host, std::uint16_t port) {
  std::string_view target(head.target().data(), head.target().size());
  std::string origin;
  std::optional<Authority> named;
  if (target.starts_with('/')) {
    origin = std::string(target.substr(0, target.find('#')));
  } else if (iequals_prefix(target, "http://")) {
    auto parsed = parse_absolute_http(target, port);
    if (!parsed) return propagate(parsed);
    named = parsed->authority;
    origin = std::move(parsed->origin_form);
  } else {
    return std::unexpected(malformed(std::string(mapped_host), port, "unsupported request target"));
  }
  auto host_header = head.find(http::field::host);
  if (host_header != head.end()) {
    std::string_view value(host_header->value().data(), host_header->value().size());
    auto authority = parse_authority(value, port);
    if (!authority) {
      return std::unexpected(
          malformed(std::string(mapped_host), port, "the Host header is not valid"));
    }
    if (named && (named->host != authority->host || named->port != authority->port)) {
      return std::unexpected(
          malformed(std::string(mapped_host), port, "the URL and the Host header disagree"));
    }
    named = std::move(*authority);
  } else if (head.version() >= 11) {
    return std::unexpected(
        malformed(std::string(mapped_host), port, "HTTP/1.1 needs a Host header"));
  }
  if (named && (named->host != mapped_host || named->port != port)) {
    return std::unexpected(
        RequestRefusal{403, RefusalReason::SniMismatch, named->host, named->port,
                       "the Host header names another host than the address dialled (" +
                           std::string(mapped_host) + ")"});
  }
  return RequestTarget{RequestTarget::Kind::Forward, Authority{std::string(mapped_host), port},
                       std::move(origin)};
}

bool prepare_forwarded_request(RequestHead& head, const RequestTarget& target, bool absolute_form,
                               std::string_view proxy_authorization) {
  std::string host = target.authority.text(kHttpPort);
  if (absolute_form) {
    head.target("http://" + host + target.origin_form);
  } else {
    head.target(target.origin_form);
  }
  head.set(http::field::host, host);
  head.erase(http::field::proxy_connection);
  head.erase(http::field::proxy_authorization);
  if (absolute_form && !proxy_authorization.empty()) {
    head.set(http::field::proxy_authorization, proxy_authorization);
  }
  auto expect = head.find(http::field::expect);
  bool wants_continue = false;
  if (expect != head.end()) {
    std::string_view value(expect->value().data(), expect->value().size());
    wants_continue = iequals_prefix(value, "100-continue");
    head.erase(http::field::expect);
  }
  return wants_continue;
}

std::string refusal_response(const RequestRefusal& refusal) {
  std::string body = "safeinstall egress gateway: ";
  if (!refusal.host.empty()) {
    body += Authority{refusal.host, refusal.port}.text() + " ";
  }
  if (refusal.reason) {
    body += "refused (" + std::string(to_string(*refusal.reason)) + "): ";
  }
  body += refusal.message + "\n";
  // The recorded host came from the client: keep the body printable ASCII.
  for (char& c : body) {
    if ((c < 0x20 && c != '\n') || c == 0x7f || static_cast<unsigned char>(c) >= 0x80) c = '?';
  }
  return "HTTP/1.1 " + std::to_string(refusal.status) + " " +
         std::string(status_text(refusal.status)) +
         "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

std::expected<RequestTarget, RequestRefusal> examine_proxy_request_bytes(
    std::string_view bytes, const EgressPolicy& policy, std::size_t max_header_bytes) {
  constexpr std::uint16_t kListenerPort = 3128;
  RequestParser parser;
  configure_request_parser(parser, max_header_bytes);
  boost::system::error_code ec;
  std::size_t used = parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
  (void)used;
  if (ec == http::error::need_more) {
    parser.put_eof(ec);
  }
  if (ec && !parser.is_header_done())
    return std::unexpected(refusal_for_parse_error(ec, kListenerPort));
  if (!parser.is_header_done()) {
    return std::unexpected(malformed("", kListenerPort, "incomplete request head"));
  }
  auto target = examine_proxy_request(parser.get(), policy, kListenerPort);
  if (target && target->kind == RequestTarget::Kind::Forward) {
    RequestHead rewritten = parser.get().base();
    prepare_forwarded_request(rewritten, *target, false, {});
    prepare_forwarded_request(rewritten, *target, true, "Basic dTpw");
  }
  return target;
}

}  // namespace safeinstall::sandbox
