#pragma once
// `safeinstall setup [--shell bash|zsh|fish] [--remove]`: aliases in the shell's rc file;
// `safeinstall setup --ci DIR [--remove]`: PATH shims in DIR. Either way only the tools'
// installs run in the sandbox (see runner/shim/).

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace safeinstall::runner {

struct SetupRequest {
  std::string shell;   // bash | zsh | fish; empty: from $SHELL (with --remove: every shell)
  std::string ci_dir;  // --ci DIR
  bool remove = false;
};

struct CommandLine;
// Parses `setup ...` (`words` starts with "setup") into `cl`.
CommandLine parse_setup_subcommand(CommandLine cl, const std::vector<std::string>& words);
// The options of `setup`, for parsing and for the shell completions alike.
void define_setup_options(CLI::App& sub, SetupRequest& setup);

int setup_command(const SetupRequest& request);

}  // namespace safeinstall::runner
