#include "runner/fs/trash.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "runner/fs/fs_tree.h"

namespace safeinstall::runner {
namespace {

using sandbox::UniqueFd;

// linux/ioprio.h is not in every set of kernel headers Debian ships with glibc.
constexpr int kIoprioWhoProcess = 1;
constexpr int kIoprioClassIdle = 3;
constexpr int kIoprioClassShift = 13;

// Names already in the trash (a slot left by a killed process with the same pid) are skipped.
constexpr unsigned kSlotAttempts = 64;
// Rounds the background remover looks again for what other runs put in meanwhile.
constexpr int kEmptyingRounds = 16;

void detach_from_caller() {
  ::setsid();
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    ::dup2(null, STDIN_FILENO);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
  }
  ::close_range(3, ~0U, 0);
  ::setpriority(PRIO_PROCESS, 0, 19);
  ::syscall(SYS_ioprio_set, kIoprioWhoProcess, 0, kIoprioClassIdle << kIoprioClassShift);
}

Result<void> remove_all_in(int dirfd, const std::string& shown) {
  auto names = list_directory(dirfd, shown);
  if (!names) return propagate(names);
  for (const auto& name : *names) {
    if (auto removed = remove_tree_at(dirfd, name, shown + "/" + name); !removed) return removed;
  }
  return {};
}

bool holds_anything(const std::string& dir) {
  auto fd = open_directory(dir);
  if (!fd) return false;
  auto names = list_directory(fd->get(), dir);
  return names && !names->empty();
}

}  // namespace

Result<void> run_detached(const char* name, const std::function<bool()>& work) {
  // One fork, not waited for: on a loaded machine waiting for an intermediate child to get a
  // CPU costs more than the rest of the hand-off. The worker stays the caller's child (a
  // zombie once done, until the caller exits and whoever inherits it reaps it).
  pid_t worker = ::fork();
  if (worker < 0) return sys_error(std::string("start ") + name);
  if (worker == 0) {
    detach_from_caller();
    ::prctl(PR_SET_NAME, name);  // what ps shows beside the caller's command line
    ::_exit(work() ? 0 : 1);
  }
  return {};
}

Result<int> Trash::open_trash() const {
  if (fd_) return fd_.get();
  if (auto made = make_private_directory(dir_); !made) return propagate(made);
  auto fd = open_directory(dir_);
  if (!fd) return propagate(fd);
  fd_ = std::move(*fd);
  return fd_.get();
}

Result<void> Trash::take_at(int dirfd, const std::string& name, const std::string& shown) const {
  if (auto trash = open_trash(); trash) {
    std::string prefix = std::to_string(::getpid()) + "-";
    for (unsigned attempt = 0; attempt < kSlotAttempts; ++attempt) {
      std::string slot = prefix + std::to_string(serial_++);
      if (::renameat2(dirfd, name.c_str(), *trash, slot.c_str(), RENAME_NOREPLACE) == 0) return {};
      if (errno == ENOENT) return {};
      if (errno != EEXIST) break;
    }
  }
  return remove_tree_at(dirfd, name, shown);
}

Result<void> Trash::keep_link_of(const std::string& path) const {
  auto trash = open_trash();
  if (!trash) return propagate(trash);
  std::string prefix = std::to_string(::getpid()) + "-link-";
  for (unsigned attempt = 0; attempt < kSlotAttempts; ++attempt) {
    std::string slot = prefix + std::to_string(serial_++);
    if (::linkat(AT_FDCWD, path.c_str(), *trash, slot.c_str(), 0) == 0) return {};
    if (errno == ENOENT) return {};
    if (errno != EEXIST) break;
  }
  return sys_error("link " + path + " into the trash " + dir_);
}

Result<void> Trash::take(const std::string& path) const {
  auto entry = open_parent_of(path, "move to the trash");
  if (!entry) return propagate(entry);
  if (!*entry) return {};
  return take_at((*entry)->dir.get(), (*entry)->name, path);
}

Result<void> Trash::empty() const {
  if (::access(dir_.c_str(), F_OK) != 0) return {};
  auto trash = open_trash();
  if (!trash) return propagate(trash);
  return remove_all_in(*trash, dir_);
}

void Trash::empty_in_background() const {
  if (!holds_anything(dir_)) return;
  [[maybe_unused]] auto started = run_detached("si-trash", [dir = dir_] {
    // A fresh handle: the caller's fds are closed in here.
    Trash trash(dir);
    auto fd = trash.open_trash();
    if (!fd) return false;
    if (::flock(*fd, LOCK_EX | LOCK_NB) != 0) return true;  // another one is at it
    for (int round = 0; round < kEmptyingRounds && holds_anything(dir); ++round) {
      if (!remove_all_in(*fd, dir)) return false;
    }
    return true;
  });
}

}  // namespace safeinstall::runner
