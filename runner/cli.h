#pragma once
// The command line: `safeinstall [options] [--] COMMAND [ARGS...]` and `safeinstall check`.

#include <string>

#include "runner/options.h"

namespace safeinstall::runner {

struct CommandLine {
  enum class Action { Run, Check, Exit };
  Action action = Action::Run;
  Options options;
  int exit_code = 0;    // for Exit
  std::string output;   // for Exit: help, version or an error, already formatted
  bool output_is_error = false;
};

CommandLine parse_command_line(int argc, const char* const* argv);

}  // namespace safeinstall::runner
