#pragma once
// The supervisor's side of a seccomp user-notification listener: receive a notification,
// check that it is still live after reading the caller's memory, and answer it. Every
// notification must be answered: the calling thread waits until it is.

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>

#include "sandbox/base/error.h"

namespace safeinstall::sandbox {

struct Notification {
  std::uint64_t id = 0;
  pid_t pid = 0;  // in the supervisor's pid namespace
  int syscall = 0;
  std::uint32_t arch = 0;  // AUDIT_ARCH_*
  std::array<std::uint64_t, 6> args{};
};

// Receives one pending notification. nullopt when there was none to take (the caller was
// killed meanwhile, or another reader took it).
Result<std::optional<Notification>> receive_notification(int listener);

// True while the call is still waiting for an answer: after reading the caller's memory,
// this proves the pid was not recycled by another process in between.
bool notification_alive(int listener, std::uint64_t id);

// True once no process uses the filter any more: no notification can come after that, and
// the listener stays readable (hung up) for good.
bool listener_hung_up(int listener);

// Asks the kernel (6.6 and later) to switch straight from a caller to the supervisor and
// back on the same CPU, as a synchronous call would, rather than waking each on whichever
// CPU is free: a recorded exec is a strict ping-pong. Older kernels keep the usual wake-ups.
void prefer_synchronous_wakeups(int listener);

// Lets the call proceed in the kernel as if no filter had asked.
void answer_continue(int listener, std::uint64_t id);
// Fails the call with `err` without running it.
void answer_error(int listener, std::uint64_t id, int err);

// The syscall's name for the caller's architecture ("ptrace"), or "syscall N".
std::string syscall_name(std::uint32_t arch, int syscall);

}  // namespace safeinstall::sandbox
