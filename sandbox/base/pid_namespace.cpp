#include "sandbox/base/pid_namespace.h"

#include <fcntl.h>
#include <sys/ioctl.h>

#include <string>

namespace safeinstall::sandbox {
namespace {

// Debian 12's headers (6.1) predate the translation ioctls of <linux/nsfs.h>.
constexpr unsigned long kNsIo = 0xb7;
constexpr unsigned long kGetPidInPidns = _IOR(kNsIo, 0x8, int);

}  // namespace

PidNamespace PidNamespace::of_process(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/ns/pid";
  return PidNamespace(UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)));
}

pid_t PidNamespace::number_of(pid_t pid) const {
  if (!fd_ || pid <= 0) return 0;
  int number = ::ioctl(fd_.get(), kGetPidInPidns, static_cast<unsigned long>(pid));
  return number > 0 ? number : 0;
}

}  // namespace safeinstall::sandbox
