#include "sandbox/confine/init_hygiene.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "sandbox/base/fd.h"

namespace safeinstall::sandbox {
namespace {

Result<> close_range_of(unsigned first, unsigned last) {
  if (first > last) return {};
  if (::syscall(SYS_close_range, first, last, 0) == 0) return {};
  return sys_error("close the descriptors " + std::to_string(first) + "-" + std::to_string(last) +
                       " inherited from the supervisor",
                   "close_range needs Linux 5.9 or later");
}

// Fields 50 and 51 of /proc/self/stat (env_start, env_end); the command name in field 2 may
// hold spaces and parentheses, so counting starts after its last ')'.
bool environment_block(unsigned long& start, unsigned long& end) {
  UniqueFd fd(::open("/proc/self/stat", O_RDONLY | O_CLOEXEC));
  if (!fd) return false;
  char buffer[4096];
  ssize_t n = ::read(fd.get(), buffer, sizeof buffer - 1);
  if (n <= 0) return false;
  buffer[n] = '\0';
  const char* field = std::strrchr(buffer, ')');
  if (field == nullptr) return false;
  // Each step lands on the space before the next field: the first on field 3's, the last on
  // field 50's.
  for (int i = 3; i <= 50 && field != nullptr; ++i) field = std::strchr(field + 1, ' ');
  if (field == nullptr) return false;
  return std::sscanf(field, " %lu %lu", &start, &end) == 2 && start < end;
}

}  // namespace

Result<> close_inherited_fds(std::span<const int> keep) {
  std::vector<unsigned> kept{0, 1, 2};
  for (int fd : keep)
    if (fd > 2) kept.push_back(static_cast<unsigned>(fd));
  std::ranges::sort(kept);
  for (std::size_t i = 0; i + 1 < kept.size(); ++i) {
    if (auto r = close_range_of(kept[i] + 1, kept[i + 1] - 1); !r) return r;
  }
  return close_range_of(kept.back() + 1, UINT_MAX);
}

void erase_inherited_environment() {
  ::clearenv();
  unsigned long start = 0;
  unsigned long end = 0;
  if (!environment_block(start, end)) return;
  // The block sits in this process's own copy of the supervisor's stack: writable, and no
  // longer referenced once clearenv() dropped `environ`.
  std::memset(reinterpret_cast<void*>(start), 0, end - start);
}

Result<> make_undumpable() {
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
    return sys_error("make the sandbox's init undumpable");
  return {};
}

}  // namespace safeinstall::sandbox
