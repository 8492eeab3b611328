#include "sandbox/confine/command_spawn.h"

#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>
#include <string>
#include <vector>

#include "sandbox/confine/limits.h"

namespace safeinstall::sandbox {
namespace {

constexpr std::size_t kChildStackBytes = 256 * 1024;

// Everything the child needs, prepared by pid 1: between clone and exec the child shares pid
// 1's memory and may only make system calls (no allocation, no locks).
struct Launch {
  std::vector<char*> argv;
  std::vector<char*> envp;
  const char* cwd = nullptr;
  bool new_session = false;
  std::span<const int> reset_signals;
  Limits limits;
  int error = 0;  // written by the child when a step fails
};

[[noreturn]] void child_failed(Launch& launch, int error) {
  launch.error = error;
  ::_exit(127);
}

// The sandbox's PATH, or execvp's default when it has none.
const char* search_path(char* const* envp) {
  for (; *envp != nullptr; ++envp) {
    if (std::strncmp(*envp, "PATH=", 5) == 0) return *envp + 5;
  }
  return "/bin:/usr/bin";
}

// execvp(3) without its fallback of running a file the kernel cannot execute as a shell
// script (as posix_spawnp does): returns the errno that explains the failure, EACCES when
// some candidate was found but not executable. Candidates are checked with access(2) before
// any execve, so the recording supervisor sees one exec from this (undumpable, unreadable)
// memory: the command's own, not the misses of the search.
int exec_searching_path(const Launch& launch) {
  const char* file = launch.argv[0];
  if (std::strchr(file, '/') != nullptr) {
    if (::access(file, F_OK) == 0) ::execve(file, launch.argv.data(), launch.envp.data());
    return errno;
  }
  bool denied = false;
  std::array<char, PATH_MAX> candidate{};
  std::size_t file_length = std::strlen(file);
  for (const char* dir = search_path(launch.envp.data());;) {
    const char* end = ::strchrnul(dir, ':');
    auto dir_length = static_cast<std::size_t>(end - dir);
    if (dir_length == 0) {  // an empty entry is the current directory
      dir = ".";
      dir_length = 1;
    }
    if (dir_length + 1 + file_length < candidate.size()) {
      std::memcpy(candidate.data(), dir, dir_length);
      candidate[dir_length] = '/';
      std::memcpy(candidate.data() + dir_length + 1, file, file_length + 1);
      if (::access(candidate.data(), X_OK) == 0)
        ::execve(candidate.data(), launch.argv.data(), launch.envp.data());
      if (errno == EACCES) {
        denied = true;
      } else if (errno != ENOENT && errno != ENOTDIR && errno != ESTALE && errno != ENODEV &&
                 errno != ETIMEDOUT) {
        return errno;
      }
    }
    if (*end == '\0') break;
    dir = end + 1;
  }
  return denied ? EACCES : ENOENT;
}

int start_command(void* argument) {
  auto& launch = *static_cast<Launch*>(argument);
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int sig : launch.reset_signals) ::sigaction(sig, &default_action, nullptr);
  if (launch.new_session && ::setsid() < 0) child_failed(launch, errno);
  if (::chdir(launch.cwd) != 0) child_failed(launch, errno);
  ::closefrom(3);
  if (int error = apply_command_limits(launch.limits); error != 0) child_failed(launch, error);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  child_failed(launch, exec_searching_path(launch));
}

// The child's stack, released when the spawn is over (the command runs on its own by then).
class ChildStack {
 public:
  ChildStack()
      : base_(::mmap(nullptr, kChildStackBytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0)) {}
  ~ChildStack() {
    if (base_ != MAP_FAILED) ::munmap(base_, kChildStackBytes);
  }
  ChildStack(const ChildStack&) = delete;
  ChildStack& operator=(const ChildStack&) = delete;
  bool valid() const { return base_ != MAP_FAILED; }
  void* top() const { return static_cast<char*>(base_) + kChildStackBytes; }

 private:
  void* base_;
};

}  // namespace

int spawn_command(const Spec& spec, std::span<const int> reset_signals, pid_t& pid) {
  Launch launch;
  for (const auto& a : spec.argv) launch.argv.push_back(const_cast<char*>(a.c_str()));
  launch.argv.push_back(nullptr);
  for (const auto& e : spec.env) launch.envp.push_back(const_cast<char*>(e.c_str()));
  launch.envp.push_back(nullptr);
  launch.cwd = spec.cwd.c_str();
  launch.new_session = !spec.keep_terminal;
  launch.reset_signals = reset_signals;
  launch.limits = spec.limits;

  ChildStack stack;
  if (!stack.valid()) return errno;
  // CLONE_VFORK: pid 1 sleeps until the child has exec'd or exited, so `launch` is still
  // there for it and its error is known on return.
  pid = ::clone(start_command, stack.top(), CLONE_VM | CLONE_VFORK | SIGCHLD, &launch);
  if (pid < 0) return errno;
  if (launch.error != 0) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    pid = 0;
    return launch.error;
  }
  return 0;
}

}  // namespace safeinstall::sandbox
