#pragma once
// One configuration file made fit for the sandbox: read within bounds, and rebuilt from its
// allowed settings by the sanitizer of its dialect.

#include <filesystem>
#include <string_view>

#include "runner/profile/carryover/sanitized_config.h"

namespace safeinstall::runner {

SanitizedConfig sanitize_config(std::string_view text, ConfigDialect dialect);

// The file's sanitized text; a file larger than any configuration (1 MiB) or unreadable
// yields an empty one, and says so in `dropped`.
SanitizedConfig sanitize_config_file(const std::filesystem::path& file, ConfigDialect dialect);

}  // namespace safeinstall::runner
