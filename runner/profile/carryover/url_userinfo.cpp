#include "runner/profile/carryover/url_userinfo.h"

#include <cctype>

namespace safeinstall::runner {
namespace {

// scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), as in "sparse+https" and "git+ssh".
bool is_scheme(std::string_view s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s.front()))) return false;
  for (unsigned char c : s) {
    if (!std::isalnum(c) && c != '+' && c != '-' && c != '.') return false;
  }
  return true;
}

bool is_port(std::string_view s) {
  if (s.empty() || s.size() > 5) return false;
  for (unsigned char c : s) {
    if (!std::isdigit(c)) return false;
  }
  return true;
}

bool has_blank_or_control(std::string_view s) {
  for (unsigned char c : s) {
    if (c <= 0x20 || c == 0x7f) return true;
  }
  return false;
}

// Where a URL in free text ends.
bool ends_token(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == '|' || c == ';' ||
         c == '"' || c == '\'';
}

}  // namespace

// reg-name of unreserved characters (no percent-encoding: a host needs none), or an IP
// literal in brackets, optionally followed by a port.
bool is_host_and_port(std::string_view s) {
  std::string_view host = s;
  if (s.starts_with('[')) {
    auto close = s.find(']');
    if (close == std::string_view::npos) return false;
    for (unsigned char c : s.substr(1, close - 1)) {
      if (!std::isxdigit(c) && c != ':' && c != '.') return false;
    }
    auto rest = s.substr(close + 1);
    return rest.empty() || (rest.front() == ':' && is_port(rest.substr(1)));
  }
  if (auto colon = s.find(':'); colon != std::string_view::npos) {
    if (!is_port(s.substr(colon + 1))) return false;
    host = s.substr(0, colon);
  }
  if (host.empty()) return false;
  for (unsigned char c : host) {
    if (!std::isalnum(c) && c != '-' && c != '.' && c != '_' && c != '~') return false;
  }
  return true;
}

std::optional<std::string> url_without_userinfo(std::string_view text) {
  auto separator = text.find("://");
  if (separator == std::string_view::npos || has_blank_or_control(text)) return std::nullopt;
  auto scheme = text.substr(0, separator);
  if (!is_scheme(scheme)) return std::nullopt;
  auto rest = text.substr(separator + 3);
  auto authority_end = std::min(rest.find_first_of("/?#\\"), rest.size());
  auto authority = rest.substr(0, authority_end);
  auto after = rest.substr(authority_end);
  if (after.find_first_of("@?#") != std::string_view::npos) return std::nullopt;
  if (auto at = authority.rfind('@'); at != std::string_view::npos)
    authority = authority.substr(at + 1);
  // file:///path has an empty authority; any other URL names a host.
  if (!(authority.empty() && !after.empty()) && !is_host_and_port(authority)) return std::nullopt;
  return std::string(scheme) + "://" + std::string(authority) + std::string(after);
}

std::string text_without_url_userinfo(std::string_view text) {
  std::string out;
  std::size_t done = 0;
  for (auto at = text.find("://"); at != std::string_view::npos; at = text.find("://", at + 3)) {
    auto start = at;
    while (start > done && !ends_token(text[start - 1])) --start;
    auto end = at + 3;
    while (end < text.size() && !ends_token(text[end])) ++end;
    auto token = text.substr(start, end - start);
    auto clean = url_without_userinfo(token);
    if (!clean) {
      // Unparseable: nothing between "://" and the last '@' survives.
      auto last_at = token.rfind('@');
      std::string kept(token);
      if (last_at != std::string_view::npos && last_at > at - start)
        kept =
            std::string(token.substr(0, at - start + 3)) + std::string(token.substr(last_at + 1));
      clean = kept;
    }
    out += text.substr(done, start - done);
    out += *clean;
    done = end;
    at = end > 3 ? end - 3 : end;
  }
  out += text.substr(done);
  return out;
}

bool has_url_credentials(std::string_view text) {
  return text_without_url_userinfo(text) != text;
}

}  // namespace safeinstall::runner
