#include "sandbox/egress/egress_policy.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace safeinstall::sandbox {
namespace {

namespace ip = boost::asio::ip;

constexpr std::size_t kMaxHostName = 253;
constexpr std::size_t kMaxLabel = 63;
constexpr const char* kPatternHint =
    "patterns look like registry.npmjs.org, *.pythonhosted.org (subdomains only), "
    "registry.example:8443, 203.0.113.7:80 or [2001:db8::1]:443; the port defaults to 443";

bool is_label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// WHATWG URL parsing (and inet_aton) read a name ending in a numeric label as an IPv4
// number; such names must never reach a resolver as "names".
bool is_numeric_label(std::string_view label) {
  if (label.starts_with("0x")) {
    return std::all_of(label.begin() + 2, label.end(),
                       [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
  }
  return std::all_of(label.begin(), label.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::unexpected<Error> pattern_error(std::string_view pattern, std::string_view problem) {
  return plain_error("host pattern `" + std::string(pattern) + "`: " + std::string(problem),
                     kPatternHint);
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

bool is_in_v4(std::uint32_t address, std::uint32_t network, int prefix) {
  std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
  return (address & mask) == network;
}

bool is_non_public_v4(const ip::address_v4& address) {
  struct Range {
    std::uint32_t network;
    int prefix;
  };
  static constexpr std::array<Range, 9> kRanges{{
      {0x00000000, 8},   // "this network", includes 0.0.0.0
      {0x0a000000, 8},   // RFC 1918
      {0x64400000, 10},  // CGNAT
      {0x7f000000, 8},   // loopback
      {0xa9fe0000, 16},  // link-local, cloud metadata
      {0xac100000, 12},  // RFC 1918
      {0xc0a80000, 16},  // RFC 1918
      {0xe0000000, 4},   // multicast
      {0xf0000000, 4},   // reserved, includes 255.255.255.255
  }};
  std::uint32_t value = address.to_uint();
  return std::any_of(kRanges.begin(), kRanges.end(),
                     [&](const Range& r) { return is_in_v4(value, r.network, r.prefix); });
}

ip::address_v4 v4_from_bytes(const ip::address_v6::bytes_type& bytes, std::size_t offset) {
  return ip::address_v4(ip::address_v4::bytes_type{bytes[offset], bytes[offset + 1],
                                                   bytes[offset + 2], bytes[offset + 3]});
}

bool is_non_public_v6(const ip::address_v6& address) {
  const auto b = address.to_bytes();
  auto prefix_is = [&](std::initializer_list<std::uint8_t> prefix) {
    return std::equal(prefix.begin(), prefix.end(), b.begin());
  };
  // Forms that carry an IPv4 address: judge the IPv4 address.
  if (prefix_is({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}) ||     // mapped
      prefix_is({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}) ||           // compatible, ::, ::1
      prefix_is({0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0})) {  // NAT64
    return is_non_public_v4(v4_from_bytes(b, 12));
  }
  if (prefix_is({0x20, 0x02})) return is_non_public_v4(v4_from_bytes(b, 2));  // 6to4
  if (prefix_is({0, 0x64, 0xff, 0x9b, 0, 1})) return true;  // local-use NAT64 64:ff9b:1::/48
  if ((b[0] & 0xfe) == 0xfc) return true;                   // unique local fc00::/7
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;   // link-local fe80::/10
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return true;   // site-local fec0::/10
  return b[0] == 0xff;                                      // multicast
}

// IPv4-mapped IPv6 addresses name the same host as the IPv4 address.
ip::address unmapped(const ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return ip::make_address_v4(ip::v4_mapped, address.to_v6());
  }
  return address;
}

}  // namespace

std::string_view to_string(RefusalReason reason) {
  switch (reason) {
    case RefusalReason::NotAllowed:
      return "not-allowed";
    case RefusalReason::PrivateAddress:
      return "private-address";
    case RefusalReason::SniMismatch:
      return "sni-mismatch";
    case RefusalReason::Malformed:
      return "malformed";
  }
  return "malformed";
}

std::string HostPattern::text() const {
  std::string out;
  if (kind == Kind::Subdomains) out = "*.";
  if (kind == Kind::Address && address && address->is_v6()) {
    out += "[" + host + "]";
  } else {
    out += host;
  }
  return out + ":" + std::to_string(port);
}

std::optional<std::string> canonical_host_name(std::string_view name) {
  if (name.ends_with('.')) name.remove_suffix(1);
  if (name.empty() || name.size() > kMaxHostName) return std::nullopt;
  std::string out;
  out.reserve(name.size());
  std::size_t label_start = 0;
  for (std::size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      std::size_t length = i - label_start;
      if (length == 0 || length > kMaxLabel) return std::nullopt;
      label_start = i + 1;
      if (i < name.size()) out += '.';
      continue;
    }
    char c = lower(name[i]);
    if (!is_label_char(c)) return std::nullopt;
    out += c;
  }
  auto last_dot = out.rfind('.');
  std::string_view last_label = last_dot == std::string::npos
                                    ? std::string_view(out)
                                    : std::string_view(out).substr(last_dot + 1);
  if (is_numeric_label(last_label)) return std::nullopt;
  return out;
}

std::optional<ip::address> parse_ip_literal(std::string_view text) {
  bool bracketed = text.size() >= 2 && text.front() == '[' && text.back() == ']';
  if (bracketed) text = text.substr(1, text.size() - 2);
  if (text.empty() || text.find('%') != std::string_view::npos) return std::nullopt;
  bool looks_v6 = text.find(':') != std::string_view::npos;
  if (bracketed != looks_v6 && bracketed) return std::nullopt;  // "[203.0.113.7]"
  boost::system::error_code ec;
  auto address = ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  return address;
}

bool is_non_public_address(const ip::address& address) {
  return address.is_v4() ? is_non_public_v4(address.to_v4()) : is_non_public_v6(address.to_v6());
}

Result<HostPattern> parse_host_pattern(std::string_view pattern) {
  std::string_view text = pattern;
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (text.empty()) return pattern_error(pattern, "is empty");
  if (text.find("://") != std::string_view::npos) {
    return pattern_error(pattern, "give a host, not a URL");
  }
  if (text.find_first_of("/@?#") != std::string_view::npos) {
    return pattern_error(pattern, "a host pattern has no path, user or query");
  }

  HostPattern result;
  std::string_view host = text;
  std::optional<std::string_view> port_text;
  if (text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return pattern_error(pattern, "`[` without `]`");
    host = text.substr(0, close + 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return pattern_error(pattern, "expected `:port` after `]`");
      port_text = rest.substr(1);
    }
  } else {
    auto colons = std::count(text.begin(), text.end(), ':');
    if (colons > 1) {
      return pattern_error(pattern, "IPv6 addresses need brackets, as in [2001:db8::1]:443");
    }
    if (colons == 1) {
      auto colon = text.find(':');
      host = text.substr(0, colon);
      port_text = text.substr(colon + 1);
    }
  }
  if (port_text) {
    auto port = parse_port(*port_text);
    if (!port) return pattern_error(pattern, "the port must be a number from 1 to 65535");
    result.port = *port;
  }

  if (host.starts_with('[') || parse_ip_literal(host)) {
    auto address = parse_ip_literal(host);
    if (!address) return pattern_error(pattern, "not a valid IP address");
    result.kind = HostPattern::Kind::Address;
    result.address = *address;
    result.host = address->to_string();
    return result;
  }
  if (host.starts_with("*.")) {
    result.kind = HostPattern::Kind::Subdomains;
    host.remove_prefix(2);
  }
  if (host.find('*') != std::string_view::npos) {
    return pattern_error(pattern, "`*` may only stand as the first label, as in *.example.org");
  }
  auto name = canonical_host_name(host);
  if (!name) {
    return pattern_error(pattern,
                         "not a valid host name (letters, digits, `-` and `_` in dot-separated "
                         "labels; the last label not a number)");
  }
  result.host = std::move(*name);
  return result;
}

Result<EgressPolicy> EgressPolicy::parse(const std::vector<std::string>& patterns) {
  std::vector<HostPattern> parsed;
  parsed.reserve(patterns.size());
  for (const auto& text : patterns) {
    auto pattern = parse_host_pattern(text);
    if (!pattern) return propagate(pattern);
    parsed.push_back(std::move(*pattern));
  }
  return EgressPolicy(std::move(parsed));
}

bool EgressPolicy::name_matches(const std::string& name, std::uint16_t port, bool any_port) const {
  return std::any_of(patterns_.begin(), patterns_.end(), [&](const HostPattern& p) {
    if (!any_port && p.port != port) return false;
    switch (p.kind) {
      case HostPattern::Kind::Exact:
        return name == p.host;
      case HostPattern::Kind::Subdomains:
        return name.size() > p.host.size() + 1 && name.ends_with(p.host) &&
               name[name.size() - p.host.size() - 1] == '.';
      case HostPattern::Kind::Address:
        return false;
    }
    return false;
  });
}

EgressPolicy::Decision EgressPolicy::decide(std::string_view host, std::uint16_t port) const {
  if (auto address = parse_ip_literal(host)) {
    auto wanted = unmapped(*address);
    bool listed = std::any_of(patterns_.begin(), patterns_.end(), [&](const HostPattern& p) {
      return p.kind == HostPattern::Kind::Address && p.port == port &&
             unmapped(*p.address) == wanted;
    });
    if (listed || (any_public_host_ && !is_non_public_address(wanted))) return Decision::Allowed;
    return Decision::NotAllowed;
  }
  auto name = canonical_host_name(host);
  if (!name) return Decision::Malformed;
  if (any_public_host_) return Decision::Allowed;  // its addresses are checked once resolved
  return name_matches(*name, port, false) ? Decision::Allowed : Decision::NotAllowed;
}

bool EgressPolicy::allows_name(std::string_view name) const {
  auto canonical = canonical_host_name(name);
  return canonical && (any_public_host_ || name_matches(*canonical, 0, true));
}

bool EgressPolicy::permits_address(const ip::address& address, std::uint16_t port) const {
  if (!is_non_public_address(address)) return true;
  auto wanted = unmapped(address);
  return std::any_of(patterns_.begin(), patterns_.end(), [&](const HostPattern& p) {
    return p.kind == HostPattern::Kind::Address && p.port == port && unmapped(*p.address) == wanted;
  });
}

}  // namespace safeinstall::sandbox
