#pragma once
// Who opens a decoy credential file (runner/plan/decoys.h). The decoys are files the sandbox's
// init makes in its own tmpfs and binds into the home; the supervisor watches them through the
// fds init hands over (sandbox::WatchedFile), so an open by any path or link is seen.
// Privileged (CAP_SYS_ADMIN in the host's user namespace, i.e. safeinstall run as root),
// fanotify names the process that opened one, which the process tree then attributes to a
// package and script; otherwise inotify says only that one was opened.

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "runner/supervise/process_tree.h"
#include "sandbox/base/error.h"
#include "sandbox/base/fd.h"
#include "sandbox/launcher.h"

namespace safeinstall::runner {

// A decoy to watch: its name and its path inside the sandbox (sandbox::WatchedFile::target).
struct WatchedDecoy {
  std::string file;  // "~/.aws/credentials"
  std::string target;
};

// One open of a decoy as the supervisor saw it.
struct DecoyRead {
  std::string file;
  bool pid_known = false;  // fanotify; inotify reports no process
  pid_t host_pid = 0;
  // The process that opened it, as the recorder knew it (argv, package, script), when the
  // pid was known and had exec'd (or its nearest ancestor that had); pid 0 otherwise.
  ProcessRecord process;
  std::chrono::system_clock::time_point at;
};

// True when this process can watch with fanotify, and so name who opened a decoy.
bool decoy_reads_have_pids();

class DecoyWatch {
 public:
  // Watches each decoy's file in `files` with fanotify when allowed, else inotify.
  // `sandbox_init` (a host pid) tells the sandbox's opens from the host's.
  static Result<DecoyWatch> start(const std::vector<WatchedDecoy>& decoys,
                                  const std::vector<sandbox::WatchedFile>& files,
                                  pid_t sandbox_init);

  int fd() const { return fd_.get(); }
  bool has_pids() const { return fanotify_; }

  // Reads what is queued (the fd is non-blocking). A pid is looked up, with its ancestors,
  // while the process may still exist; `tree` attributes it later (attribute()).
  void read_events();

  // The reads so far, each attributed from `tree` (the latest exec of its pid, or of an
  // ancestor's, before the read).
  std::vector<DecoyRead> reads(const ProcessTree& tree) const;

  // Closes the watch without waiting: the kernel frees its marks after an RCU grace period
  // (10-20 ms), which the last close would sit out. `also` (a dup of the fd) goes with it.
  void close_in_background(sandbox::UniqueFd also);

  // Past this many reads, more are dropped: a loop opening a decoy cannot grow the record.
  static constexpr std::size_t kMaxReads = 256;

 private:
  struct Inode {
    dev_t dev = 0;
    ino_t ino = 0;
  };
  Result<> watch(const WatchedDecoy& decoy, int file);

  struct Raw {
    std::size_t decoy = 0;
    std::vector<pid_t> lineage;  // the host pid, then its ancestors while they could be read
    std::chrono::system_clock::time_point at;
  };
  void read_fanotify();
  void read_inotify();
  void add(std::size_t decoy, std::vector<pid_t> lineage);
  bool is_in_sandbox(pid_t pid) const;

  sandbox::UniqueFd fd_;
  bool fanotify_ = false;
  std::vector<WatchedDecoy> decoys_;
  std::vector<int> watches_;   // inotify: the watch descriptor of each decoy
  std::vector<Inode> inodes_;  // fanotify: each decoy's file, to match an event's fd
  std::string sandbox_pid_ns_;
  pid_t sandbox_init_ = 0;
  std::vector<Raw> raw_;
};

}  // namespace safeinstall::runner
