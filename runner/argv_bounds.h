#pragma once
// How much of a process's argv a run keeps. argv comes from inside the sandbox, and a hostile
// command can exec thousands of times with megabytes of arguments: what is recorded, redacted
// and reported for each process stays within these bounds, and a cut is recorded (the
// report's `argv_truncated`) so that a reader knows the list is not whole.
//
// The supervisor reads at most 256 arguments of 4 KiB from the caller's memory; the bounds
// here are below both, so an argv that reading already cut is always cut (and flagged) here.

#include <cstddef>
#include <string>
#include <vector>

namespace safeinstall::runner {

struct ArgvBounds {
  std::size_t max_args = 128;
  std::size_t max_arg_bytes = 2048;
  std::size_t max_total_bytes = 16 * 1024;
};

// Cuts `argv` to `bounds` (arguments past the count or the total dropped, long ones cut);
// returns true when anything was cut.
bool bound_argv(std::vector<std::string>& argv, const ArgvBounds& bounds = {});

}  // namespace safeinstall::runner
