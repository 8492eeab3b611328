#pragma once
// Paths a process in the sandbox names, as the sandbox sees them: made absolute against its
// working directory or a directory fd, and resolved inside its own root (its mount
// namespace), symlinks included. Read from /proc while the process waits in a notification,
// so racy: for records and second lines of defence, never the only gate.

#include <sys/stat.h>
#include <sys/types.h>

#include <optional>
#include <string>

namespace safeinstall::runner {

// `path` made absolute, lexically, against the process's cwd (dirfd AT_FDCWD) or the
// directory its fd `dirfd` names; empty when neither can be read.
std::string absolute_in_process(pid_t pid, int dirfd, const std::string& path);

// The existing file at absolute `path`, resolved inside the process's root, named as the
// sandbox sees it; its stat in `st` when given. nullopt when nothing is there.
std::optional<std::string> resolve_in_sandbox(pid_t pid, const std::string& path,
                                              struct stat* st = nullptr);

}  // namespace safeinstall::runner
