#include "tests/support/terminal.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "sandbox/base/fd.h"

namespace safeinstall::test {
namespace {

using Clock = std::chrono::steady_clock;

std::runtime_error failure(const std::string& what) {
  return std::runtime_error("run_on_terminal: " + what + ": " + std::strerror(errno));
}

// The new terminal, owned by the user who will sit at it.
std::string open_terminal(const sandbox::UniqueFd& master, std::optional<uid_t> user) {
  if (master.get() < 0) throw failure("posix_openpt");
  if (::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0) throw failure("grantpt");
  char name[128];
  if (::ptsname_r(master.get(), name, sizeof name) != 0) throw failure("ptsname");
  if (user && ::chown(name, *user, *user) != 0) throw failure(std::string("chown ") + name);
  return name;
}

// In the child: a session of its own whose controlling terminal is `tty` on 0, 1 and 2.
[[noreturn]] void exec_on_terminal(const std::string& tty, const std::vector<std::string>& argv,
                                   const TerminalOptions& options) {
  ::setsid();
  int fd = ::open(tty.c_str(), O_RDWR);
  if (fd < 0 || ::ioctl(fd, TIOCSCTTY, 0) != 0) ::_exit(126);
  for (int target = 0; target < 3; ++target) ::dup2(fd, target);
  if (fd > 2) ::close(fd);
  if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) ::_exit(126);
  std::vector<std::string> command = options.as_user ? as_user_argv(*options.as_user, argv) : argv;
  std::vector<char*> args, env;
  for (auto& a : command) args.push_back(a.data());
  args.push_back(nullptr);
  std::vector<std::string> environment = options.env;
  for (auto& e : environment) env.push_back(e.data());
  env.push_back(nullptr);
  std::string exe = command[0].find('/') != std::string::npos ? command[0] : which(command[0]);
  ::execve(exe.c_str(), args.data(), env.data());
  ::_exit(127);
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return status;
}

}  // namespace

RunResult run_on_terminal(const std::vector<std::string>& argv, const TerminalOptions& options) {
  if (argv.empty()) throw std::invalid_argument("run_on_terminal: empty command line");
  sandbox::UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  std::string tty = open_terminal(master, options.as_user);
  auto start = Clock::now();
  pid_t pid = ::fork();
  if (pid < 0) throw failure("fork");
  if (pid == 0) exec_on_terminal(tty, argv, options);

  RunResult result;
  std::size_t next_exchange = 0, answered_up_to = 0;
  int status = 0;
  bool exited = false;
  while (true) {
    auto left = options.timeout - (Clock::now() - start);
    if (left <= Clock::duration::zero()) {
      ::kill(pid, SIGKILL);
      result.timed_out = true;
    }
    pollfd p{master.get(), POLLIN, 0};
    int ready = ::poll(&p, 1, exited ? 0 : 100);
    if (ready > 0) {
      char buffer[4096];
      ssize_t n = ::read(master.get(), buffer, sizeof buffer);
      // EIO: every holder of the terminal's other side has closed it.
      if (n > 0) result.out.append(buffer, static_cast<std::size_t>(n));
      if (n <= 0 && exited) break;
    } else if (exited) {
      break;
    }
    if (next_exchange < options.exchanges.size()) {
      const auto& exchange = options.exchanges[next_exchange];
      auto at = result.out.find(exchange.prompt, answered_up_to);
      if (at != std::string::npos) {
        if (::write(master.get(), exchange.reply.data(), exchange.reply.size()) < 0)
          throw failure("write to the terminal");
        answered_up_to = at + exchange.prompt.size();
        ++next_exchange;
      }
    }
    if (!exited && ::waitpid(pid, &status, WNOHANG) == pid) exited = true;
  }
  result.exit_code = decode_status(status);
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  return result;
}

}  // namespace safeinstall::test
