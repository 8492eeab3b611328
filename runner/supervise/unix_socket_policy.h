#pragma once
// Which filesystem unix sockets a sandboxed process may connect or send to: only those in
// the sandbox's own places (its throwaway home, /tmp, the project). A daemon's socket that a
// bind made visible (dbus, a database, a container engine) is a way out of the sandbox that
// no network namespace closes. Abstract and unnamed sockets belong to the sandbox's own
// network namespace and are not a way out.

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace safeinstall::runner {

class UnixSocketPolicy {
 public:
  UnixSocketPolicy() = default;
  explicit UnixSocketPolicy(std::vector<std::string> own_dirs) : own_dirs_(std::move(own_dirs)) {}

  // For a sockaddr a process in the sandbox gave connect/sendto/sendmsg: the socket's path
  // as the process sees it when it names an existing socket outside the sandbox's own
  // places, else nullopt (not AF_UNIX, abstract, unnamed, missing, or inside). Read from the
  // process's memory and /proc, so racy: a record and a second line of defence behind the
  // allow-list filesystem, never the only one.
  std::optional<std::string> outside(pid_t pid, const char* raw, std::size_t size) const;

 private:
  std::vector<std::string> own_dirs_;
};

}  // namespace safeinstall::runner
