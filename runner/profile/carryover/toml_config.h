#pragma once
// cargo's config.toml rebuilt from the allowed settings only: parsed with TOML++, walked
// table by table, and written out again, so nothing of the original text — comments,
// multi-line strings, keys nobody vouched for — reaches the sandbox.

#include <string_view>

#include "runner/profile/carryover/sanitized_config.h"

namespace safeinstall::runner {

SanitizedConfig sanitize_toml_config(std::string_view text, ConfigDialect dialect);

}  // namespace safeinstall::runner
