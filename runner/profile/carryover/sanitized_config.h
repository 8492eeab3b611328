#pragma once
// What sanitizing one tool configuration file gives: the text the sandbox sees, and what was
// held back from it, by name only.

#include <string>
#include <string_view>
#include <vector>

namespace safeinstall::runner {

// The configuration dialects carried into the sandbox, each with its own allow-list.
enum class ConfigDialect {
  Npmrc,        // .npmrc (npm, pnpm, yarn classic, bun)
  YarnClassic,  // .yarnrc
  YarnBerry,    // .yarnrc.yml
  Pip,          // pip.conf
  Gemrc,        // .gemrc
  Bundler,      // .bundle/config
  Cargo,        // .cargo/config.toml
  GoEnv,        // go env -w's file
  ComposerAuth  // composer's auth.json: nothing in it is harmless
};

struct SanitizedConfig {
  std::string text;
  std::vector<std::string> dropped;   // setting names, never values; each once
  std::vector<std::string> ca_files;  // CA files the kept settings name (as written)
};

// One file's withheld settings, for the report.
struct WithheldSettings {
  std::string file;  // "~/.npmrc", ".npmrc" (in the project)
  std::vector<std::string> keys;
};

// Records a dropped setting under its name when the name reads as one, otherwise under a
// placeholder: a line that is not a setting may be part of a secret (a PEM body, a bare token).
void note_dropped(SanitizedConfig& out, std::string_view key);

}  // namespace safeinstall::runner
