#pragma once
// Trees that only have to be gone from where they are, removed after the command returns.
//
// Removing a tree takes as long as freeing its blocks, and on a filesystem mounted with
// `discard` (common on cloud VMs) every freed file waits for a synchronous discard, a few
// milliseconds each: slimming a promoted run and pruning an old one cost more than starting
// the sandbox. Instead, the tree is renamed into a trash directory on the same filesystem (one
// rename), and a detached process at idle priority removes what the trash holds. A tree that
// cannot be renamed there (another filesystem, a directory the user may not move) is removed
// in place, as before. If that process is killed, the next one (or `safeinstall gc`) removes
// what it left.

#include <functional>
#include <string>

#include "sandbox/base/error.h"
#include "sandbox/base/fd.h"

namespace safeinstall::runner {

class Trash {
 public:
  // `dir` is made 0700 on first use and must be ours (make_private_directory).
  explicit Trash(std::string dir) : dir_(std::move(dir)) {}

  const std::string& dir() const { return dir_; }

  // `name` in `dirfd` (nothing there is no error) moved into the trash, or removed in place
  // where it cannot be moved there. `shown` names it in errors.
  Result<void> take_at(int dirfd, const std::string& name, const std::string& shown) const;
  Result<void> take(const std::string& path) const;

  // A second link to the file at `path` (nothing there is no error), so that replacing or
  // removing it there frees nothing: its blocks go when the trash is emptied. Fails, leaving
  // nothing behind, where the trash is on another filesystem.
  Result<void> keep_link_of(const std::string& path) const;

  // Removes everything the trash holds, now.
  Result<void> empty() const;
  // When the trash holds anything, a detached process empties it; returns at once. Only one
  // such process works on a trash at a time (flock on it); it looks again before it leaves.
  void empty_in_background() const;

 private:
  Result<int> open_trash() const;

  std::string dir_;
  mutable sandbox::UniqueFd fd_;
  mutable unsigned serial_ = 0;
};

// Runs `work` in a detached child — its own session, stdio on /dev/null and no other fd of
// the caller's (a pipe the caller's caller reads sees its end when the caller exits), the
// lowest CPU and idle I/O priority, `name` in ps — and returns once it is forked, without
// waiting for it: the caller does not reap it (it outlives the caller, and whoever inherits
// it reaps it). `work`'s result is its exit status (true: 0).
Result<void> run_detached(const char* name, const std::function<bool()>& work);

}  // namespace safeinstall::runner
