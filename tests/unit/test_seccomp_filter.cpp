// The filter on its own: installed in a forked child, each refused call must fail with the
// documented errno, and ordinary calls must keep working.
#include <linux/sched.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <functional>

#include "sandbox/seccomp/seccomp_filter.h"

namespace {

// Runs `attempt` in a child under the filter; returns the errno it failed with (0: it worked).
int errno_under_filter(const std::function<long()>& attempt) {
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    int result = -1;
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
        safeinstall::sandbox::install_seccomp_filter()) {
      errno = 0;
      result = attempt() < 0 ? errno : 0;
    }
    (void)!::write(pipe_fds[1], &result, sizeof result);
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  int result = -2;
  REQUIRE(::read(pipe_fds[0], &result, sizeof result) == sizeof result);
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(result != -1);  // the filter itself failed to install
  return result;
}

}  // namespace

TEST_CASE("seccomp: namespace and mount syscalls are refused") {
  CHECK(errno_under_filter([] { return ::syscall(SYS_unshare, CLONE_NEWUSER); }) == EPERM);
  CHECK(errno_under_filter([] { return ::syscall(SYS_setns, -1, 0); }) == EPERM);
  CHECK(errno_under_filter(
            [] { return ::syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, nullptr); }) == EPERM);
  CHECK(errno_under_filter(
            [] { return ::syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0); }) == EPERM);
  struct clone_args args {};
  CHECK(errno_under_filter([&] { return ::syscall(SYS_clone3, &args, sizeof args); }) == ENOSYS);
}

TEST_CASE("seccomp: plain fork and threads still work") {
  CHECK(errno_under_filter([] {
          pid_t pid = ::fork();
          if (pid == 0) ::_exit(0);
          int status;
          return static_cast<long>(::waitpid(pid, &status, 0));
        }) == 0);
}

TEST_CASE("seccomp: TIOCSTI is refused before the kernel looks at the descriptor") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  char c = 'x';
  // Without the filter a pipe answers ENOTTY; EPERM proves the filter refused it.
  CHECK(::ioctl(fds[0], TIOCSTI, &c) < 0);
  CHECK(errno == ENOTTY);
  CHECK(errno_under_filter([&] { return static_cast<long>(::ioctl(fds[0], TIOCSTI, &c)); }) ==
        EPERM);
  // The kernel reads the request as 32 bits: high garbage must not slip past the filter.
  CHECK(errno_under_filter([&] {
          return ::syscall(SYS_ioctl, fds[0], 0xdead00000000ULL | TIOCSTI, &c);
        }) == EPERM);
  CHECK(errno_under_filter([&] { return static_cast<long>(::ioctl(fds[0], FIONREAD, &c)); }) == 0);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_CASE("seccomp: only unix, inet, inet6 and routing netlink sockets") {
  auto open_socket = [](int family, int type, int protocol) {
    return [=] {
      long fd = ::socket(family, type, protocol);
      if (fd >= 0) ::close(static_cast<int>(fd));
      return fd;
    };
  };
  CHECK(errno_under_filter(open_socket(AF_PACKET, SOCK_RAW, 0)) == EPERM);
  CHECK(errno_under_filter(open_socket(AF_VSOCK, SOCK_STREAM, 0)) == EPERM);
  CHECK(errno_under_filter(open_socket(AF_ALG, SOCK_SEQPACKET, 0)) == EPERM);
  CHECK(errno_under_filter(open_socket(AF_NETLINK, SOCK_RAW, 9 /* NETLINK_AUDIT */)) == EPERM);
  CHECK(errno_under_filter(open_socket(AF_INET, SOCK_STREAM, 0)) == 0);
  CHECK(errno_under_filter(open_socket(AF_INET6, SOCK_DGRAM, 0)) == 0);
  CHECK(errno_under_filter(open_socket(AF_UNIX, SOCK_STREAM, 0)) == 0);
  CHECK(errno_under_filter(open_socket(AF_NETLINK, SOCK_RAW, 0)) == 0);
  CHECK(errno_under_filter([] { return ::syscall(SYS_socket, 0x100000011ULL, SOCK_RAW, 0); }) ==
        EPERM);
}

TEST_CASE("seccomp: personality can be queried, not changed") {
  CHECK(errno_under_filter([] { return static_cast<long>(::personality(0xffffffff)); }) == 0);
  CHECK(errno_under_filter([] { return static_cast<long>(::personality(ADDR_NO_RANDOMIZE)); }) ==
        EPERM);
}

TEST_CASE("seccomp: the documented list is refused") {
  for (const auto& name : safeinstall::sandbox::refused_syscalls()) {
    INFO(name);
    CHECK_FALSE(name.empty());
  }
  CHECK(errno_under_filter([] { return ::syscall(SYS_ptrace, 16 /* PTRACE_ATTACH */, 1, 0, 0); }) ==
        EPERM);
  CHECK(errno_under_filter([] { return ::syscall(SYS_io_uring_setup, 8, nullptr); }) == EPERM);
  CHECK(errno_under_filter([] { return ::syscall(SYS_bpf, 0, nullptr, 0); }) == EPERM);
  CHECK(errno_under_filter([] { return ::syscall(SYS_keyctl, 0, 0, 0, 0, 0); }) == EPERM);
  CHECK(errno_under_filter([] { return ::syscall(SYS_userfaultfd, 0); }) == EPERM);
}

TEST_CASE("seccomp: the program compiled into the binary matches the rules") {
  using safeinstall::sandbox::FilterMode;
  auto mode = GENERATE(FilterMode::Enforce, FilterMode::Record, FilterMode::RecordWrites);
  INFO("mode " << static_cast<int>(mode));
  auto fresh = safeinstall::sandbox::compile_seccomp_program(mode);
  REQUIRE(fresh);
  auto built_in = safeinstall::sandbox::precompiled_seccomp_program(mode);
  REQUIRE(fresh->size() == built_in.size());
  for (std::size_t i = 0; i < built_in.size(); ++i) {
    INFO("instruction " << i);
    CHECK(fresh->at(i).code == built_in[i].code);
    CHECK(fresh->at(i).k == built_in[i].k);
  }
}
