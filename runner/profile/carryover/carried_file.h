#pragma once
// One configuration file carried into the sandbox: as a sanitized read-only copy, or as it
// is when the invoker named it with --credentials.

#include <filesystem>
#include <string>
#include <vector>

#include "runner/profile/tool_config_carryover.h"

namespace safeinstall::runner {

// Adds the mount for `file` at `target` to `out`, with its receipt note and report entry
// (`shown` is how both name it). Returns the CA files the kept settings name.
std::vector<std::string> carry_file(Carryover& out, const std::filesystem::path& file,
                                    const std::string& target, const std::string& shown,
                                    ConfigDialect dialect,
                                    const std::vector<std::filesystem::path>& credentials);

}  // namespace safeinstall::runner
