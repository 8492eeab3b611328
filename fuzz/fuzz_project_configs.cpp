// What a cloned project brings along and safeinstall reads before anything runs: its
// .safeinstall.toml (and a profile file's layer) and the tool configurations carried into the
// sandbox (.npmrc, .yarnrc, .yarnrc.yml, pip.conf, .gemrc, .bundle/config, cargo's
// config.toml, go env, composer's auth.json). The first byte picks the reader; the rest is the
// file.
//
// A layer parses or fails with file:line:col. A sanitized configuration is a fixed point:
// sanitizing the kept text again drops nothing, so no setting survives the filter by reading
// differently the second time. A shim's target is a plain path, never shell or PHP syntax.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "runner/judge/bin_shims.h"
#include "runner/profile/carryover/sanitize_config.h"
#include "runner/profile/profile_schema.h"

using namespace safeinstall::runner;

namespace {

constexpr ConfigDialect kDialects[] = {
    ConfigDialect::Npmrc, ConfigDialect::YarnClassic, ConfigDialect::YarnBerry,
    ConfigDialect::Pip,   ConfigDialect::Gemrc,       ConfigDialect::Bundler,
    ConfigDialect::Cargo, ConfigDialect::GoEnv,       ConfigDialect::ComposerAuth};
constexpr std::size_t kDialectCount = sizeof kDialects / sizeof kDialects[0];
constexpr std::size_t kChoices = kDialectCount + 4;

void check_config(std::string_view text, ConfigDialect dialect) {
  auto once = sanitize_config(text, dialect);
  auto twice = sanitize_config(once.text, dialect);
  if (!twice.dropped.empty()) __builtin_trap();
}

void check_layer(std::string_view text, LayerKind kind) {
  auto layer = parse_profile_layer(text, "fuzz.toml", kind);
  if (!layer && layer.error().message().find("fuzz.toml") == std::string::npos) __builtin_trap();
}

void check_shim_target(const std::optional<std::string>& target) {
  if (!target) return;
  if (target->empty() || target->find_first_of("$`\"'\\ \n;|&<>(){}") != std::string::npos)
    __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::size_t choice = data[0] % kChoices;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (choice < kDialectCount)
    check_config(text, kDialects[choice]);
  else if (choice == kDialectCount)
    check_layer(text, LayerKind::Profile);
  else if (choice == kDialectCount + 1)
    check_layer(text, LayerKind::Project);
  else if (choice == kDialectCount + 2)
    check_shim_target(pnpm_shim_target(text));
  else
    check_shim_target(composer_proxy_target(text));
  return 0;
}
