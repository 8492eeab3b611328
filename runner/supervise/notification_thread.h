#pragma once
// The seccomp notifications of a run, served on a thread of their own that waits in the
// receive ioctl itself. The listener asks for synchronous wake-ups (kernel 6.6+): a caller
// and a thread waiting there then switch on one CPU, as for a synchronous call, and a
// recorded exec costs its caller little more than two context switches. A supervisor waiting
// in epoll would be woken the usual way, on whichever CPU is free.
//
// The thread owns the recorder while it runs: nothing else touches it until join() returns,
// which is once no process uses the filter any more.

#include <optional>
#include <string>
#include <thread>

#include "runner/supervise/syscall_recorder.h"
#include "sandbox/base/fd.h"

namespace safeinstall::runner {

class NotificationThread {
 public:
  // Starts serving `listener` with `recorder`, which must outlive this object.
  NotificationThread(sandbox::UniqueFd listener, SyscallRecorder& recorder);
  ~NotificationThread() { join(); }
  NotificationThread(const NotificationThread&) = delete;
  NotificationThread& operator=(const NotificationThread&) = delete;

  // Waits until the last process using the filter is gone and every notification answered.
  void join();

  // Why serving stopped early (a failed receive); read after join().
  const std::optional<std::string>& error() const { return error_; }

 private:
  void serve();

  sandbox::UniqueFd listener_;
  SyscallRecorder& recorder_;
  std::optional<std::string> error_;
  std::thread thread_;
};

}  // namespace safeinstall::runner
