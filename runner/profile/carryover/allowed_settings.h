#pragma once
// The allow-lists: per configuration dialect, the settings carried into the sandbox and how
// each value is checked. Everything not named here is dropped — credentials, but also
// settings nobody has vouched for yet (personal data, paths into the hidden home).

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "runner/profile/carryover/sanitized_config.h"

namespace safeinstall::runner {

enum class ValueKind {
  Plain,        // kept as written, unless a URL in it carries credentials
  Url,          // one URL, its userinfo removed; refused when ambiguous
  UrlList,      // URLs (or local paths) separated by blanks, ',' or '|', each as Url
  HostList,     // host[:port] names separated by blanks or ','
  CaFile,       // a path to a CA bundle, which stays readable in the sandbox
  Certificate,  // inline PEM of certificates only (npm's `ca`)
  Block,        // a structured value kept whole (yarn's packageExtensions, cargo's [build])
};

// `key` is the setting's path: one element for flat files, the table/mapping path for TOML
// and YAML. A path that is only the prefix of allowed settings (cargo's "registries.corp")
// has no kind; `leads_to_allowed` says whether to look inside it.
std::optional<ValueKind> allowed_setting(ConfigDialect dialect, std::span<const std::string> key);
bool leads_to_allowed(ConfigDialect dialect, std::span<const std::string> key);

// pip.conf sections pip reads ([global] and its commands'); keys elsewhere are dropped.
bool is_pip_section(std::string_view name);

// Names as the dialect compares them: pip's are case-insensitive with '_' for '-'.
std::string normalized_key(ConfigDialect dialect, std::string_view key);

}  // namespace safeinstall::runner
