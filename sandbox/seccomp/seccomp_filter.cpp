#include "sandbox/seccomp/seccomp_filter.h"

#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <iterator>
#include <span>

namespace safeinstall::sandbox {
namespace {

// Generated at build time by tools/seccomp_gen from the rules in seccomp_rules.cpp.
constexpr sock_filter kEnforceProgram[] = {
#include "seccomp_program.inc"
};
constexpr sock_filter kRecordProgram[] = {
#include "seccomp_program_record.inc"
};
constexpr sock_filter kRecordWritesProgram[] = {
#include "seccomp_program_record_writes.inc"
};

std::span<const sock_filter> program_for(FilterMode mode) {
  if (mode == FilterMode::Record) return kRecordProgram;
  if (mode == FilterMode::RecordWrites) return kRecordWritesProgram;
  return kEnforceProgram;
}

}  // namespace

std::vector<sock_filter> precompiled_seccomp_program(FilterMode mode) {
  auto program = program_for(mode);
  return {program.begin(), program.end()};
}

Result<UniqueFd> install_seccomp_filter(FilterMode mode) {
  auto instructions = program_for(mode);
  struct sock_fprog program {};
  program.len = static_cast<unsigned short>(instructions.size());
  program.filter = const_cast<sock_filter*>(instructions.data());
  const bool listens = mode != FilterMode::Enforce;
  const unsigned flags = listens ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
  long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &program);
  if (rc < 0)
    return sys_error("load the seccomp filter",
                     "the kernel refused a seccomp filter; run `safeinstall check`");
  return UniqueFd(listens ? static_cast<int>(rc) : -1);
}

}  // namespace safeinstall::sandbox
