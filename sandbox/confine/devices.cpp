#include "sandbox/confine/devices.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>

#include "sandbox/base/fd.h"

namespace safeinstall::sandbox {
namespace {

constexpr std::array kNodes = {"null", "zero", "full", "random", "urandom", "tty"};

struct Link {
  const char* name;
  const char* points_to;
};
constexpr std::array kLinks = {Link{"ptmx", "pts/ptmx"}, Link{"fd", "/proc/self/fd"},
                               Link{"stdin", "/proc/self/fd/0"}, Link{"stdout", "/proc/self/fd/1"},
                               Link{"stderr", "/proc/self/fd/2"}};

Result<> bind_node(const std::string& dev, const std::string& host_root, const char* name) {
  std::string target = dev + "/" + name;
  std::string source = host_root + "/dev/" + name;
  UniqueFd placeholder(::open(target.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!placeholder) return sys_error("create " + target);
  if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0)
    return sys_error("bind /dev/" + std::string(name));
  return {};
}

Result<> mount_devpts(const std::string& dev) {
  std::string pts = dev + "/pts";
  if (::mkdir(pts.c_str(), 0755) != 0) return sys_error("create " + pts);
  // A new instance: the sandbox sees only the ptys it opens, never the invoker's.
  if (::mount("devpts", pts.c_str(), "devpts", MS_NOSUID | MS_NOEXEC,
              "newinstance,ptmxmode=0666,mode=0620") != 0)
    return sys_error("mount a private devpts");
  return {};
}

Result<> mount_shm(const std::string& dev) {
  std::string shm = dev + "/shm";
  if (::mkdir(shm.c_str(), 01777) != 0) return sys_error("create " + shm);
  if (::mount("tmpfs", shm.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=67108864") != 0)
    return sys_error("mount /dev/shm");
  return {};
}

Result<> make_links(const std::string& dev) {
  for (const auto& link : kLinks) {
    std::string path = dev + "/" + link.name;
    if (::symlink(link.points_to, path.c_str()) != 0) return sys_error("create " + path);
  }
  return {};
}

Result<> seal(const std::string& dev) {
  if (::mount(nullptr, dev.c_str(), nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID, "mode=0755") != 0)
    return sys_error("make /dev read-only");
  return {};
}

}  // namespace

Result<> build_dev(const std::string& target, const std::string& host_root) {
  if (::mount("tmpfs", target.c_str(), "tmpfs", MS_NOSUID, "mode=0755,size=65536") != 0)
    return sys_error("mount tmpfs on /dev");
  for (const char* name : kNodes) {
    if (auto r = bind_node(target, host_root, name); !r) return r;
  }
  if (auto r = mount_devpts(target); !r) return r;
  if (auto r = mount_shm(target); !r) return r;
  if (auto r = make_links(target); !r) return r;
  return seal(target);
}

}  // namespace safeinstall::sandbox
