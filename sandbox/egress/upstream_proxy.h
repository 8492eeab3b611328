#pragma once
// The invoker's own proxy (corporate networks): read from HTTPS_PROXY / HTTP_PROXY /
// NO_PROXY of the environment safeinstall was started in, so the gateway can reach allowed
// hosts the way the invoker's own tools would.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/base/error.h"

namespace safeinstall::sandbox {

struct UpstreamProxy {
  std::string host;  // name or IP literal (without brackets)
  std::uint16_t port = 80;
  // "Basic dXNlcjpwYXNz" from the URL's user:password, empty without credentials.
  std::string authorization;

  // http://host:port, never the credentials: safe for messages and reports.
  std::string display() const;
};

// http://[user:password@]host[:port][/]; a URL without scheme is taken as http. TLS or SOCKS
// proxies are refused with a message that names the variable but not the credentials.
Result<UpstreamProxy> parse_upstream_proxy(std::string_view url, std::string_view variable);

struct UpstreamProxies {
  std::optional<UpstreamProxy> https;  // CONNECT tunnels and transparent TLS relays
  std::optional<UpstreamProxy> http;   // plain-HTTP requests
  std::vector<std::string> no_proxy;   // lowercase entries, as written

  // NO_PROXY semantics of curl: `*` matches everything; `example.org` and `.example.org`
  // match the domain and its subdomains; IP literals and CIDR ranges match addresses.
  bool bypasses(std::string_view host) const;
  const UpstreamProxy* for_tunnel(std::string_view host) const {
    return https && !bypasses(host) ? &*https : nullptr;
  }
  const UpstreamProxy* for_http(std::string_view host) const {
    return http && !bypasses(host) ? &*http : nullptr;
  }
  bool empty() const { return !https && !http; }

  // From NAME=VALUE entries: https_proxy, HTTPS_PROXY, http_proxy, HTTP_PROXY, falling back
  // to all_proxy / ALL_PROXY, lowercase first; no_proxy / NO_PROXY. Empty values are unset.
  static Result<UpstreamProxies> from_environment(const std::vector<std::string>& env);
};

}  // namespace safeinstall::sandbox
