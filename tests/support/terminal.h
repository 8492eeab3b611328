#pragma once
// Runs a command on a pseudo-terminal of its own, the way a person at a shell would, and
// answers its questions: each time the output shows an expected prompt, the reply is typed.
// For what only happens on a terminal (safeinstall asks before promoting a held run).

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/run.h"

namespace safeinstall::test {

struct TerminalExchange {
  std::string prompt;  // typed after the output (since the previous reply) contains this
  std::string reply;   // e.g. "y\n"
};

struct TerminalOptions {
  std::vector<std::string> env;  // the whole environment, NAME=VALUE
  std::optional<uid_t> as_user;  // via setpriv; needs root. The terminal is given to the user.
  std::string cwd;
  std::vector<TerminalExchange> exchanges;
  std::chrono::milliseconds timeout{60000};
};

// `out` holds everything written to the terminal (stdout and stderr together, with the
// terminal's \r\n line ends). Throws std::runtime_error when no terminal can be made.
RunResult run_on_terminal(const std::vector<std::string>& argv, const TerminalOptions& options);

}  // namespace safeinstall::test
