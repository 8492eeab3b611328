#pragma once
// Where safeinstall keeps the invoker's own things (run state, package caches, profiles), as
// the XDG base directory spec places them.

#include <optional>
#include <string>
#include <string_view>

#include "sandbox/base/error.h"

namespace safeinstall::runner {

// `xdg_value` (an XDG_*_HOME variable) when it is absolute, else `home`/`home_default` when
// `home` is absolute; nullopt when neither is. The spec says relative values are ignored.
std::optional<std::string> xdg_base_dir(const std::string& xdg_value, const std::string& home,
                                        std::string_view home_default);

struct UserDir {
  const char* override_variable;  // "SAFEINSTALL_STATE_DIR": taken as it is; must be absolute
  const char* xdg_variable;       // "XDG_STATE_HOME"
  std::string_view home_default;  // ".local/state": the spec's default below HOME
  std::string_view below;         // "safeinstall": where in the base dir it lives
  std::string_view what;          // "safeinstall's state": for the error when there is no place
};

// The directory from this process's environment: the override, else the XDG base dir's
// `below`; an error when the override is relative or there is no base dir.
Result<std::string> user_dir(const UserDir& dir);

}  // namespace safeinstall::runner
