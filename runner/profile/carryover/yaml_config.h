#pragma once
// YAML configuration files — .yarnrc.yml, .gemrc, .bundle/config — rebuilt from the allowed
// settings only. Read line by line, as far as these files use YAML (block mappings, block
// sequences, one-line scalars): whatever does not have that shape — block scalars, flow
// collections, anchors, stray indentation — is dropped with the setting holding it, never
// passed through uninspected.

#include <string_view>

#include "runner/profile/carryover/sanitized_config.h"

namespace safeinstall::runner {

// `dialect` is one of YarnBerry, Gemrc, Bundler.
SanitizedConfig sanitize_yaml_config(std::string_view text, ConfigDialect dialect);

}  // namespace safeinstall::runner
