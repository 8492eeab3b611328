#pragma once
// What the sandbox's pid 1 sheds of the supervisor it was cloned from, so that nothing the
// command can reach from inside (/proc/1/environ, /proc/1/fd, /proc/1/mem) gives it the
// invoker's environment, open files or memory.

#include <span>

#include "sandbox/base/error.h"

namespace safeinstall::sandbox {

// Closes every descriptor except stdin, stdout, stderr and `keep`: a clone without exec
// inherits all of the supervisor's, close-on-exec or not (the project lock, a file the
// invoker's shell left open).
Result<> close_inherited_fds(std::span<const int> keep);

// Empties the environment and zeroes the block the kernel shows as /proc/1/environ, which
// still holds the invoker's variables (tokens included) after clearenv().
void erase_inherited_environment();

// PR_SET_DUMPABLE 0: /proc/1/{environ,fd,mem,syscall,...}, ptrace and process_vm_* then need
// CAP_SYS_PTRACE in the namespace that owns this memory (the host's), which nothing inside
// has. The command's exec gets a dumpable address space of its own.
Result<> make_undumpable();

}  // namespace safeinstall::sandbox
