#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>

#include "sandbox/confine/init_hygiene.h"

using namespace safeinstall::sandbox;

namespace {

// Runs `body` in a forked child (what it does is for that process alone); its exit code.
template <typename Body>
int in_child(Body body) {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(body());
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

// Counts the non-NUL bytes the kernel shows as this process's environment.
int environ_bytes() {
  int fd = ::open("/proc/self/environ", O_RDONLY | O_CLOEXEC);
  char buffer[65536];
  ssize_t n = ::read(fd, buffer, sizeof buffer);
  ::close(fd);
  int count = 0;
  for (ssize_t i = 0; i < n; ++i) count += buffer[i] != '\0';
  return count;
}

}  // namespace

TEST_CASE("init hygiene: the environment block the kernel shows is zeroed, not only unset") {
  ::setenv("SI_HYGIENE_CANARY", "ghp_canary_for_the_unit_test", 1);
  REQUIRE(environ_bytes() > 0);
  CHECK(in_child([] {
          erase_inherited_environment();
          if (std::getenv("PATH") != nullptr) return 1;
          return environ_bytes() == 0 ? 0 : 2;
        }) == 0);
}

TEST_CASE("init hygiene: only stdio and the kept descriptors survive") {
  CHECK(in_child([] {
          int secret = ::open("/etc/hostname", O_RDONLY);  // not close-on-exec, like fd 9
          int kept = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
          int keep[] = {kept};
          if (!close_inherited_fds(keep)) return 1;
          if (::fcntl(secret, F_GETFD) >= 0) return 2;
          if (::fcntl(kept, F_GETFD) < 0) return 3;
          if (::fcntl(1, F_GETFD) < 0) return 4;
          return 0;
        }) == 0);
}

TEST_CASE("init hygiene: undumpable") {
  CHECK(in_child([] {
          if (!make_undumpable()) return 1;
          return ::prctl(PR_GET_DUMPABLE) == 0 ? 0 : 2;
        }) == 0);
}
