#pragma once
// Starts the sandbox's command from pid 1: a vfork-style clone (no copy of pid 1's page
// tables) whose child sets the command's own limits, session, signals and directory, then
// execs. The per-process limits (--memory as RLIMIT_DATA, --cpu-time as RLIMIT_CPU) bind the
// command and everything it starts from its first instruction, but not pid 1, which must keep
// allocating to reap and report.

#include <sys/types.h>

#include <span>

#include "sandbox/base/spec.h"

namespace safeinstall::sandbox {

// Returns 0 and the command's pid, or the errno of the step that failed (chdir, a limit, the
// exec), in which case no process is left behind. `reset_signals` get their default action
// in the command.
int spawn_command(const Spec& spec, std::span<const int> reset_signals, pid_t& pid);

}  // namespace safeinstall::sandbox
