#include "runner/profile/carryover/sanitize_config.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "runner/profile/carryover/line_config.h"
#include "runner/profile/carryover/toml_config.h"
#include "runner/profile/carryover/yaml_config.h"

namespace safeinstall::runner {
namespace {

namespace fs = std::filesystem;

constexpr std::uintmax_t kMaxConfigBytes = 1 << 20;

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
  std::error_code ec;
  auto size = fs::file_size(file, ec);
  std::ifstream in(file, std::ios::binary);
  if (ec || size > kMaxConfigBytes || !in) {
    SanitizedConfig out;
    out.text = dialect == ConfigDialect::ComposerAuth ? "{}\n" : "";
    out.dropped.push_back(ec || !in ? "(an unreadable file)" : "(a file too large to read)");
    return out;
  }
  std::stringstream text;
  text << in.rdbuf();
  return sanitize_config(text.str(), dialect);
}

}  // namespace safeinstall::runner
