#include "sandbox/launcher.h"

#include <linux/sched.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <future>
#include <thread>

#include "sandbox/base/pidfd.h"
#include "sandbox/confine/userns.h"
#include "sandbox/egress/fd_passing.h"
#include "sandbox/host_check/host_check.h"
#include "sandbox/init.h"

namespace safeinstall::sandbox {
namespace {

constexpr std::uint64_t kNamespaces = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET |
                                      CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
constexpr int kSetupTimeoutMs = 30'000;

struct Clone {
  pid_t pid;
  UniqueFd pidfd;
};

// clone3 hands back a pidfd atomically, so the supervisor can never wait on a recycled pid.
Result<Clone> clone_into_namespaces() {
  int pidfd = -1;
  struct clone_args args {};
  args.flags = kNamespaces | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<std::uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0 && errno == ENOSYS) {
    pid = ::syscall(SYS_clone, kNamespaces | SIGCHLD, nullptr, nullptr, nullptr, 0);
    if (pid > 0) pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  }
  if (pid < 0) {
    int err = errno;
    return std::unexpected(
        Error{"create the sandbox namespaces (user, mount, pid, net, ipc, uts, cgroup)", err,
              explain_namespace_failure(err)});
  }
  return Clone{static_cast<pid_t>(pid), UniqueFd(pidfd)};
}

Result<SandboxEvent> wait_for_first_event(int channel) {
  struct pollfd pfd {
    channel, POLLIN, 0
  };
  int ready;
  do {
    ready = ::poll(&pfd, 1, kSetupTimeoutMs);
  } while (ready < 0 && errno == EINTR);
  if (ready == 0) return plain_error("the sandbox did not start within 30 s");
  auto event = receive_event(channel);
  if (!event) return propagate(event);
  if (!*event) return plain_error("the sandbox exited while it was being built");
  return **event;
}

// One byte: the id maps are written, or the listener is taken.
bool tell_init_to_go_on(int channel) {
  const char go = 1;
  return ::write(channel, &go, 1) == 1;
}

void kill_and_reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

// The listener is created by init's seccomp() call; copying it out with pidfd_getfd needs
// no cooperation from init beyond telling its number.
Result<UniqueFd> take_listener_from_init(int pidfd, int listener) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd, listener, 0));
  if (fd < 0)
    return sys_error("take the seccomp notification listener from the sandbox",
                     "pidfd_getfd needs Linux 5.6 or later and must not be blocked by a security "
                     "module; set SAFEINSTALL_RECORD=off to run without recording");
  return UniqueFd(fd);
}

// Init sent them after the listeners, before its first event, so they are waiting already.
Result<std::vector<WatchedFile>> receive_watched_files(int socket, const Spec& spec) {
  std::vector<std::string> targets;
  for (const auto& m : spec.mounts) {
    if (m.kind == MountKind::FileContent && m.watched) targets.push_back(m.target);
  }
  if (targets.empty()) return std::vector<WatchedFile>{};
  auto received = receive_fds(socket, targets.size());
  if (!received) return propagate(received);
  if (received->tag != kWatchedFilesTag || received->fds.size() != targets.size())
    return plain_error("receive the sandbox's watched files: unexpected `" + received->tag + "`");
  std::vector<WatchedFile> files;
  for (std::size_t i = 0; i < targets.size(); ++i)
    files.push_back({std::move(targets[i]), std::move(received->fds[i])});
  return files;
}

}  // namespace

RunningSandbox::~RunningSandbox() {
  if (init_ > 0 && !reaped_) kill_and_reap(init_);
}

void RunningSandbox::signal(int sig) const {
  ::kill(init_, sig);
}

void RunningSandbox::kill_all() const {
  if (pidfd_) {
    ::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
  } else {
    ::kill(init_, SIGKILL);
  }
}

void RunningSandbox::remove_cgroups_in_background() {
  if (!reaped_ || removing_cgroups_.valid()) return;
  removing_cgroups_ = std::async(std::launch::async, [cgroups = std::move(cgroups_)]() mutable {
    LimitCgroups removed = std::move(cgroups);  // its destructor removes them, on this thread
  });
}

std::optional<int> RunningSandbox::try_reap(struct rusage* usage) {
  if (reaped_) return 0;
  int status = 0;
  pid_t r = ::wait4(init_, &status, WNOHANG, usage);
  if (r != init_) return std::nullopt;
  reaped_ = true;
  return status;
}

Result<RunningSandbox> launch(const Spec& spec) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
    return sys_error("create the sandbox's control socket");
  UniqueFd supervisor_end(pair[0]);
  UniqueFd sandbox_end(pair[1]);
  // A socket of its own for the listeners: the control channel carries no file descriptors.
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
    return sys_error("create the sandbox's gateway socket");
  UniqueFd gateway_receiver(pair[0]);
  UniqueFd gateway_sender(pair[1]);

  auto child = clone_into_namespaces();
  if (!child) return propagate(child);
  if (child->pid == 0) {
    supervisor_end.reset();
    gateway_receiver.reset();
    run_sandbox_init(spec, std::move(sandbox_end), std::move(gateway_sender));
  }
  sandbox_end.reset();
  gateway_sender.reset();
  // The recorder asks whether pidfds keep exit statuses (a vfork and a wait) just as the
  // command's first exec waits for it: asked now, beside init's set-up, the answer is ready
  // by then. Not before the clone: init must not copy a lock another thread holds.
  if (spec.record_syscalls) std::thread([] { (void)pidfd_keeps_exit_status(); }).detach();

  if (auto r = write_identity_maps(child->pid, spec.outer_uid, spec.outer_gid); !r) {
    kill_and_reap(child->pid);
    Error error = r.error();
    error.step = "map the user namespace ids (" + error.step + ")";
    error.hint = explain_namespace_failure(error.err);
    return std::unexpected(error);
  }
  // Init must be in the cgroups before it forks, and it forks only to start the command. When
  // recording, it asks for a second go before that, so joining them can wait until then and
  // overlap init's setup: on cgroup v1 a move costs an RCU grace period (10-20 ms).
  auto joining = std::async(spec.record_syscalls ? std::launch::async : std::launch::deferred, [&] {
    return LimitCgroups::create(child->pid, spec.limits.processes, spec.limits.tree_memory_bytes);
  });
  if (!spec.record_syscalls) joining.wait();
  if (!tell_init_to_go_on(supervisor_end.get())) {
    kill_and_reap(child->pid);
    return sys_error("start the sandbox");
  }
  auto first = wait_for_first_event(supervisor_end.get());
  auto cgroups = joining.get();
  if (!first || first->type == SandboxEvent::Type::SetupFailed) {
    kill_and_reap(child->pid);
    if (!first) return propagate(first);
    return std::unexpected(Error{"build the sandbox: " + first->step, first->err, first->hint});
  }
  std::optional<GatewayListeners> gateway;
  if (spec.egress_gateway) {
    // Sent before the command started, so already waiting in the socket.
    auto listeners = receive_gateway_listeners(gateway_receiver.get());
    if (!listeners) {
      kill_and_reap(child->pid);
      return propagate(listeners);
    }
    gateway = std::move(*listeners);
  }
  auto watched = receive_watched_files(gateway_receiver.get(), spec);
  if (!watched) {
    kill_and_reap(child->pid);
    return propagate(watched);
  }
  UniqueFd notifications;
  if (first->type == SandboxEvent::Type::Confined) {
    auto listener = take_listener_from_init(child->pidfd.get(), first->listener_fd);
    if (!listener) {
      kill_and_reap(child->pid);
      return propagate(listener);
    }
    notifications = std::move(*listener);
    // Init closes its own copy and only then starts the command.
    if (!tell_init_to_go_on(supervisor_end.get())) {
      kill_and_reap(child->pid);
      return sys_error("hand the notification listener over to the supervisor");
    }
  }
  RunningSandbox sandbox(child->pid, std::move(child->pidfd), std::move(supervisor_end),
                         std::move(*first), std::move(gateway), std::move(notifications));
  sandbox.keep(std::move(cgroups));
  sandbox.keep(std::move(*watched));
  return sandbox;
}

}  // namespace safeinstall::sandbox
