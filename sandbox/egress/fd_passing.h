#pragma once
// Passing file descriptors between processes over a unix socket (SCM_RIGHTS), with a short
// tag that says what they are. Used to hand the gateway's listening sockets, created inside
// the sandbox's network namespace, to the supervisor outside it.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/base/error.h"
#include "sandbox/base/fd.h"

namespace safeinstall::sandbox {

inline constexpr std::size_t kMaxPassedFds = 64;
inline constexpr std::size_t kMaxFdTag = 4096;

// Sends `fds` (duplicated by the kernel into the receiver; the caller keeps its own) and
// `tag` in one message. Works on SOCK_SEQPACKET, SOCK_DGRAM and SOCK_STREAM sockets.
Result<> send_fds(int socket, std::string_view tag, std::span<const int> fds);

struct ReceivedFds {
  std::string tag;
  std::vector<UniqueFd> fds;  // close-on-exec, in the order they were sent
};

// Receives one message of send_fds. Fails, closing whatever arrived, when the peer closed,
// the message was cut short, or more than `max_fds` descriptors came.
Result<ReceivedFds> receive_fds(int socket, std::size_t max_fds = kMaxPassedFds);

}  // namespace safeinstall::sandbox
