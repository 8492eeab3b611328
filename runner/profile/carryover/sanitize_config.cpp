#include "runner/profile/carryover/sanitize_config.h"

#include <nlohmann/json.hpp>

#include "runner/fs/fs_tree.h"
#include "runner/profile/carryover/config_text.h"
#include "runner/profile/carryover/line_config.h"
#include "runner/profile/carryover/toml_config.h"
#include "runner/profile/carryover/yaml_config.h"

namespace safeinstall::runner {
namespace {

namespace fs = std::filesystem;

// composer's auth.json holds nothing but credentials: the sandbox sees an empty object, the
// report the kinds that were there (http-basic, github-oauth, bearer…).
SanitizedConfig sanitize_composer_auth(std::string_view text) {
  SanitizedConfig out;
  out.text = "{}\n";
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  if (!parsed.is_object()) {
    if (!text.empty()) note_dropped(out, "");
    return out;
  }
  for (const auto& [key, value] : parsed.items()) note_dropped(out, key);
  return out;
}

}  // namespace

SanitizedConfig sanitize_config(std::string_view text, ConfigDialect dialect) {
  switch (dialect) {
    case ConfigDialect::Npmrc:
    case ConfigDialect::YarnClassic:
    case ConfigDialect::Pip:
    case ConfigDialect::GoEnv:
      return sanitize_line_config(text, dialect);
    case ConfigDialect::YarnBerry:
    case ConfigDialect::Gemrc:
    case ConfigDialect::Bundler:
      return sanitize_yaml_config(text, dialect);
    case ConfigDialect::Cargo:
      return sanitize_toml_config(text, dialect);
    case ConfigDialect::ComposerAuth:
      return sanitize_composer_auth(text);
  }
  return {};
}

SanitizedConfig sanitize_config_file(const fs::path& file, ConfigDialect dialect) {
  auto text = read_small_file(file.string(), kMaxConfigFileBytes, Links::followed);
  if (!text || !*text) {
    SanitizedConfig out;
    out.text = dialect == ConfigDialect::ComposerAuth ? "{}\n" : "";
    std::error_code ec;
    bool too_large = fs::file_size(file, ec) > kMaxConfigFileBytes && !ec;
    out.dropped.push_back(too_large ? "(a file too large to read)" : "(an unreadable file)");
    return out;
  }
  return sanitize_config(**text, dialect);
}

}  // namespace safeinstall::runner
