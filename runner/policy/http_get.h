#pragma once
// One HTTP(S) GET from the runner itself (outside the sandbox), for registry metadata: only
// to a host and port the run's egress policy allows, only to the addresses that policy
// permits once resolved (public ones, or those listed exactly), with certificate and host
// name checks for https, one deadline for the whole exchange and a cap on the body. Redirects
// (a registry's tarballs and documents moved to a CDN or mirror) are followed up to five times,
// each to a host the policy allows as well, never from https down to http.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/base/error.h"
#include "sandbox/egress/egress_policy.h"

namespace safeinstall::runner {

struct HttpGetLimits {
  std::chrono::milliseconds timeout{5000};         // each step: connect, handshake, send, receive
  std::chrono::milliseconds batch_timeout{30000};  // everything, name resolution included
  std::size_t max_body = 64 * 1024 * 1024;         // a popular npm packument runs to tens of MB
  std::size_t parallel = 8;                        // requests in flight at once
};

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets
  std::uint16_t port = 0;
  std::string target;  // "/path?query", at least "/"
};

// http:// and https:// URLs without user info; the error says what is wrong.
Result<Url> parse_url(std::string_view text);

// The body of a 200 answer, after redirects; any other status, a refused host, a timeout or a body
// past the cap is an error naming the URL.
Result<std::string> http_get(std::string_view url, const sandbox::EgressPolicy& allowed,
                             const HttpGetLimits& limits = {});

// The same for many URLs, `limits.parallel` at a time; one result per URL, in order.
std::vector<Result<std::string>> http_get_all(const std::vector<std::string>& urls,
                                              const sandbox::EgressPolicy& allowed,
                                              const HttpGetLimits& limits = {});

}  // namespace safeinstall::runner
