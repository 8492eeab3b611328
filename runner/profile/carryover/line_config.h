#pragma once
// Line-based configuration files — .npmrc, .yarnrc, pip.conf, go's env file — rebuilt from
// the allowed settings only. Comments go, so do unknown keys and sections, lines too long to
// be a setting, values spanning lines (pip continuations, an unclosed quote's PEM body) unless
// the setting is a list of URLs or hosts whose every line passes.

#include <string_view>

#include "runner/profile/carryover/sanitized_config.h"

namespace safeinstall::runner {

// `dialect` is one of Npmrc, YarnClassic, Pip, GoEnv.
SanitizedConfig sanitize_line_config(std::string_view text, ConfigDialect dialect);

}  // namespace safeinstall::runner
