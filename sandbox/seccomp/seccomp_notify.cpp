#include "sandbox/seccomp/seccomp_notify.h"

#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <seccomp.h>
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

namespace safeinstall::sandbox {
namespace {

// The kernel's structures may be larger than this build's headers know.
std::size_t notification_size() {
  static const std::size_t size = [] {
    struct seccomp_notif_sizes sizes {};
    if (::syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0)
      return sizeof(struct seccomp_notif);
    return std::max<std::size_t>(sizes.seccomp_notif, sizeof(struct seccomp_notif));
  }();
  return size;
}

void send_response(int listener, const struct seccomp_notif_resp& response) {
  struct seccomp_notif_resp copy = response;
  // ENOENT: the caller was killed while waiting; nothing is left to answer.
  while (::ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &copy) != 0 && errno == EINTR) {
  }
}

}  // namespace

Result<std::optional<Notification>> receive_notification(int listener) {
  // One buffer per receiving thread, cleared before each receive as the kernel requires.
  thread_local std::vector<std::uint64_t> buffer;
  buffer.assign((notification_size() + 7) / 8, 0);
  auto* raw = reinterpret_cast<struct seccomp_notif*>(buffer.data());
  if (::ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, raw) != 0) {
    if (errno == ENOENT || errno == EINTR || errno == EAGAIN) return std::optional<Notification>{};
    return sys_error("receive a seccomp notification");
  }
  Notification n;
  n.id = raw->id;
  n.pid = static_cast<pid_t>(raw->pid);
  n.syscall = raw->data.nr;
  n.arch = raw->data.arch;
  std::copy(std::begin(raw->data.args), std::end(raw->data.args), n.args.begin());
  return std::optional<Notification>{n};
}

bool listener_hung_up(int listener) {
  struct pollfd p {
    listener, POLLIN, 0
  };
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLHUP) != 0 && (p.revents & POLLIN) == 0;
}

// Debian 12's kernel headers (6.1) predate the flag.
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

void prefer_synchronous_wakeups(int listener) {
  // EINVAL or ENOTTY on kernels without it: the listener works the same, only slower.
  (void)::ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
}

bool notification_alive(int listener, std::uint64_t id) {
  return ::ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

void answer_continue(int listener, std::uint64_t id) {
  send_response(listener,
                {.id = id, .val = 0, .error = 0, .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE});
}

void answer_error(int listener, std::uint64_t id, int err) {
  send_response(listener, {.id = id, .val = 0, .error = -err, .flags = 0});
}

std::string syscall_name(std::uint32_t arch, int syscall) {
  char* name = seccomp_syscall_resolve_num_arch(arch, syscall);
  if (name == nullptr) return "syscall " + std::to_string(syscall);
  std::string result(name);
  std::free(name);
  return result;
}

}  // namespace safeinstall::sandbox
