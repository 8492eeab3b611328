#include "runner/supervise/unix_socket_policy.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "sandbox/base/fd.h"
#include "sandbox/base/path_text.h"
#include "sandbox/base/proc.h"

namespace safeinstall::runner {
namespace {

using sandbox::UniqueFd;

// The path of a filesystem socket, or nullopt for other families, unnamed and abstract ones.
std::optional<std::string> socket_path(const char* raw, std::size_t size) {
  constexpr std::size_t kPathAt = offsetof(sockaddr_un, sun_path);
  if (size <= kPathAt) return std::nullopt;
  sa_family_t family = 0;
  std::memcpy(&family, raw, sizeof family);
  if (family != AF_UNIX || raw[kPathAt] == '\0') return std::nullopt;
  std::size_t length = std::min(size, sizeof(sockaddr_un)) - kPathAt;
  const char* path = raw + kPathAt;
  return std::string(path, ::strnlen(path, length));
}

// Resolved inside the process's own root (its mount namespace), symlinks included; the
// link /proc/self/fd/N then names it as the sandbox sees it. nullopt when nothing is there.
std::optional<std::string> resolve_in_sandbox(pid_t pid, const std::string& path) {
  UniqueFd root(::open(proc_path(pid, "root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return std::nullopt;
  struct open_how how {};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  UniqueFd found(
      static_cast<int>(::syscall(SYS_openat2, root.get(), path.c_str(), &how, sizeof how)));
  if (!found) return std::nullopt;
  struct stat st {};
  if (::fstat(found.get(), &st) != 0 || !S_ISSOCK(st.st_mode)) return std::nullopt;
  std::string resolved = read_proc_link("/proc/self/fd/" + std::to_string(found.get()));
  return resolved.starts_with('/') ? std::optional(resolved) : std::nullopt;
}

}  // namespace

std::optional<std::string> UnixSocketPolicy::outside(pid_t pid, const char* raw,
                                                     std::size_t size) const {
  auto path = socket_path(raw, size);
  if (!path) return std::nullopt;
  std::string asked = lexically_normal(*path, read_proc_link(proc_path(pid, "cwd")));
  auto resolved = resolve_in_sandbox(pid, asked);
  if (!resolved) return std::nullopt;  // no socket there: the call fails on its own
  bool own = std::ranges::any_of(own_dirs_, [&](const std::string& dir) {
    return is_within(*resolved, dir) && is_within(asked, dir);
  });
  if (own) return std::nullopt;
  return *resolved;
}

}  // namespace safeinstall::runner
