#include "sandbox/confine/userns.h"

#include <fcntl.h>

#include <string>

#include "sandbox/base/fd.h"

namespace safeinstall::sandbox {
namespace {

Result<> write_proc_file(pid_t child, const char* name, const std::string& content) {
  std::string path = "/proc/" + std::to_string(child) + "/" + name;
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return sys_error("open " + path);
  if (::write(fd.get(), content.data(), content.size()) != static_cast<ssize_t>(content.size())) {
    return sys_error("write '" + content.substr(0, content.size() - 1) + "' to " + path);
  }
  return {};
}

}  // namespace

Result<> write_identity_maps(pid_t child, uid_t uid, gid_t gid) {
  if (auto r = write_proc_file(child, "setgroups", "deny\n"); !r) return r;
  if (auto r = write_proc_file(child, "uid_map",
                               std::to_string(uid) + " " + std::to_string(uid) + " 1\n");
      !r)
    return r;
  return write_proc_file(child, "gid_map",
                         std::to_string(gid) + " " + std::to_string(gid) + " 1\n");
}

}  // namespace safeinstall::sandbox
