#include "sandbox/init.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <cstring>
#include <string>
#include <vector>

#include "sandbox/base/proc.h"
#include "sandbox/channel.h"
#include "sandbox/confine/capabilities.h"
#include "sandbox/confine/command_spawn.h"
#include "sandbox/confine/init_hygiene.h"
#include "sandbox/confine/limits.h"
#include "sandbox/confine/mounts.h"
#include "sandbox/confine/network.h"
#include "sandbox/confine/written_files.h"
#include "sandbox/egress/fd_passing.h"
#include "sandbox/egress/gateway_listeners.h"
#include "sandbox/seccomp/seccomp_filter.h"

namespace safeinstall::sandbox {
namespace {

constexpr std::array kForwardedSignals = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
// What pid 1 handles or may have inherited as ignored; the command starts with the defaults.
constexpr std::array kResetInCommand = {SIGINT,  SIGTERM, SIGHUP,  SIGQUIT,
                                        SIGUSR1, SIGUSR2, SIGCHLD, SIGPIPE};
constexpr std::size_t kMaxArgvBytes = 4096;

[[noreturn]] void fail_setup(int channel, const Error& error) {
  SandboxEvent event{.type = SandboxEvent::Type::SetupFailed,
                     .step = error.step,
                     .hint = error.hint,
                     .err = error.err};
  send_event(channel, event);
  ::_exit(125);
}

// The supervisor writes our id maps, and later takes the notification listener; until it
// says so, nothing here may go on.
void wait_for_supervisor(int channel) {
  char go = 0;
  ssize_t n;
  do {
    n = ::read(channel, &go, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) ::_exit(125);
}

Result<> set_hostname(const std::string& name) {
  if (::sethostname(name.data(), name.size()) != 0) return sys_error("set the sandbox hostname");
  return {};
}

// The listeners must be bound inside this network namespace, and to ports below 1024, so
// before the capabilities go; the supervisor serves them from the host's namespace.
Result<> hand_out_gateway_listeners(int gateway) {
  auto listeners = create_gateway_listeners();
  if (!listeners) return propagate(listeners);
  return send_gateway_listeners(gateway, *listeners);
}

// The files the supervisor watches (decoys) live in this sandbox's tmpfs: it gets an fd of
// each, over the same socket as the listeners. Ours close when `files` goes, before the
// command exists.
Result<> hand_out_watched_files(int gateway, const std::vector<UniqueFd>& files) {
  std::vector<int> fds;
  for (const auto& file : files) fds.push_back(file.get());
  return send_fds(gateway, kWatchedFilesTag, fds);
}

// Returns the notification listener when recording, else an empty fd.
Result<UniqueFd> confine(const Spec& spec, int gateway) {
  if (auto r = set_hostname(spec.hostname); !r) return propagate(r);
  if (auto r = bring_loopback_up(); !r) return propagate(r);
  if (spec.egress_gateway) {
    if (auto r = hand_out_gateway_listeners(gateway); !r) return propagate(r);
  }
  {
    std::vector<UniqueFd> watched;
    if (auto r = build_filesystem(spec.mounts, watched); !r) return propagate(r);
    if (!watched.empty()) {
      if (auto r = hand_out_watched_files(gateway, watched); !r) return propagate(r);
    }
  }
  if (auto r = apply_limits(spec.limits); !r) return propagate(r);
  if (auto r = drop_all_privileges(); !r) return propagate(r);
  if (!spec.record_syscalls) return install_seccomp_filter(FilterMode::Enforce);
  return install_seccomp_filter(spec.record_path_writes ? FilterMode::RecordWrites
                                                        : FilterMode::Record);
}

sigset_t forwarded_and_child_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  for (int sig : kForwardedSignals) sigaddset(&set, sig);
  return set;
}

pid_t read_ppid(pid_t pid) {
  std::string line = StatFields::read(pid);
  return static_cast<pid_t>(StatFields(line).number(4).value_or(0));
}

// What one run reports of the files written to the throwaway areas: a command that fills its
// home with small files must not flood the channel to the supervisor.
constexpr std::size_t kMaxWrittenFiles = 10000;

void report_written_files(int channel, const Spec& spec) {
  for (const auto& [area, dir] : spec.record_writes) {
    for (const auto& file : list_written_files(dir, kMaxWrittenFiles)) {
      SandboxEvent event{.type = SandboxEvent::Type::Written,
                         .area = area,
                         .path = file.path,
                         .mode = file.mode,
                         .size = file.size};
      send_event(channel, event);
    }
  }
}

void report_survivors(int channel) {
  for (pid_t pid : list_proc_pids()) {
    if (pid <= 1) continue;  // pid 1 is this process
    SandboxEvent event{.type = SandboxEvent::Type::Survivor,
                       .pid = pid,
                       .ppid = read_ppid(pid),
                       .argv = read_proc_argv(pid, kMaxArgvBytes)};
    send_event(channel, event);
  }
}

// kill(-1) from a pid namespace's init reaches every other process in it; repeat until
// none is left, since one may fork between the signal and the reaping.
void kill_everything_else() {
  while (true) {
    ::kill(-1, SIGKILL);
    int status = 0;
    pid_t reaped = ::waitpid(-1, &status, 0);
    if (reaped < 0 && errno == ECHILD) return;
  }
}

void forward(const siginfo_t& info, pid_t command, bool own_session) {
  // A terminal's signals (SI_KERNEL) already reached the command's process group.
  if (info.si_code == SI_KERNEL) return;
  // A sender inside the sandbox has a pid here; the supervisor and the host have none (0).
  // Only theirs are passed on: the command cannot use pid 1 to signal its own group.
  if (info.si_pid != 0) return;
  ::kill(own_session ? -command : command, info.si_signo);
}

// Reaps orphans until the command itself exits; returns its wait status.
int supervise_command(pid_t command, const sigset_t& signals, bool own_session) {
  while (true) {
    siginfo_t info{};
    if (::sigwaitinfo(&signals, &info) < 0) continue;
    if (info.si_signo != SIGCHLD) {
      forward(info, command, own_session);
      continue;
    }
    int status = 0;
    pid_t reaped;
    while ((reaped = ::waitpid(-1, &status, WNOHANG)) > 0) {
      if (reaped == command) return status;
    }
  }
}

void ignore_handler(int) {}

// Before the command exists, pid 1 keeps nothing of the supervisor's that the command could
// read through /proc/1: the invoker's environment, its descriptors, a readable memory.
void shed_supervisor_state(int channel, int gateway) {
  erase_inherited_environment();
  const int keep[] = {channel, gateway};
  if (auto r = close_inherited_fds(keep); !r) fail_setup(channel, r.error());
}

// The supervisor copies the listener out of this process (pidfd_getfd): passing it over a
// socket would take a sendmsg, which the filter already notifies to nobody yet. Once it says
// it has its copy, ours goes, so the command cannot inherit or steal a way to answer its own
// notifications.
void hand_over_listener(int channel, UniqueFd listener) {
  send_event(channel,
             SandboxEvent{.type = SandboxEvent::Type::Confined, .listener_fd = listener.get()});
  wait_for_supervisor(channel);
}

}  // namespace

void run_sandbox_init(const Spec& spec, UniqueFd channel, UniqueFd gateway) {
  // If the supervisor dies, so does the sandbox: init's death takes the pid namespace along.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  shed_supervisor_state(channel.get(), gateway.get());
  wait_for_supervisor(channel.get());
  auto listener = confine(spec, gateway.get());
  if (!listener) fail_setup(channel.get(), listener.error());
  gateway.reset();
  if (*listener) hand_over_listener(channel.get(), std::move(*listener));
  // Only now: the id maps and pidfd_getfd above need a dumpable init when the invoker is
  // unprivileged. The command does not exist yet.
  if (auto r = make_undumpable(); !r) fail_setup(channel.get(), r.error());

  sigset_t signals = forwarded_and_child_signals();
  ::sigprocmask(SIG_BLOCK, &signals, nullptr);
  // Signals from outside the namespace reach init only when it has a handler.
  for (int sig : kForwardedSignals) ::signal(sig, ignore_handler);

  pid_t command = 0;
  if (int exec_error = spawn_command(spec, kResetInCommand, command); exec_error != 0) {
    SandboxEvent failed{
        .type = SandboxEvent::Type::ExecFailed, .err = exec_error, .argv = spec.argv};
    send_event(channel.get(), failed);
    ::_exit(127);
  }
  send_event(channel.get(), SandboxEvent{.type = SandboxEvent::Type::Started, .pid = command});

  int status = supervise_command(command, signals, !spec.keep_terminal);
  report_survivors(channel.get());
  kill_everything_else();
  report_written_files(channel.get(), spec);
  send_event(channel.get(),
             SandboxEvent{.type = SandboxEvent::Type::Exited, .wait_status = status});
  ::_exit(0);
}

}  // namespace safeinstall::sandbox
