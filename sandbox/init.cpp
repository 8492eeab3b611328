#include "sandbox/init.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "sandbox/capabilities.h"
#include "sandbox/channel.h"
#include "sandbox/limits.h"
#include "sandbox/mounts.h"
#include "sandbox/network.h"
#include "sandbox/seccomp_filter.h"

namespace safeinstall::sandbox {
namespace {

constexpr std::array kForwardedSignals = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
constexpr std::size_t kMaxArgvBytes = 4096;

[[noreturn]] void fail_setup(int channel, const Error& error) {
  SandboxEvent event{.type = SandboxEvent::Type::SetupFailed, .step = error.step, .hint = error.hint,
                     .err = error.err};
  send_event(channel, event);
  ::_exit(125);
}

// The supervisor writes our id maps; until it says so, nothing here may assume an identity.
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

Result<> confine(const Spec& spec) {
  if (auto r = set_hostname(spec.hostname); !r) return r;
  if (auto r = bring_loopback_up(); !r) return r;
  if (auto r = build_filesystem(spec.mounts); !r) return r;
  if (auto r = apply_limits(spec.limits); !r) return r;
  if (auto r = drop_all_privileges(); !r) return r;
  return install_seccomp_filter();
}

sigset_t forwarded_and_child_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  for (int sig : kForwardedSignals) sigaddset(&set, sig);
  return set;
}

void restore_default_signals() {
  for (int sig : kForwardedSignals) ::signal(sig, SIG_DFL);
  ::signal(SIGCHLD, SIG_DFL);
  ::signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

[[noreturn]] void exec_command(const Spec& spec, int error_pipe) {
  restore_default_signals();
  if (!spec.keep_terminal) ::setsid();
  ::close_range(3, static_cast<unsigned>(error_pipe) - 1, 0);
  ::close_range(static_cast<unsigned>(error_pipe) + 1, ~0U, 0);
  int err = 0;
  if (::chdir(spec.cwd.c_str()) != 0) {
    err = errno;
  } else {
    std::vector<char*> argv;
    for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    // execvp searches the PATH of the current environment, which must be the sandbox's.
    environ = envp.data();
    ::execvp(argv[0], argv.data());
    err = errno;
  }
  (void)!::write(error_pipe, &err, sizeof err);
  ::_exit(127);
}

// The exec-error pipe is close-on-exec: end of file means the command is running.
int read_exec_error(int read_end) {
  int err = 0;
  ssize_t n;
  do {
    n = ::read(read_end, &err, sizeof err);
  } while (n < 0 && errno == EINTR);
  return n == sizeof err ? err : 0;
}

std::vector<std::string> read_argv(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string raw;
  raw.resize(kMaxArgvBytes);
  in.read(raw.data(), static_cast<std::streamsize>(raw.size()));
  raw.resize(static_cast<std::size_t>(in.gcount()));
  std::vector<std::string> argv;
  std::size_t start = 0;
  while (start < raw.size()) {
    std::size_t end = raw.find('\0', start);
    if (end == std::string::npos) end = raw.size();
    argv.push_back(raw.substr(start, end - start));
    start = end + 1;
  }
  return argv;
}

pid_t read_ppid(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name may contain spaces and parentheses; fields resume after the last ')'.
  auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  char state = 0;
  int ppid = 0;
  if (std::sscanf(stat.c_str() + close + 1, " %c %d", &state, &ppid) != 2) return 0;
  return ppid;
}

std::vector<pid_t> list_other_processes() {
  std::vector<pid_t> pids;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return pids;
  while (auto* entry = ::readdir(dir)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (*end == '\0' && pid > 1) pids.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(dir);
  return pids;
}

void report_survivors(int channel) {
  for (pid_t pid : list_other_processes()) {
    SandboxEvent event{.type = SandboxEvent::Type::Survivor, .pid = pid, .ppid = read_ppid(pid),
                       .argv = read_argv(pid)};
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

}  // namespace

void run_sandbox_init(const Spec& spec, UniqueFd channel) {
  // If the supervisor dies, so does the sandbox: init's death takes the pid namespace along.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  wait_for_supervisor(channel.get());
  if (auto r = confine(spec); !r) fail_setup(channel.get(), r.error());

  sigset_t signals = forwarded_and_child_signals();
  ::sigprocmask(SIG_BLOCK, &signals, nullptr);
  // Signals from outside the namespace reach init only when it has a handler.
  for (int sig : kForwardedSignals) ::signal(sig, ignore_handler);

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) fail_setup(channel.get(), Error{"create a pipe", errno, {}});
  pid_t command = ::fork();
  if (command < 0) fail_setup(channel.get(), Error{"start the command", errno, {}});
  if (command == 0) exec_command(spec, pipe_fds[1]);
  ::close(pipe_fds[1]);
  int exec_error = read_exec_error(pipe_fds[0]);
  ::close(pipe_fds[0]);
  if (exec_error != 0) {
    SandboxEvent failed{.type = SandboxEvent::Type::ExecFailed, .err = exec_error, .argv = spec.argv};
    send_event(channel.get(), failed);
    ::_exit(127);
  }
  send_event(channel.get(), SandboxEvent{.type = SandboxEvent::Type::Started, .pid = command});

  int status = supervise_command(command, signals, !spec.keep_terminal);
  report_survivors(channel.get());
  kill_everything_else();
  send_event(channel.get(), SandboxEvent{.type = SandboxEvent::Type::Exited, .wait_status = status});
  ::_exit(0);
}

}  // namespace safeinstall::sandbox
