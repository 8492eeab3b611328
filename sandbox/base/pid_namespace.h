#pragma once
// A pid namespace held open, to number a process as that namespace does with one ioctl
// (Linux 6.11 and later) instead of generating and parsing its /proc/PID/status.

#include <sys/types.h>

#include "sandbox/base/fd.h"

namespace safeinstall::sandbox {

class PidNamespace {
 public:
  PidNamespace() = default;
  // The pid namespace process `pid` lives in (/proc/PID/ns/pid); empty when it cannot be
  // opened (the process is gone, or not ours to inspect).
  static PidNamespace of_process(pid_t pid);

  bool empty() const { return !fd_; }

  // The pid that process `pid` of the caller's namespace has in this one; 0 when it has none
  // there, is gone, or the kernel cannot tell (before 6.11).
  pid_t number_of(pid_t pid) const;

 private:
  explicit PidNamespace(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace safeinstall::sandbox
