#pragma once
// The seccomp filter: refuses the syscalls that let sandboxed code escape, spy on others or
// reach the kernel's rarely-hardened corners. Loaded last, just before the command runs.
//
// The rules are written with libseccomp (seccomp_rules.cpp). Generating the BPF program costs
// about a millisecond per run, so it is compiled once at build time (tools/seccomp_gen) and
// the sandbox loads the precompiled program.

#include <linux/filter.h>

#include <string>
#include <vector>

#include "sandbox/base/error.h"
#include "sandbox/base/fd.h"

namespace safeinstall::sandbox {

// Enforce: refused calls fail with EPERM in the kernel, everything else runs.
// Record: refused calls, execs, connects and addressed sends are notified to the supervisor
// through a seccomp user-notification listener; it records them, answers EPERM for the
// refused ones and lets the rest continue.
// RecordWrites: Record, and the calls that write by path too (path_write_syscalls()), which
// the supervisor records when they aim at a read-only place and always lets continue: the
// mount refuses them.
enum class FilterMode { Enforce, Record, RecordWrites };

// The calls RecordWrites notifies: open, openat and creat only with a flag that writes
// (O_WRONLY, O_RDWR, O_CREAT, O_TRUNC), openat2 always (its flags are in memory), and every
// call that creates, removes, renames, links or changes a file by path.
const std::vector<std::string>& path_write_syscalls();

// The names the filter refuses with EPERM for every architecture this kernel can run
// (native, x32, ia32). Exposed for tests and the documentation.
const std::vector<std::string>& refused_syscalls();

// Builds the filter with libseccomp and returns its BPF program (build time, and tests).
Result<std::vector<sock_filter>> compile_seccomp_program(FilterMode mode = FilterMode::Enforce);

// The program compiled into this binary.
std::vector<sock_filter> precompiled_seccomp_program(FilterMode mode = FilterMode::Enforce);

// Loads the precompiled program into the calling process (needs no_new_privs first). In
// Record mode, returns the notification listener; in Enforce mode an empty fd.
Result<UniqueFd> install_seccomp_filter(FilterMode mode = FilterMode::Enforce);

}  // namespace safeinstall::sandbox
