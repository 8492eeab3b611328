#pragma once
// Process handles (pidfds): a handle names one process for good, where its pid may be
// recycled by another as soon as it is reaped. From Linux 6.15 a handle also keeps the
// process's exit status after its parent has reaped it, so an exit can be read at any later
// time instead of being caught as it happens.

#include <sys/types.h>

#include <optional>

#include "sandbox/base/fd.h"

namespace safeinstall::sandbox {

// A handle on process `pid` (a thread-group leader); empty when there is none.
UniqueFd open_pidfd(pid_t pid);

struct PidfdInfo {
  pid_t pid = 0;                   // in the reader's pid namespace; 0 once reaped
  pid_t ppid = 0;                  // likewise
  std::optional<int> wait_status;  // once it has exited, as waitpid(2) would give it
};

// What the kernel tells about the process of `pidfd`; nullopt when it tells nothing (a
// kernel before 6.13, or a process reaped on one that keeps no exit status).
std::optional<PidfdInfo> read_pidfd_info(int pidfd);

// Whether this kernel keeps exit statuses on pidfds (6.15 and later). Asked once, of a
// short-lived child made for the question.
bool pidfd_keeps_exit_status();

}  // namespace safeinstall::sandbox
