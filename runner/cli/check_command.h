#pragma once
// `safeinstall check`: can this host build the sandbox, and if not, what to change.

namespace safeinstall::runner {

// Prints one line per kernel feature; returns the exit code (0: the sandbox can be built).
int run_check(bool verbose);

}  // namespace safeinstall::runner
