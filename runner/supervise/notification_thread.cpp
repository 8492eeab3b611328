#include "runner/supervise/notification_thread.h"

#include <pthread.h>
#include <signal.h>

#include "sandbox/seccomp/seccomp_notify.h"

namespace safeinstall::runner {

NotificationThread::NotificationThread(sandbox::UniqueFd listener, SyscallRecorder& recorder)
    : listener_(std::move(listener)), recorder_(recorder) {
  sandbox::prefer_synchronous_wakeups(listener_.get());
  // Started with every signal blocked, so that none meant for the process (interrupts the
  // event loop reads from a signalfd) is ever delivered to this thread.
  sigset_t all, previous;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &previous);
  thread_ = std::thread([this] { serve(); });
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

void NotificationThread::join() {
  if (thread_.joinable()) thread_.join();
}

// Each notification is answered before the next is received. The receive fails with ENOENT
// when a caller was killed while queued, and when the last process using the filter has gone;
// only the second leaves the listener hung up.
void NotificationThread::serve() {
  const int fd = listener_.get();
  for (;;) {
    auto received = sandbox::receive_notification(fd);
    if (!received) {
      error_ = received.error().message();
      break;
    }
    if (*received) {
      recorder_.handle(fd, **received);
    } else if (sandbox::listener_hung_up(fd)) {
      break;
    }
  }
  recorder_.finish();
}

}  // namespace safeinstall::runner
