#pragma once
// One value of an allowed setting, checked as its kind demands: what the sandbox may see of
// it, or nothing when the value itself could carry a secret.

#include <optional>
#include <string>
#include <string_view>

#include "runner/profile/carryover/allowed_settings.h"
#include "runner/profile/carryover/sanitized_config.h"

namespace safeinstall::runner {

// The value as it is written back (its quotes kept), or nullopt to drop the setting. A CaFile
// value is also recorded in out.ca_files. Block values are the caller's to walk.
std::optional<std::string> checked_value(ValueKind kind, std::string_view value,
                                         SanitizedConfig& out);

// One element of a list value (a line of a pip continuation, an item of a YAML sequence).
std::optional<std::string> checked_list_item(ValueKind kind, std::string_view item);

}  // namespace safeinstall::runner
