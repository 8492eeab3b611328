#pragma once
// Starts a sandbox: clone into new namespaces, id maps, the go signal, and the handle the
// supervisor keeps while the command runs.

#include <sys/resource.h>
#include <sys/types.h>

#include <future>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sandbox/base/error.h"
#include "sandbox/base/fd.h"
#include "sandbox/base/spec.h"
#include "sandbox/channel.h"
#include "sandbox/confine/limit_cgroups.h"
#include "sandbox/egress/gateway_listeners.h"

namespace safeinstall::sandbox {

// A file the supervisor watches for opens (MountSpec::watched): its place inside the sandbox
// and an fd of it, which init made in the sandbox's own tmpfs.
struct WatchedFile {
  std::string target;
  UniqueFd fd;
};

class RunningSandbox {
 public:
  RunningSandbox(pid_t init, UniqueFd pidfd, UniqueFd channel, SandboxEvent first,
                 std::optional<GatewayListeners> gateway, UniqueFd notifications = {})
      : init_(init),
        pidfd_(std::move(pidfd)),
        channel_(std::move(channel)),
        first_(std::move(first)),
        gateway_(std::move(gateway)),
        notifications_(std::move(notifications)) {}
  RunningSandbox(RunningSandbox&& other) noexcept
      : init_(std::exchange(other.init_, -1)),
        pidfd_(std::move(other.pidfd_)),
        channel_(std::move(other.channel_)),
        first_(std::move(other.first_)),
        gateway_(std::move(other.gateway_)),
        notifications_(std::move(other.notifications_)),
        cgroups_(std::move(other.cgroups_)),
        watched_(std::move(other.watched_)),
        removing_cgroups_(std::move(other.removing_cgroups_)),
        reaped_(other.reaped_) {}
  RunningSandbox& operator=(RunningSandbox&&) = delete;
  // A sandbox nobody supervises must not run on.
  ~RunningSandbox();

  pid_t init_pid() const { return init_; }
  int pidfd() const { return pidfd_.get(); }
  int channel() const { return channel_.get(); }
  // Started or ExecFailed: what happened to the command before launch() returned; or
  // Confined when recording, and the command's Started/ExecFailed follows on the channel
  // once the supervisor has answered its exec.
  const SandboxEvent& first_event() const { return first_; }
  // The egress gateway's listeners, created inside the sandbox; taken once, by whoever serves them.
  std::optional<GatewayListeners> take_gateway_listeners() {
    return std::exchange(gateway_, std::nullopt);
  }
  // The seccomp notification listener (spec.record_syscalls); every notification on it must
  // be answered, or the process that made the call waits forever.
  UniqueFd take_notifications() { return std::move(notifications_); }
  void keep(std::vector<WatchedFile> watched) { watched_ = std::move(watched); }
  // The watched files, in the order of spec.mounts; taken once, by whoever watches them.
  std::vector<WatchedFile> take_watched_files() { return std::exchange(watched_, {}); }
  // Kept until the sandbox is gone, then removed.
  void keep(LimitCgroups cgroups) { cgroups_ = std::move(cgroups); }
  // Once init is reaped and the cgroups' counters read: they are removed on a thread of their
  // own (on cgroup v1 a removal waits for the kernel, 3 ms and more), beside whatever the
  // caller does next; the sandbox waits for it when it goes. The counters read 0 after this.
  void remove_cgroups_in_background();
  // Forks the pids cgroup refused; 0 without one.
  std::uint64_t refused_forks() const { return cgroups_.refused_forks(); }
  // Processes the kernel killed at the memory cgroup's limit; 0 without one.
  std::uint64_t memory_kills() const { return cgroups_.memory_kills(); }
  // Whether the kernel holds the tree at the memory limit (a memory cgroup was made).
  bool kernel_holds_memory() const { return cgroups_.holds_memory(); }

  // Delivered to init, which forwards it to the command.
  void signal(int sig) const;
  // SIGKILL to init: the kernel then kills every process in the sandbox's pid namespace.
  void kill_all() const;
  // Reaps init once it has exited and returns its wait status; nullopt while it still runs.
  // `usage` receives the CPU and memory use of init and every process it reaped.
  std::optional<int> try_reap(struct rusage* usage = nullptr);

 private:
  pid_t init_ = -1;
  UniqueFd pidfd_;
  UniqueFd channel_;
  SandboxEvent first_;
  std::optional<GatewayListeners> gateway_;
  UniqueFd notifications_;
  LimitCgroups cgroups_;
  std::vector<WatchedFile> watched_;
  std::future<void> removing_cgroups_;
  bool reaped_ = false;
};

// Builds the sandbox and starts spec.argv in it. Fails (never falls back to running
// unconfined) with the step that failed and a hint for fixing the host.
Result<RunningSandbox> launch(const Spec& spec);

}  // namespace safeinstall::sandbox
