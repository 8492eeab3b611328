#pragma once
// Messages from the sandbox's init to the supervisor over a SOCK_SEQPACKET pair: one
// message per packet, so a message is never split or merged.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sandbox/base/error.h"

namespace safeinstall::sandbox {

struct SandboxEvent {
  enum class Type {
    SetupFailed,  // the sandbox could not be built: step, err, hint
    ExecFailed,   // the command could not be executed: err, argv
    Started,      // the command runs: pid (inside the sandbox)
    Survivor,     // a process outlived the command and is about to be killed: pid, ppid, argv
    Written,      // a file left in a throwaway area (home, /tmp): area, path, mode, size
    Exited,       // the command's wait status, sent last
    // Recording: the seccomp filter is in place; listener_fd is the number of its
    // notification listener in init, for the supervisor to take with pidfd_getfd. Sent
    // before the command starts, since its exec already waits for the supervisor.
    Confined,
  };
  Type type = Type::Exited;
  std::string step;
  std::string hint;
  int err = 0;
  pid_t pid = 0;
  pid_t ppid = 0;
  std::vector<std::string> argv;
  int wait_status = 0;
  std::string area;
  std::string path;
  std::uint32_t mode = 0;
  std::uint64_t size = 0;
  int listener_fd = -1;
};

// Returns false when the peer is gone; the sandbox side cannot do anything useful about it.
bool send_event(int fd, const SandboxEvent& event);

// nullopt on end of stream (the peer closed) or a malformed packet.
Result<std::optional<SandboxEvent>> receive_event(int fd);

}  // namespace safeinstall::sandbox
