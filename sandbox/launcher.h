#pragma once
// Starts a sandbox: clone into new namespaces, id maps, the go signal, and the handle the
// supervisor keeps while the command runs.

#include <sys/resource.h>
#include <sys/types.h>

#include <optional>
#include <utility>

#include "sandbox/channel.h"
#include "sandbox/error.h"
#include "sandbox/fd.h"
#include "sandbox/gateway_listeners.h"
#include "sandbox/spec.h"

namespace safeinstall::sandbox {

class RunningSandbox {
 public:
  RunningSandbox(pid_t init, UniqueFd pidfd, UniqueFd channel, SandboxEvent first,
                 std::optional<GatewayListeners> gateway)
      : init_(init), pidfd_(std::move(pidfd)), channel_(std::move(channel)),
        first_(std::move(first)), gateway_(std::move(gateway)) {}
  RunningSandbox(RunningSandbox&& other) noexcept
      : init_(std::exchange(other.init_, -1)), pidfd_(std::move(other.pidfd_)),
        channel_(std::move(other.channel_)), first_(std::move(other.first_)),
        gateway_(std::move(other.gateway_)), reaped_(other.reaped_) {}
  RunningSandbox& operator=(RunningSandbox&&) = delete;
  // A sandbox nobody supervises must not run on.
  ~RunningSandbox();

  pid_t init_pid() const { return init_; }
  int pidfd() const { return pidfd_.get(); }
  int channel() const { return channel_.get(); }
  // Started or ExecFailed: what happened to the command before launch() returned.
  const SandboxEvent& first_event() const { return first_; }
  // The egress gateway's listeners, created inside the sandbox; taken once, by whoever serves them.
  std::optional<GatewayListeners> take_gateway_listeners() { return std::exchange(gateway_, std::nullopt); }

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
  bool reaped_ = false;
};

// Builds the sandbox and starts spec.argv in it. Fails (never falls back to running
// unconfined) with the step that failed and a hint for fixing the host.
Result<RunningSandbox> launch(const Spec& spec);

}  // namespace safeinstall::sandbox
