#pragma once
// URLs without their user:password@. The URL is parsed as RFC 3986 reads it: the authority
// ends at the first '/', '?' or '#' (and '\', which WHATWG parsers such as npm's treat as
// '/'), and the userinfo ends at the last '@' inside the authority. A password holding '/',
// '?', '#' or '@' unescaped makes the URL ambiguous — tools disagree on where the host is —
// so such a URL is refused whole instead of guessed at.

#include <optional>
#include <string>
#include <string_view>

namespace safeinstall::runner {

// "https://u:p@host:8443/simple" → "https://host:8443/simple". nullopt when `text` is no
// URL with a well-formed host, or when anything after the authority holds an '@', '?' or '#'
// (where a password with '/' would leave its tail, and where tokens ride in queries).
std::optional<std::string> url_without_userinfo(std::string_view text);

// Free text (an environment variable's value, a list of URLs) with every URL's userinfo
// removed; a URL that does not parse loses everything from "://" to its last '@'.
std::string text_without_url_userinfo(std::string_view text);

// host, host:port, [v6]:port — nothing a credential could hide in.
bool is_host_and_port(std::string_view text);

// The text holds a URL with userinfo, or one that does not parse: a value that must not pass
// unexamined.
bool has_url_credentials(std::string_view text);

}  // namespace safeinstall::runner
