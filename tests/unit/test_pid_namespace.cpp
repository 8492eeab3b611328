// Numbering a process as a pid namespace does, through the namespace held open.
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>

#include "sandbox/base/pid_namespace.h"

using safeinstall::sandbox::PidNamespace;

namespace {

// Whether this kernel translates pids (Linux 6.11+): a process is itself in its own namespace.
bool kernel_translates() {
  return PidNamespace::of_process(::getpid()).number_of(::getpid()) == ::getpid();
}

}  // namespace

TEST_CASE("pid namespace: a process keeps its number in its own namespace") {
  if (!kernel_translates()) {
    WARN("this kernel cannot translate pids between namespaces (Linux 6.11+)");
    return;
  }
  PidNamespace own = PidNamespace::of_process(::getpid());
  CHECK_FALSE(own.empty());
  CHECK(own.number_of(::getppid()) == ::getppid());
  CHECK(own.number_of(0) == 0);
  CHECK(own.number_of(-1) == 0);
  CHECK(PidNamespace().number_of(::getpid()) == 0);
  CHECK(PidNamespace::of_process(-1).empty());
}

// A new pid namespace (in a user namespace of its own, so it needs no privilege): its first
// process is 1 there, and this test, outside it, has no number there.
TEST_CASE(
    "pid namespace: the first process of a new namespace is 1 in it, outsiders are not there") {
  if (!kernel_translates()) {
    WARN("this kernel cannot translate pids between namespaces (Linux 6.11+)");
    return;
  }
  int report[2];
  REQUIRE(::pipe(report) == 0);
  pid_t middle = ::fork();
  REQUIRE(middle >= 0);
  if (middle == 0) {
    ::close(report[0]);
    pid_t first = -1;
    if (::unshare(CLONE_NEWUSER | CLONE_NEWPID) == 0) {
      first = ::fork();
      if (first == 0) {
        ::pause();
        ::_exit(0);
      }
    }
    (void)!::write(report[1], &first, sizeof first);
    if (first > 0) ::waitpid(first, nullptr, 0);
    ::_exit(0);
  }
  ::close(report[1]);
  pid_t first = -1;
  REQUIRE(::read(report[0], &first, sizeof first) == sizeof first);
  ::close(report[0]);
  if (first <= 0) {
    ::waitpid(middle, nullptr, 0);
    WARN("no new user and pid namespace here: not tested");
    return;
  }
  PidNamespace inner = PidNamespace::of_process(first);
  REQUIRE_FALSE(inner.empty());
  CHECK(inner.number_of(first) == 1);
  CHECK(inner.number_of(::getpid()) == 0);
  CHECK(inner.number_of(middle) == 0);
  ::kill(first, SIGKILL);
  ::waitpid(middle, nullptr, 0);
  CHECK(inner.number_of(first) == 0);  // gone
}
