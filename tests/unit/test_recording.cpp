// The recording supervisor's pieces without a sandbox: script policy, attribution, and the
// notification round trip of the recording filter with a real seccomp listener.
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>

#include <array>
#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <optional>

#include "runner/profile/script_policy.h"
#include "runner/supervise/exec_exits.h"
#include "runner/supervise/notification_thread.h"
#include "runner/supervise/process_tree.h"
#include "runner/supervise/read_only_writes.h"
#include "runner/supervise/syscall_recorder.h"
#include "sandbox/base/pid_namespace.h"
#include "sandbox/base/pidfd.h"
#include "sandbox/seccomp/seccomp_filter.h"
#include "sandbox/seccomp/seccomp_notify.h"

using namespace safeinstall;
using runner::LifecycleEnv;
using runner::ProcessRecord;
using runner::ProcessTree;

TEST_CASE("recording: --scripts policies parse and decide") {
  auto all = runner::parse_script_policy("all");
  REQUIRE(all);
  CHECK(all->allows("anything"));
  auto none = runner::parse_script_policy("none");
  REQUIRE(none);
  CHECK_FALSE(none->allows("a"));
  auto some = runner::parse_script_policy("allow:a,@scope/b");
  REQUIRE(some);
  CHECK(some->allows("a"));
  CHECK(some->allows("@scope/b"));
  CHECK_FALSE(some->allows("c"));
  CHECK(some->describe() == "allow:a,@scope/b");
  CHECK_FALSE(runner::parse_script_policy("allow:"));
  CHECK_FALSE(runner::parse_script_policy("allow:a,,b"));
  CHECK_FALSE(runner::parse_script_policy("some"));
}

TEST_CASE("recording: build directories name their package") {
  CHECK(runner::package_from_build_dir(
            "/tmp/pip-install-k2j3/numpy_0123456789abcdef0123456789abcdef/build") == "numpy");
  CHECK(runner::package_from_build_dir(
            "/home/u/.gem/ruby/3.1.0/gems/nokogiri-1.15.4/ext/nokogiri") == "nokogiri@1.15.4");
  CHECK(runner::package_from_build_dir(
            "/root/.cargo/registry/src/index.crates.io-6f17d22bba15001f/ring-0.17.8") ==
        "ring@0.17.8");
  CHECK(runner::package_from_build_dir("/p/node_modules/x").empty());
}

TEST_CASE("recording: attribution comes from the env, else the parent, else the same pid") {
  ProcessTree tree;
  ProcessRecord npm;
  npm.host_pid = 100;
  npm.pid = 2;
  tree.add(npm, {}, 1);
  ProcessRecord script;
  script.host_pid = 101;
  script.pid = 3;
  tree.add(script, LifecycleEnv{"left", "1.0.0", "postinstall"}, 100);
  ProcessRecord child;  // a child whose env lost the variables
  child.host_pid = 102;
  child.pid = 4;
  auto& added = tree.add(child, {}, 101);
  CHECK(added.package == "left@1.0.0");
  CHECK(added.script == "postinstall");
  CHECK(added.ppid == 3);
  ProcessRecord again;  // exec without fork (sh -c 'exec node x.js')
  again.host_pid = 102;
  again.pid = 4;
  auto& re = tree.add(again, {}, 999);
  CHECK(re.package == "left@1.0.0");
  CHECK(tree.find_host(100)->package.empty());
  CHECK(tree.find_inner(4) == &re);
  CHECK(runner::is_install_script("postinstall"));
  CHECK_FALSE(runner::is_install_script("build"));
}

// A child that loads the filter of `mode` and makes `calls`; this process holds its listener
// (taken with pidfd_getfd, as the supervisor does). Closes what it opened when destroyed.
class ChildUnderFilter {
 public:
  template <typename Calls>
  ChildUnderFilter(sandbox::FilterMode mode, Calls calls) {
    int listener_number[2];
    REQUIRE(::pipe(listener_number) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0) {
        auto listener = sandbox::install_seccomp_filter(mode);
        if (listener) {
          int fd = listener->get();
          (void)!::write(listener_number[1], &fd, sizeof fd);
          calls();
        }
      }
      ::_exit(0);
    }
    ::close(listener_number[1]);
    int fd_in_child = -1;
    REQUIRE(::read(listener_number[0], &fd_in_child, sizeof fd_in_child) == sizeof fd_in_child);
    ::close(listener_number[0]);
    pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    REQUIRE(pidfd_ >= 0);
    listener_ = static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd_, fd_in_child, 0));
    REQUIRE(listener_ >= 0);
  }
  ~ChildUnderFilter() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    ::close(pidfd_);
    ::close(listener_);
  }
  ChildUnderFilter(const ChildUnderFilter&) = delete;
  ChildUnderFilter& operator=(const ChildUnderFilter&) = delete;

  int listener() const { return listener_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int pidfd_ = -1;
  int listener_ = -1;
};

TEST_CASE("recording: refused calls are notified, recorded and answered EPERM") {
  int report[2];
  REQUIRE(::pipe(report) == 0);
  runner::SyscallRecorder recorder(runner::ScriptPolicy{});
  {
    ChildUnderFilter child(sandbox::FilterMode::Record, [&] {
      int results[2] = {-1, -1};
      results[0] = ::syscall(SYS_unshare, 0x10000000 /* CLONE_NEWUSER */) < 0 ? errno : 0;
      results[1] = ::syscall(SYS_getpid) > 0 ? 0 : errno;  // not notified: just runs
      (void)!::write(report[1], results, sizeof results);
    });
    auto notification = sandbox::receive_notification(child.listener());
    REQUIRE(notification);
    REQUIRE(*notification);
    recorder.handle(child.listener(), **notification);
  }
  int results[2] = {};
  REQUIRE(::read(report[0], results, sizeof results) == sizeof results);
  CHECK(results[0] == EPERM);
  CHECK(results[1] == 0);
  REQUIRE(recorder.refusals().size() == 1);
  CHECK(recorder.refusals()[0].kind == runner::RefusalKind::syscall);
  CHECK(recorder.refusals()[0].what == "unshare(0x10000000)");
  for (int fd : report) ::close(fd);
}

TEST_CASE("recording: the path arguments a writing call names") {
  std::array<std::uint64_t, 6> a{10, 20, 30, 40, 50, 60};
  auto args = [&](const char* call) {
    std::vector<std::pair<int, std::uint64_t>> out;
    for (const auto& p : runner::written_path_arguments(call, a))
      out.emplace_back(p.dirfd, p.address);
    return out;
  };
  using V = std::vector<std::pair<int, std::uint64_t>>;
  CHECK(args("open") == V{{AT_FDCWD, 10}});
  CHECK(args("openat") == V{{10, 20}});
  CHECK(args("rename") == V{{AT_FDCWD, 10}, {AT_FDCWD, 20}});
  CHECK(args("renameat2") == V{{10, 20}, {30, 40}});
  CHECK(args("symlink") == V{{AT_FDCWD, 20}});
  CHECK(args("symlinkat") == V{{20, 30}});
  CHECK(args("linkat") == V{{30, 40}});
  CHECK(args("getpid").empty());
  // An ia32 caller's AT_FDCWD arrives as a 32-bit -100.
  std::array<std::uint64_t, 6> narrow{0xffffff9cULL, 20};
  CHECK(runner::written_path_arguments("mkdirat", narrow)[0].dirfd == AT_FDCWD);
  for (const auto& call : sandbox::path_write_syscalls()) {
    INFO(call);
    CHECK_FALSE(runner::written_path_arguments(call, a).empty());
  }
}

// Writes by path are notified only in RecordWrites, an open for reading not at all; the
// recorder keeps those aimed into a watched directory and lets every one continue.
TEST_CASE("recording: writes by path into a watched directory are recorded and continue") {
  char pattern[] = "/tmp/si-rec-XXXXXX";
  REQUIRE(::mkdtemp(pattern) != nullptr);
  std::string dir = pattern;
  std::string watched = dir + "/watched";
  REQUIRE(::mkdir(watched.c_str(), 0700) == 0);
  runner::SyscallRecorder recorder(runner::ScriptPolicy{}, {}, {},
                                   runner::ReadOnlyWatch({watched}));
  std::vector<std::string> calls;
  {
    ChildUnderFilter child(sandbox::FilterMode::RecordWrites, [&] {
      ::close(::open("/etc/hostname", O_RDONLY | O_CLOEXEC));               // not notified
      ::close(::open((watched + "/x").c_str(), O_WRONLY | O_CREAT, 0600));  // recorded
      ::mkdir((dir + "/other").c_str(), 0700);                              // notified only
    });
    for (;;) {
      struct pollfd p {
        child.listener(), POLLIN, 0
      };
      // Until the child is gone (hung up), or a call this test does not expect waits.
      if (::poll(&p, 1, 10000) != 1 || (p.revents & POLLIN) == 0) break;
      auto notification = sandbox::receive_notification(child.listener());
      if (!notification || !*notification) continue;
      calls.push_back(sandbox::syscall_name((*notification)->arch, (*notification)->syscall));
      recorder.handle(child.listener(), **notification);
    }
  }
  CHECK(calls.size() == 2);
  CHECK(calls.at(0) == "openat");
  REQUIRE(recorder.write_attempts().size() == 1);
  CHECK(recorder.write_attempts()[0].path == watched + "/x");
  CHECK(recorder.write_attempts()[0].call == "openat");
  CHECK(recorder.refusals().empty());
  // Each call went on in the kernel.
  CHECK(::access((watched + "/x").c_str(), F_OK) == 0);
  CHECK(::access((dir + "/other").c_str(), F_OK) == 0);
  std::filesystem::remove_all(dir);
}

// On kernels that keep exit statuses on pidfds (6.15+), an exit is read whenever it suits the
// supervisor, even after the parent reaped the process and its pid went free.
TEST_CASE("recording: exits are read from kept pidfds after their parents reaped them") {
  if (!sandbox::pidfd_keeps_exit_status()) {
    WARN("this kernel keeps no exit status on pidfds (Linux 6.15+): nothing to read them from");
    return;
  }
  ProcessTree tree;
  runner::ExecExits exits;
  std::vector<pid_t> children;
  auto keep = [&](pid_t child) {
    ProcessRecord record;
    record.host_pid = child;
    record.pid = child;
    const ProcessRecord& added = tree.add(std::move(record), LifecycleEnv{}, ::getpid());
    exits.keep(tree.index_of(added), sandbox::open_pidfd(child));
    children.push_back(child);
  };
  for (int code : {0, 3, 42}) {
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) ::_exit(code);
    keep(child);
  }
  pid_t sleeper = ::fork();
  REQUIRE(sleeper >= 0);
  if (sleeper == 0) {
    ::pause();
    ::_exit(0);
  }
  keep(sleeper);
  CHECK(exits.running(3));
  ::kill(sleeper, SIGKILL);
  for (pid_t child : children) ::waitpid(child, nullptr, 0);
  CHECK_FALSE(exits.running(3));
  exits.collect(tree, false);  // fewer than a batch: nothing is read yet
  CHECK(exits.kept() == 4);
  exits.collect(tree, true);
  CHECK(exits.kept() == 0);
  const auto& records = tree.records();
  CHECK(records[0].exit_code == 0);
  CHECK(records[1].exit_code == 3);
  CHECK(records[2].exit_code == 42);
  CHECK_FALSE(records[3].exit_code);
  CHECK(records[3].signal == SIGKILL);
}

namespace {

void spawn_and_wait(const char* const* argv) {
  pid_t child = ::fork();
  if (child == 0) {
    ::execv(argv[0], const_cast<char* const*>(argv));
    ::_exit(127);
  }
  ::waitpid(child, nullptr, 0);
}

}  // namespace

// The thread serves until the last process under the filter is gone; each exec is in the tree
// with its parent, and its exit where the kernel keeps it on the pidfd.
// Both ways of numbering the callers: from /proc/PID/status, and (told the init of the pid
// namespace they live in, here this test's own) through that namespace held open. A path that
// names no file (as a PATH search tries) is not recorded either way.
TEST_CASE("recording: the notification thread records each exec with its parent and exit") {
  runner::SyscallRecorder recorder(runner::ScriptPolicy{});
  bool through_namespace = false;
  SECTION("pids read from /proc") {}
  SECTION("pids numbered through the pid namespace") {
    through_namespace = true;
    recorder.sandbox_init(1);
  }
  bool kept = sandbox::pidfd_keeps_exit_status();
  recorder.keep_exits(kept);
  std::size_t handed_out = 0;
  recorder.on_exec = [&](std::size_t, pid_t, sandbox::UniqueFd) { ++handed_out; };
  std::optional<ChildUnderFilter> child;
  child.emplace(sandbox::FilterMode::Record, [] {
    static const char* const shell[] = {
        "/bin/sh", "-c", "/nonexistent/tool 2>/dev/null; /bin/true; /bin/true; exit 5", nullptr};
    static const char* const killed[] = {"/bin/sh", "-c", "kill -9 $$", nullptr};
    spawn_and_wait(shell);
    spawn_and_wait(killed);
  });
  runner::NotificationThread thread(sandbox::UniqueFd(::dup(child->listener())), recorder);
  pid_t filtered = child->pid();
  child.reset();  // reaped: nothing uses the filter any more
  thread.join();
  CHECK_FALSE(thread.error());
  if (through_namespace && sandbox::PidNamespace::of_process(::getpid()).number_of(1) == 1)
    CHECK(recorder.numbers_pids_through_namespace());
  else
    CHECK_FALSE(recorder.numbers_pids_through_namespace());
  CHECK(recorder.notifications() == 5);
  const auto& records = recorder.tree().records();
  REQUIRE(records.size() == 4);
  CHECK(records[0].argv ==
        std::vector<std::string>{"/bin/sh", "-c",
                                 "/nonexistent/tool 2>/dev/null; /bin/true; /bin/true; exit 5"});
  CHECK(records[0].pid == records[0].host_pid);
  CHECK(records[0].ppid == filtered);
  CHECK(records[1].argv == std::vector<std::string>{"/bin/true"});
  CHECK(records[2].argv == std::vector<std::string>{"/bin/true"});
  CHECK(records[1].ppid == records[0].pid);
  CHECK(records[2].ppid == records[0].pid);
  CHECK(records[1].pid != records[2].pid);
  CHECK(records[3].argv == std::vector<std::string>{"/bin/sh", "-c", "kill -9 $$"});
  CHECK(records[3].ppid == records[0].ppid);
  if (kept) {
    CHECK(handed_out == 0);
    CHECK(records[0].exit_code == 5);
    CHECK(records[1].exit_code == 0);
    CHECK(records[2].exit_code == 0);
    CHECK(records[3].signal == SIGKILL);
  } else {
    CHECK(handed_out == 4);
  }
}
