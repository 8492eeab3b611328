#include "sandbox/confine/init_hygiene.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "sandbox/base/proc.h"

namespace safeinstall::sandbox {
namespace {

Result<> close_range_of(unsigned first, unsigned last) {
  if (first > last) return {};
  if (::syscall(SYS_close_range, first, last, 0) == 0) return {};
  return sys_error("close the descriptors " + std::to_string(first) + "-" + std::to_string(last) +
                       " inherited from the supervisor",
                   "close_range needs Linux 5.9 or later");
}

// Fields 50 and 51 of /proc/self/stat (env_start, env_end).
bool environment_block(unsigned long& start, unsigned long& end) {
  std::string line = StatFields::read_own();
  StatFields stat(line);
  auto first = stat.number(50);
  auto last = stat.number(51);
  if (!first || !last || *first < 0 || *first >= *last) return false;
  start = static_cast<unsigned long>(*first);
  end = static_cast<unsigned long>(*last);
  return true;
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
