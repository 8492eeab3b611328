#include "runner/supervise/unix_socket_policy.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "runner/supervise/process_paths.h"
#include "sandbox/base/path_text.h"
#include "sandbox/base/proc.h"

namespace safeinstall::runner {
namespace {

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

}  // namespace

std::optional<std::string> UnixSocketPolicy::outside(pid_t pid, const char* raw,
                                                     std::size_t size) const {
  auto path = socket_path(raw, size);
  if (!path) return std::nullopt;
  std::string asked = lexically_normal(*path, read_proc_link(proc_path(pid, "cwd")));
  struct stat st {};
  auto resolved = resolve_in_sandbox(pid, asked, &st);
  // No socket there: the call fails on its own.
  if (!resolved || !S_ISSOCK(st.st_mode)) return std::nullopt;
  bool own = std::ranges::any_of(own_dirs_, [&](const std::string& dir) {
    return is_within(*resolved, dir) && is_within(asked, dir);
  });
  if (own) return std::nullopt;
  return *resolved;
}

}  // namespace safeinstall::runner
