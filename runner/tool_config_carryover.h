#pragma once
// The invoker's own tool configuration in the throwaway home, minus secrets: registries,
// mirrors, strict-ssl and CA settings of ~/.npmrc, ~/.yarnrc.yml, pip.conf, ~/.gemrc, bundler
// and cargo configuration survive; `_auth`, `_authToken`, `//host/:_password`, tokens,
// passwords, bundler host credentials and user:password@ in URLs do not, unless the user
// names the file with --credentials. CA files the configuration names stay readable.

#include <filesystem>
#include <string>
#include <vector>

#include "sandbox/spec.h"

namespace safeinstall::runner {

enum class ConfigSyntax { Ini, Yaml, Toml, Bundler };

// Home-relative configuration files carried over, with how to read them.
struct CarriedConfig {
  const char* path;
  ConfigSyntax syntax;
};
inline constexpr CarriedConfig kCarriedConfigs[] = {
    {".npmrc", ConfigSyntax::Ini},
    {".yarnrc", ConfigSyntax::Ini},
    {".yarnrc.yml", ConfigSyntax::Yaml},
    {".config/pip/pip.conf", ConfigSyntax::Ini},
    {".pip/pip.conf", ConfigSyntax::Ini},
    {".gemrc", ConfigSyntax::Yaml},
    {".bundle/config", ConfigSyntax::Bundler},
    {".cargo/config.toml", ConfigSyntax::Toml},
    {".cargo/config", ConfigSyntax::Toml},
};

struct StrippedConfig {
  std::string text;
  std::vector<std::string> removed;   // the keys removed, never their values
  std::vector<std::string> ca_files;  // CA files the configuration names (as written)
};

// The configuration without its secrets; removed lines become a comment saying so.
StrippedConfig strip_secrets(const std::string& text, ConfigSyntax syntax);

struct Carryover {
  std::vector<sandbox::MountSpec> mounts;  // FileContent copies, read-only CA binds
  std::vector<std::string> notes;          // "~/.npmrc: 2 secret settings removed"
};

// For each configuration file in `real_home`: a read-only copy without secrets at the same
// place in `sandbox_home`, or the file itself (read-only) when `credentials` names it.
Carryover carry_over_tool_config(const std::filesystem::path& real_home,
                                 const std::filesystem::path& sandbox_home,
                                 const std::vector<std::filesystem::path>& credentials);

}  // namespace safeinstall::runner
