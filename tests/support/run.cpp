#include "tests/support/run.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/env.hpp>
#include <boost/process/environment.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/io.hpp>
#include <boost/process/pipe.hpp>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <system_error>

namespace safeinstall::test {
namespace {

namespace bp = boost::process;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// After the child exits, descendants that kept its stdout/stderr open get this long to finish
// writing before run() stops waiting for them.
constexpr milliseconds kDrainAfterExit{500};
// Only used when pidfd_open is unavailable and the child's exit has to be polled for.
constexpr milliseconds kExitPollInterval{10};

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// Runs in the forked child before exec. Boost's own start_dir ignores a failed chdir and
// would run the command in the wrong directory; this fails the start instead. The new
// process group is what lets a timeout kill everything the command started.
struct ChildSetup : bp::extend::handler {
  const std::string* cwd;
  explicit ChildSetup(const std::string& dir) : cwd(&dir) {}
  template <typename Executor>
  void on_exec_setup(Executor& exec) const {
    ::setpgid(0, 0);
    if (!cwd->empty() && ::chdir(cwd->c_str()) != 0) {
      exec.set_error(std::error_code(errno, std::system_category()),
                     "cannot enter the working directory");
      ::_exit(126);  // set_error only reports; without this the exec would still happen
    }
  }
};

bp::environment make_environment(const RunOptions& options) {
  bp::environment env = [&]() -> bp::environment {
    if (options.inherit_env) return boost::this_process::environment();
    return {};
  }();
  for (const auto& name : options.env_remove) env.erase(name);
  for (const auto& assignment : options.env_overrides) {
    auto equals = assignment.find('=');
    if (equals == std::string::npos || equals == 0)
      throw std::invalid_argument("run: env override is not NAME=VALUE: " + assignment);
    env[assignment.substr(0, equals)] = assignment.substr(equals + 1);
  }
  return env;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return status;
}

milliseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
}

RunResult not_started(int code, std::string reason, Clock::time_point start) {
  RunResult result;
  result.exit_code = code;
  result.err = std::move(reason);
  result.elapsed = since(start);
  return result;
}

// A command that exits without reading its stdin must not kill the test with SIGPIPE, and the
// test process's signal dispositions are not run()'s to change: block SIGPIPE around the write
// and swallow the one it raised.
ssize_t write_without_sigpipe(int fd, std::string_view data) {
  sigset_t pipe_only, previous, pending;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe_only, &previous);
  sigpending(&pending);
  bool already_pending = sigismember(&pending, SIGPIPE) == 1;
  ssize_t n = ::write(fd, data.data(), data.size());
  int error = errno;
  if (n < 0 && error == EPIPE && !already_pending) {
    timespec zero{};
    ::sigtimedwait(&pipe_only, nullptr, &zero);
  }
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  errno = error;
  return n;
}

// Appends what is readable; false once the pipe is at EOF or broken.
bool drain(int fd, std::string& into) {
  char buffer[65536];
  ssize_t n = ::read(fd, buffer, sizeof buffer);
  if (n > 0) {
    into.append(buffer, static_cast<size_t>(n));
    return true;
  }
  return n < 0 && (errno == EINTR || errno == EAGAIN);
}

// The poll loop's state: one child, its three pipes, and two clocks (the run's deadline and,
// once the child has exited, the drain deadline).
class Session {
 public:
  Session(bp::child& child, bp::pipe& in, bp::pipe& out, bp::pipe& err, const RunOptions& options,
          Clock::time_point start, RunResult& result)
      : child_(child),
        in_(in),
        out_fd_(out.native_source()),
        err_fd_(err.native_source()),
        result_(result),
        pending_input_(options.stdin_data),
        deadline_(start + options.timeout),
        pidfd_(static_cast<int>(::syscall(SYS_pidfd_open, child.id(), 0))) {
    if (pending_input_.empty()) {
      in_.close();
    } else {
      ::fcntl(in_.native_sink(), F_SETFL, ::fcntl(in_.native_sink(), F_GETFL) | O_NONBLOCK);
    }
  }

  void run() {
    while (!exited_ || out_fd_ >= 0 || err_fd_ >= 0) {
      auto now = Clock::now();
      if (!exited_ && now >= deadline_) kill_on_timeout();
      if (exited_ && now >= drain_deadline_) break;
      wait_for_events();
      if (!exited_ && !child_.running()) mark_exited();
    }
    result_.exit_code = decode_status(child_.native_exit_code());
  }

 private:
  void kill_on_timeout() {
    result_.timed_out = true;
    ::kill(-child_.id(), SIGKILL);
    ::kill(child_.id(), SIGKILL);  // in case it never got its own process group
    child_.wait();
    mark_exited();
  }

  void mark_exited() {
    exited_ = true;
    drain_deadline_ = Clock::now() + kDrainAfterExit;
  }

  void wait_for_events() {
    std::vector<pollfd> fds;
    if (out_fd_ >= 0) fds.push_back({out_fd_, POLLIN, 0});
    if (err_fd_ >= 0) fds.push_back({err_fd_, POLLIN, 0});
    if (!pending_input_.empty()) fds.push_back({in_.native_sink(), POLLOUT, 0});
    if (!exited_ && pidfd_.get() >= 0) fds.push_back({pidfd_.get(), POLLIN, 0});

    auto limit = exited_ ? drain_deadline_ : deadline_;
    auto wait = std::max(milliseconds(0), std::chrono::ceil<milliseconds>(limit - Clock::now()));
    if (!exited_ && pidfd_.get() < 0) wait = std::min(wait, kExitPollInterval);
    if (::poll(fds.data(), fds.size(), static_cast<int>(wait.count())) <= 0) return;

    for (const auto& p : fds) {
      if (p.revents == 0) continue;
      if (p.fd == out_fd_) {
        if (!drain(out_fd_, result_.out)) out_fd_ = -1;
      } else if (p.fd == err_fd_) {
        if (!drain(err_fd_, result_.err)) err_fd_ = -1;
      } else if (p.fd == in_.native_sink()) {
        feed_input(p.revents);
      }
    }
  }

  void feed_input(short revents) {
    if ((revents & POLLOUT) != 0) {
      ssize_t n = write_without_sigpipe(in_.native_sink(), pending_input_);
      if (n > 0) pending_input_.remove_prefix(static_cast<size_t>(n));
      if (n < 0 && errno != EAGAIN && errno != EINTR) pending_input_ = {};
    } else {
      pending_input_ = {};  // POLLERR: the command closed its stdin
    }
    if (pending_input_.empty()) in_.close();
  }

  bp::child& child_;
  bp::pipe& in_;
  int out_fd_;  // owned by the bp::pipe; -1 here once at EOF
  int err_fd_;
  RunResult& result_;
  std::string_view pending_input_;
  Clock::time_point deadline_;
  Clock::time_point drain_deadline_{};
  Fd pidfd_;  // readable when the child exits; -1 on kernels without pidfd_open
  bool exited_ = false;
};

// Boost's pipes are inheritable, so every other command started meanwhile (from this thread or
// another) would inherit them and keep them open. The child's own ends survive regardless:
// dup2 onto 0/1/2 clears the flag. (bp::limit_handles would be the Boost way, but in 1.81 it
// closes the redirected stdout/stderr too.)
void close_on_exec(int fd) {
  if (fd > STDERR_FILENO) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
}

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

RunResult run(const std::vector<std::string>& argv, const RunOptions& options) {
  auto start = Clock::now();
  std::vector<std::string> command = options.as_user ? as_user_argv(*options.as_user, argv) : argv;
  if (command.empty()) throw std::invalid_argument("run: empty command line");

  // A path is handed to execve as given so that its failure (126 vs 127) is the kernel's.
  std::string exe = command[0].find('/') != std::string::npos ? command[0] : which(command[0]);
  if (exe.empty()) return not_started(127, "run: command not found: " + command[0] + "\n", start);

  // Checked here as well as in the child so the usual case gets a clear message and 126.
  if (!options.cwd.empty() && !std::filesystem::is_directory(options.cwd))
    return not_started(126, "run: cannot enter the working directory " + options.cwd + "\n", start);

  bp::pipe in, out, err;
  for (const bp::pipe* p : {&in, &out, &err}) {
    close_on_exec(p->native_source());
    close_on_exec(p->native_sink());
  }
  std::optional<bp::child> child;
  try {
    std::vector<std::string> args(command.begin() + 1, command.end());
    // clang-format off
    child.emplace(bp::exe = exe, bp::args = args, make_environment(options),
                  bp::std_in < in, bp::std_out > out, bp::std_err > err,
                  ChildSetup(options.cwd));
    // clang-format on
  } catch (const std::system_error& e) {
    int code = e.code().value() == ENOENT ? 127 : 126;
    return not_started(code, "run: cannot start " + exe + ": " + e.what() + "\n", start);
  }

  RunResult result;
  Session(*child, in, out, err, options, start, result).run();
  result.elapsed = since(start);
  return result;
}

std::vector<std::string> as_user_argv(uid_t uid, const std::vector<std::string>& argv) {
  std::vector<std::string> command{"setpriv", "--reuid=" + std::to_string(uid),
                                   "--regid=" + std::to_string(uid), "--clear-groups", "--"};
  command.insert(command.end(), argv.begin(), argv.end());
  return command;
}

std::string which(const std::string& name) {
  if (name.find('/') != std::string::npos) return is_executable_file(name) ? name : "";
  const char* env_path = std::getenv("PATH");
  std::string search = env_path != nullptr ? env_path : "";
  search += ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t start = 0;
  while (start <= search.size()) {
    size_t end = std::min(search.find(':', start), search.size());
    std::string dir = search.substr(start, end - start);
    // An empty entry means the current directory to a shell; tests should not depend on that.
    if (!dir.empty() && is_executable_file(dir + "/" + name)) return dir + "/" + name;
    start = end + 1;
  }
  return "";
}

bool running_as_root() {
  return ::geteuid() == 0;
}

}  // namespace safeinstall::test
