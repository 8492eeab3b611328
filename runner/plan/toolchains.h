#pragma once
// Toolchains installed under the invoker's home (pyenv, rustup, nvm…) stay usable even though
// the real home is hidden: the directories they need are made visible read-only.

#include <string>
#include <vector>

#include "runner/profile/base_profile.h"

namespace safeinstall::runner {

struct VisiblePath {
  std::string path;    // absolute path inside the sandbox (same as on the host)
  std::string source;  // host path it is bound from (resolved)
  std::string reason;  // "rust toolchain", "the command itself"
};

// Looks up `command` in `path_variable` the way execvp does, on the host; empty when absent.
std::string resolve_command(const std::string& command, const std::string& path_variable);

// The toolchain directories under `home` that the PATH or the resolved command point into,
// plus the command itself when it lives under home outside any known toolchain.
std::vector<VisiblePath> toolchain_paths(const std::string& home, const std::string& path_variable,
                                         const std::string& resolved_command,
                                         const std::vector<ToolchainGroup>& groups);

}  // namespace safeinstall::runner
