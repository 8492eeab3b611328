#include "sandbox/confine/limits.h"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <utility>

namespace safeinstall::sandbox {
namespace {

Result<> lower_limit(int resource, const char* name, rlim_t wanted) {
  struct rlimit current {};
  if (::getrlimit(resource, &current) != 0) return sys_error(std::string("read ") + name);
  rlim_t value = current.rlim_max == RLIM_INFINITY ? wanted : std::min(wanted, current.rlim_max);
  struct rlimit next {
    value, value
  };
  if (::setrlimit(resource, &next) != 0) return sys_error(std::string("set ") + name);
  return {};
}

}  // namespace

Result<> apply_limits(const Limits& limits) {
  if (auto r = lower_limit(RLIMIT_CORE, "RLIMIT_CORE", limits.core_bytes); !r) return r;
  if (auto r = lower_limit(RLIMIT_NOFILE, "RLIMIT_NOFILE", limits.open_files); !r) return r;
  return lower_limit(RLIMIT_NPROC, "RLIMIT_NPROC", limits.processes);
}

int apply_command_limits(const Limits& limits) {
  for (auto [resource, wanted] :
       {std::pair{RLIMIT_DATA, limits.data_bytes}, std::pair{RLIMIT_CPU, limits.cpu_seconds}}) {
    struct rlimit current {};
    if (::getrlimit(resource, &current) != 0) return errno;
    rlim_t value = current.rlim_max == RLIM_INFINITY ? wanted : std::min(wanted, current.rlim_max);
    struct rlimit next {
      value, value
    };
    if (::setrlimit(resource, &next) != 0) return errno;
  }
  return 0;
}

}  // namespace safeinstall::sandbox
