#include "runner/fs/user_dirs.h"

#include "sandbox/base/env_vars.h"

namespace safeinstall::runner {

std::optional<std::string> xdg_base_dir(const std::string& xdg_value, const std::string& home,
                                        std::string_view home_default) {
  if (xdg_value.starts_with('/')) return xdg_value;
  if (home.starts_with('/')) return home + "/" + std::string(home_default);
  return std::nullopt;
}

Result<std::string> user_dir(const UserDir& dir) {
  if (auto chosen = getenv_string(dir.override_variable); !chosen.empty()) {
    if (chosen.front() != '/')
      return plain_error(std::string(dir.override_variable) + "=" + chosen +
                         " is not an absolute path");
    return chosen;
  }
  auto base =
      xdg_base_dir(getenv_string(dir.xdg_variable), getenv_string("HOME"), dir.home_default);
  if (!base)
    return plain_error("no place for " + std::string(dir.what) + ": HOME is not set",
                       "set " + std::string(dir.override_variable) + " to a directory of your own");
  return *base + "/" + std::string(dir.below);
}

}  // namespace safeinstall::runner
