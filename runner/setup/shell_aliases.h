#pragma once
// The aliases `safeinstall setup` puts in a shell's rc file: each covered tool's name runs its
// shim file, which sandboxes the tool's installs and runs everything else as it is.

#include <optional>
#include <string>
#include <vector>

#include "sandbox/base/error.h"

namespace safeinstall::runner {

enum class Shell { bash, zsh, fish };

const char* name_of(Shell shell);
std::optional<Shell> shell_named(const std::string& name);

// The shell $SHELL names (its base name: /usr/bin/zsh → zsh).
Result<Shell> shell_from(const std::string& shell_variable);

struct ShellPlaces {
  std::string home;
  std::string xdg_config_home;  // may be empty
  std::string zdotdir;          // may be empty
};

// ~/.bashrc, ${ZDOTDIR:-~}/.zshrc, ${XDG_CONFIG_HOME:-~/.config}/fish/conf.d/safeinstall.fish.
std::string rc_file_of(Shell shell, const ShellPlaces& places);

// Whether the rc file is safeinstall's own (fish's conf.d file), removed once empty.
bool rc_file_is_own(Shell shell);

// The block's lines: one alias (bash, zsh) or function (fish) per tool, calling
// `shim_dir/TOOL`.
std::string alias_block(Shell shell, const std::vector<std::string>& tools,
                        const std::string& shim_dir);

}  // namespace safeinstall::runner
