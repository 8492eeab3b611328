#include "sandbox/seccomp_filter.h"

#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <iterator>

namespace safeinstall::sandbox {
namespace {

// Generated at build time by tools/seccomp_gen from the rules in seccomp_rules.cpp.
constexpr sock_filter kProgram[] = {
#include "seccomp_program.inc"
};

}  // namespace

std::vector<sock_filter> precompiled_seccomp_program() {
  return {std::begin(kProgram), std::end(kProgram)};
}

Result<> install_seccomp_filter() {
  struct sock_fprog program {};
  program.len = static_cast<unsigned short>(std::size(kProgram));
  program.filter = const_cast<sock_filter*>(kProgram);
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0)
    return sys_error("load the seccomp filter",
                     "the kernel refused a seccomp filter; run `safeinstall check`");
  return {};
}

}  // namespace safeinstall::sandbox
