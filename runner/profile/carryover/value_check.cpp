#include "runner/profile/carryover/value_check.h"

#include "runner/profile/carryover/config_text.h"
#include "runner/profile/carryover/url_userinfo.h"

namespace safeinstall::runner {
namespace {

std::string quoted(std::string_view text, char quote) {
  if (quote == '\0') return std::string(text);
  return quote + std::string(text) + quote;
}

// URLs, or local paths and keywords ("direct", "off") where the list allows them.
std::optional<std::string> checked_url_token(std::string_view token) {
  if (token.find("://") == std::string_view::npos) {
    if (token.find('@') != std::string_view::npos) return std::nullopt;
    return std::string(token);
  }
  return url_without_userinfo(token);
}

// Each token between separators checked on its own; the separators kept as written.
std::optional<std::string> checked_tokens(std::string_view list, std::string_view separators,
                                          ValueKind kind) {
  std::string out;
  while (!list.empty()) {
    auto end = std::min(list.find_first_of(separators), list.size());
    auto token = list.substr(0, end);
    if (!token.empty()) {
      auto checked =
          kind == ValueKind::HostList
              ? (is_host_and_port(token) ? std::optional(std::string(token)) : std::nullopt)
              : checked_url_token(token);
      if (!checked) return std::nullopt;
      out += *checked;
    }
    out += list.substr(end, end < list.size() ? 1 : 0);
    list.remove_prefix(std::min(end + 1, list.size()));
  }
  return out;
}

bool holds_only_certificates(std::string_view pem) {
  return pem.find("BEGIN CERTIFICATE") != std::string_view::npos &&
         pem.find("PRIVATE") == std::string_view::npos &&
         pem.find("KEY-----") == std::string_view::npos;
}

}  // namespace

std::optional<std::string> checked_list_item(ValueKind kind, std::string_view item) {
  if (has_control_bytes(item)) return std::nullopt;
  char quote = '\0';
  auto bare = unquoted(trim_blanks(item), &quote);
  auto checked = checked_tokens(bare, kind == ValueKind::HostList ? " \t," : " \t,|", kind);
  if (!checked) return std::nullopt;
  return quoted(*checked, quote);
}

std::optional<std::string> checked_value(ValueKind kind, std::string_view value,
                                         SanitizedConfig& out) {
  if (has_control_bytes(value) || opens_unclosed_quote(value)) return std::nullopt;
  char quote = '\0';
  auto bare = unquoted(value, &quote);
  switch (kind) {
    case ValueKind::Plain:
    case ValueKind::Block:
      if (has_url_credentials(value)) return std::nullopt;
      return std::string(value);
    case ValueKind::Url: {
      auto url = url_without_userinfo(bare);
      if (!url) return std::nullopt;
      return quoted(*url, quote);
    }
    case ValueKind::UrlList:
    case ValueKind::HostList:
      return checked_list_item(kind, value);
    case ValueKind::CaFile:
      if (bare.empty() || bare.find("://") != std::string_view::npos) return std::nullopt;
      out.ca_files.emplace_back(bare);
      return std::string(value);
    case ValueKind::Certificate:
      if (!holds_only_certificates(bare)) return std::nullopt;
      return std::string(value);
  }
  return std::nullopt;
}

}  // namespace safeinstall::runner
