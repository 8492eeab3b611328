#pragma once
// Writes by path into the read-only places the recorder watches: the local dependencies a
// manifest names outside the project (`file:../sib`), shown read-only at their own path. The
// mount refuses such a write (EROFS) whatever is read here; the recorder only says who tried,
// and what, so the run is not passed as if nothing happened.

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace safeinstall::runner {

// One call's path arguments: the directory fd it is relative to, and the string's address.
struct PathArgument {
  int dirfd = 0;  // AT_FDCWD for the working directory
  std::uint64_t address = 0;
};

// The arguments of a path-writing call (sandbox::path_write_syscalls()) that name what it
// writes: both names of a rename, the new name of a link, the path of the rest. Empty for
// any other call.
std::vector<PathArgument> written_path_arguments(std::string_view call,
                                                 const std::array<std::uint64_t, 6>& args);

class ReadOnlyWatch {
 public:
  ReadOnlyWatch() = default;
  explicit ReadOnlyWatch(std::vector<std::string> dirs) : dirs_(std::move(dirs)) {}

  bool empty() const { return dirs_.empty(); }

  // The watched path `path` (as process `pid` named it, relative to `dirfd`) falls in, as
  // the sandbox sees it with symlinks resolved (node_modules/sib -> ../../sib), or nullopt.
  std::optional<std::string> watched_target(pid_t pid, int dirfd, const std::string& path) const;

 private:
  std::optional<std::string> within(const std::string& path) const;
  std::vector<std::string> dirs_;
};

}  // namespace safeinstall::runner
