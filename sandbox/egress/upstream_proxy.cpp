#include "sandbox/egress/upstream_proxy.h"

#include <algorithm>
#include <charconv>

#include "sandbox/base/env_vars.h"
#include "sandbox/egress/egress_policy.h"

namespace safeinstall::sandbox {
namespace {

namespace ip = boost::asio::ip;

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return out;
}

std::string base64(std::string_view data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(data[i]) << 16) |
                 (static_cast<unsigned char>(data[i + 1]) << 8) |
                 static_cast<unsigned char>(data[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < data.size()) {
    unsigned v = static_cast<unsigned char>(data[i]) << 16;
    if (i + 1 < data.size()) v |= static_cast<unsigned char>(data[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < data.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    int high = hex_value(text[i + 1]);
    int low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

std::optional<std::string> find_variable(const std::vector<std::string>& env,
                                         std::initializer_list<std::string_view> names) {
  for (auto name : names) {
    if (std::string value = env_value(env, name); !value.empty()) return value;
  }
  return std::nullopt;
}

bool address_in_range(const ip::address& address, std::string_view range) {
  auto slash = range.find('/');
  auto network = parse_ip_literal(range.substr(0, slash));
  if (!network || network->is_v4() != address.is_v4()) return false;
  if (slash == std::string_view::npos) return *network == address;
  unsigned prefix = 0;
  auto bits = range.substr(slash + 1);
  auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
  unsigned max_prefix = address.is_v4() ? 32 : 128;
  if (ec != std::errc{} || end != bits.data() + bits.size() || prefix > max_prefix) return false;
  std::vector<unsigned char> a, n;
  if (address.is_v4()) {
    auto ab = address.to_v4().to_bytes(), nb = network->to_v4().to_bytes();
    a.assign(ab.begin(), ab.end());
    n.assign(nb.begin(), nb.end());
  } else {
    auto ab = address.to_v6().to_bytes(), nb = network->to_v6().to_bytes();
    a.assign(ab.begin(), ab.end());
    n.assign(nb.begin(), nb.end());
  }
  for (unsigned bit = 0; bit < prefix; ++bit) {
    unsigned mask = 0x80u >> (bit % 8);
    if ((a[bit / 8] & mask) != (n[bit / 8] & mask)) return false;
  }
  return true;
}

bool no_proxy_entry_matches(std::string_view entry, std::string_view host) {
  if (entry == "*") return true;
  if (auto address = parse_ip_literal(host)) return address_in_range(*address, entry);
  if (entry.starts_with("*.")) entry.remove_prefix(2);
  if (entry.starts_with('.')) entry.remove_prefix(1);
  if (auto colon = entry.rfind(':'); colon != std::string_view::npos)
    entry = entry.substr(0, colon);
  if (entry.empty()) return false;
  return host == entry || (host.size() > entry.size() && host.ends_with(entry) &&
                           host[host.size() - entry.size() - 1] == '.');
}

}  // namespace

std::string UpstreamProxy::display() const {
  bool v6 = host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<UpstreamProxy> parse_upstream_proxy(std::string_view url, std::string_view variable) {
  std::string_view rest = url;
  auto fail = [&](std::string_view problem) {
    return plain_error(std::string(variable) + ": " + std::string(problem),
                       "set it to http://[user:password@]host:port, or unset it");
  };
  if (auto scheme_end = rest.find("://"); scheme_end != std::string_view::npos) {
    std::string scheme = lowercase(rest.substr(0, scheme_end));
    if (scheme != "http") {
      return fail("only http:// proxies are supported, not " + scheme + "://");
    }
    rest.remove_prefix(scheme_end + 3);
  }
  rest = rest.substr(0, rest.find_first_of("/?#"));
  UpstreamProxy proxy;
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    auto userinfo = percent_decode(rest.substr(0, at));
    if (!userinfo) return fail("the user or password has a bad %-escape");
    proxy.authorization = "Basic " + base64(*userinfo);
    rest.remove_prefix(at + 1);
  }
  std::string_view host = rest;
  std::string_view port_text;
  if (rest.starts_with('[')) {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return fail("`[` without `]` in the host");
    host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return fail("expected `:port` after `]`");
      port_text = rest.substr(close + 2);
    }
  } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port_text = rest.substr(colon + 1);
  }
  if (!port_text.empty()) {
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return fail("the port must be a number from 1 to 65535");
    }
    proxy.port = static_cast<std::uint16_t>(port);
  }
  if (auto address = parse_ip_literal(host)) {
    proxy.host = address->to_string();
  } else if (auto name = canonical_host_name(host)) {
    proxy.host = *name;
  } else {
    return fail("the proxy host is not a valid host name or address");
  }
  return proxy;
}

bool UpstreamProxies::bypasses(std::string_view host) const {
  std::string wanted = lowercase(host);
  if (wanted.size() >= 2 && wanted.front() == '[' && wanted.back() == ']') {
    wanted = wanted.substr(1, wanted.size() - 2);
  }
  return std::any_of(no_proxy.begin(), no_proxy.end(), [&](const std::string& entry) {
    return no_proxy_entry_matches(entry, wanted);
  });
}

Result<UpstreamProxies> UpstreamProxies::from_environment(const std::vector<std::string>& env) {
  UpstreamProxies proxies;
  struct Choice {
    std::optional<UpstreamProxy>* slot;
    std::initializer_list<std::string_view> names;
  };
  const Choice choices[] = {
      {&proxies.https, {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"}},
      {&proxies.http, {"http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"}},
  };
  for (const auto& choice : choices) {
    for (auto name : choice.names) {
      auto value = find_variable(env, {name});
      if (!value) continue;
      auto proxy = parse_upstream_proxy(*value, name);
      if (!proxy) return propagate(proxy);
      *choice.slot = std::move(*proxy);
      break;
    }
  }
  if (auto value = find_variable(env, {"no_proxy", "NO_PROXY"})) {
    std::string_view list = *value;
    while (!list.empty()) {
      auto comma = list.find(',');
      std::string_view entry = list.substr(0, comma);
      list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
      while (!entry.empty() && (entry.front() == ' ' || entry.front() == '\t'))
        entry.remove_prefix(1);
      while (!entry.empty() && (entry.back() == ' ' || entry.back() == '\t'))
        entry.remove_suffix(1);
      if (!entry.empty()) proxies.no_proxy.push_back(lowercase(entry));
    }
  }
  return proxies;
}

}  // namespace safeinstall::sandbox
