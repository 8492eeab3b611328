#pragma once
// Shell completion scripts for bash, zsh and fish, generated from the options and subcommands
// the command line parser defines (command_specs() in cli.h), so that they follow every new
// flag. Profile names are asked of the binary itself (`completions profile-names`), so that
// the user's and system profiles are offered too.

#include <string>
#include <vector>

#include "runner/cli/cli.h"

namespace safeinstall::runner {

std::string bash_completion(const std::vector<CommandSpec>& specs);
std::string zsh_completion(const std::vector<CommandSpec>& specs);
std::string fish_completion(const std::vector<CommandSpec>& specs);

// `safeinstall completions bash|zsh|fish|profile-names`; returns the exit code.
int completions_command(const std::string& kind);

}  // namespace safeinstall::runner
