#pragma once
// Tool configuration the command reads, without secrets. The invoker's own files (~/.npmrc,
// pip.conf, ~/.cargo/config.toml…) reach the throwaway home as read-only copies, and the
// project's own files (.npmrc, .cargo/config.toml…), which the command would read through the
// project overlay, are covered by such copies. A copy holds only the settings on its dialect's
// allow-list (runner/profile/carryover/allowed_settings.cpp), with URLs stripped of user:password@;
// comments, unknown keys, multi-line values and anything unparseable are dropped. A file
// named with --credentials passes as it is. CA files the invoker's configuration names stay
// readable.

#include <filesystem>
#include <string>
#include <vector>

#include "runner/profile/carryover/sanitized_config.h"
#include "sandbox/base/spec.h"

namespace safeinstall::runner {

// A configuration file carried over (home- or project-relative), with its dialect.
struct CarriedConfig {
  const char* path;
  ConfigDialect dialect;
};

inline constexpr CarriedConfig kHomeConfigs[] = {
    {".npmrc", ConfigDialect::Npmrc},           {".yarnrc", ConfigDialect::YarnClassic},
    {".yarnrc.yml", ConfigDialect::YarnBerry},  {".config/pip/pip.conf", ConfigDialect::Pip},
    {".pip/pip.conf", ConfigDialect::Pip},      {".gemrc", ConfigDialect::Gemrc},
    {".bundle/config", ConfigDialect::Bundler}, {".cargo/config.toml", ConfigDialect::Cargo},
    {".cargo/config", ConfigDialect::Cargo},    {".config/go/env", ConfigDialect::GoEnv},
};

// Where tools look for configuration inside a project. composer's auth.json only counts
// beside a composer.json.
inline constexpr CarriedConfig kProjectConfigs[] = {
    {".npmrc", ConfigDialect::Npmrc},
    {".yarnrc", ConfigDialect::YarnClassic},
    {".yarnrc.yml", ConfigDialect::YarnBerry},
    {"pip.conf", ConfigDialect::Pip},
    {".venv/pip.conf", ConfigDialect::Pip},
    {".bundle/config", ConfigDialect::Bundler},
    {".cargo/config.toml", ConfigDialect::Cargo},
    {".cargo/config", ConfigDialect::Cargo},
    {"auth.json", ConfigDialect::ComposerAuth},
};

struct Carryover {
  std::vector<sandbox::MountSpec> mounts;  // FileContent copies, read-only binds
  std::vector<std::string> notes;          // "~/.npmrc: withheld _authToken, email"
  std::vector<WithheldSettings> withheld;  // for the report: names only
};

// For each configuration file in `real_home`: a read-only copy without secrets at the same
// place in `sandbox_home`, or the file itself (read-only) when `credentials` names it.
Carryover carry_over_tool_config(const std::filesystem::path& real_home,
                                 const std::filesystem::path& sandbox_home,
                                 const std::vector<std::filesystem::path>& credentials);

// For each configuration file in the (canonical) project: a sanitized copy mounted over it.
// The real file is untouched, and the copy is a mount, never a write the overlay stages.
Carryover cover_project_configs(const std::filesystem::path& project,
                                const std::vector<std::filesystem::path>& credentials);

}  // namespace safeinstall::runner
