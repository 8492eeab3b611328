#pragma once
// What the supervisor does with each seccomp notification: execs build the process tree and
// meet the script policy, connects and addressed sends are checked for direct egress, and
// refused syscalls are recorded and answered EPERM. Every notification is answered.

#include <sys/types.h>

#include <cerrno>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runner/profile/script_policy.h"
#include "runner/supervise/exec_exits.h"
#include "runner/supervise/process_tree.h"
#include "runner/supervise/read_only_writes.h"
#include "runner/supervise/unix_socket_policy.h"
#include "sandbox/base/fd.h"
#include "sandbox/base/pid_namespace.h"
#include "sandbox/base/proc.h"
#include "sandbox/seccomp/seccomp_notify.h"

namespace safeinstall::runner {

// A connection or datagram aimed past the sandbox's loopback (refused with ENETUNREACH), or
// at a unix socket outside the sandbox's own places (refused with EACCES).
// Where a direct attempt was aimed: an address past loopback, or a unix socket's path.
enum class AttemptKind { inet, unix_socket };
// "inet" or "unix", as the report's network.direct_attempts spell them.
std::string_view to_string(AttemptKind kind);

struct DirectAttempt {
  std::string address;
  std::uint16_t port = 0;
  std::string call;  // connect, sendto, sendmsg, sendmmsg
  pid_t pid = 0;     // inside the sandbox
  std::vector<std::string> argv;
  std::string package;
  AttemptKind kind = AttemptKind::inet;
};

// What was refused: a dangerous system call, or an install script --scripts did not let run.
enum class RefusalKind { syscall, script };

struct RecordedRefusal {
  RefusalKind kind = RefusalKind::syscall;
  std::string what;  // "ptrace(PTRACE_ATTACH, pid 12)", "b@1.0.0 postinstall"
  pid_t pid = 0;     // inside the sandbox
  std::vector<std::string> argv;
  std::string package;
  std::string script;
};

// A write by path into a watched read-only place (a local dependency outside the project),
// which the mount refused with EROFS.
struct WriteAttempt {
  std::string path;  // as the sandbox sees it, symlinks resolved
  std::string call;  // "openat", "mkdir", "rename"…
  pid_t pid = 0;     // inside the sandbox
  std::vector<std::string> argv;
  std::string package;
};

// The errno a direct connection attempt fails with: what the sandbox's loopback-only network
// namespace answers anyway, so a client sees the same failure with recording on or off, at
// once and without a packet leaving the process.
inline constexpr int kDirectAttemptErrno = ENETUNREACH;
// A unix socket outside the sandbox's own places: refused as a permission would be.
inline constexpr int kUnixSocketRefusedErrno = EACCES;

// Who made a call: its pid inside the sandbox, its parent's on the host and inside.
struct ExecLineage {
  pid_t inner = 0;
  pid_t host_ppid = 0;
  pid_t inner_ppid = 0;
};

// The command as init starts it.
struct LaunchedCommand {
  std::vector<std::string> argv;
  std::string cwd;
};

class SyscallRecorder {
 public:
  explicit SyscallRecorder(ScriptPolicy scripts, LaunchedCommand command = {},
                           UnixSocketPolicy sockets = {}, ReadOnlyWatch read_only = {})
      : scripts_(std::move(scripts)),
        command_(std::move(command)),
        sockets_(std::move(sockets)),
        read_only_(std::move(read_only)) {}

  void handle(int listener, const sandbox::Notification& notification);

  // Where the exits of the processes that exec'd are read. With `keep` (a kernel that keeps
  // exit statuses on pidfds), the recorder keeps each one's pidfd and reads them in batches;
  // otherwise each exec hands its tree record, host pid and pidfd to on_exec, whose owner
  // watches for the exit.
  void keep_exits(bool keep) { keep_exits_ = keep; }
  std::function<void(std::size_t record, pid_t host_pid, sandbox::UniqueFd pidfd)> on_exec;
  // The host pid of the sandbox's init. The pid namespace it is 1 in numbers the recorded
  // processes: once one of them can be opened, each pid inside is one ioctl on it rather than
  // a read of /proc/PID/status. Without it (or before Linux 6.11), /proc is read.
  void sandbox_init(pid_t host_pid) { init_host_pid_ = host_pid; }
  bool numbers_pids_through_namespace() const { return !pid_ns_.empty(); }
  // Once no notification can come any more: the exits of the processes still kept. The
  // sandbox's root is let go too, so that nothing of ours holds its mounts.
  void finish() {
    exits_.collect(tree_, true);
    root_.reset();
  }

  ProcessTree& tree() { return tree_; }
  const std::vector<DirectAttempt>& direct_attempts() const { return attempts_; }
  const std::vector<RecordedRefusal>& refusals() const { return refusals_; }
  const std::vector<WriteAttempt>& write_attempts() const { return writes_; }
  std::uint64_t notifications() const { return notifications_; }

 private:
  const std::string& name_of(const sandbox::Notification& n);
  void handle_exec(int listener, const sandbox::Notification& n, bool at);
  void handle_command_exec(int listener, const sandbox::Notification& n, const ExecLineage& ids,
                           sandbox::UniqueFd pidfd);
  void handle_send(int listener, const sandbox::Notification& n, const std::string& call);
  void handle_refused(int listener, const sandbox::Notification& n, const std::string& name);
  void handle_path_write(int listener, const sandbox::Notification& n, const std::string& name);
  ExecLineage lineage(pid_t host_pid, int pidfd);
  ProcIds ids_from_handles(pid_t host_pid, int pidfd);
  pid_t inner_pid_of_parent(pid_t host_ppid);
  const sandbox::PidNamespace& sandbox_pids(pid_t caller);
  bool exec_target_exists(pid_t pid, int dirfd, const std::string& path, bool empty_path);
  int sandbox_root(pid_t caller);
  std::optional<std::size_t> latest_exec_of(pid_t host_pid);
  void watch_exit(const ProcessRecord& added, sandbox::UniqueFd pidfd,
                  std::optional<std::size_t> earlier);

  ScriptPolicy scripts_;
  LaunchedCommand command_;
  bool command_seen_ = false;
  UnixSocketPolicy sockets_;
  ProcessTree tree_;
  bool keep_exits_ = false;
  ExecExits exits_;
  std::vector<DirectAttempt> attempts_;
  std::vector<RecordedRefusal> refusals_;
  ReadOnlyWatch read_only_;
  std::vector<WriteAttempt> writes_;
  std::uint64_t notifications_ = 0;
  std::map<std::pair<std::uint32_t, int>, std::string> names_;
  pid_t init_host_pid_ = 0;
  sandbox::PidNamespace pid_ns_;
  int pid_ns_tries_ = 0;
  // Every process under the filter shares one root (chroot, pivot_root and new mount
  // namespaces are refused), so one handle on it serves every exec's path check.
  sandbox::UniqueFd root_;
};

}  // namespace safeinstall::runner
