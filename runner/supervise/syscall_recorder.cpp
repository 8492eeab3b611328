#include "runner/supervise/syscall_recorder.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>

#include "runner/argv_bounds.h"
#include "runner/supervise/unix_socket_policy.h"
#include "sandbox/base/pidfd.h"
#include "sandbox/base/proc.h"
#include "sandbox/seccomp/process_memory.h"
#include "sandbox/seccomp/seccomp_filter.h"

namespace safeinstall::runner {
namespace {

using sandbox::Notification;
using sandbox::ProcessMemory;

constexpr std::size_t kMaxArgs = 256;
constexpr std::size_t kMaxArgBytes = 4096;
constexpr std::size_t kMaxEnv = 4096;
constexpr std::size_t kMaxSends = 16;
// Refused calls and direct attempts kept per run, each kind: a hostile loop makes them by the
// million, and every one is refused whether it is kept or not.
constexpr std::size_t kMaxKeptEach = 4096;

// What a refused call or a direct attempt keeps of its caller's argv: bounded as a recorded
// process's is, since a hostile loop can make thousands of them.
std::vector<std::string> running_argv(pid_t pid) {
  const ArgvBounds bounds;
  auto argv = read_proc_argv(pid, bounds.max_total_bytes);
  bound_argv(argv, bounds);
  return argv;
}

std::size_t pointer_size(std::uint32_t arch) {
  return arch == AUDIT_ARCH_I386 ? 4 : 8;
}

// Only the lifecycle variables are read in full; the rest of the environment is skimmed.
LifecycleEnv read_lifecycle_env(const ProcessMemory& memory, std::uint64_t envp) {
  LifecycleEnv env;
  static constexpr std::array<std::pair<std::string_view, std::string LifecycleEnv::*>, 3> kWanted{{
      {"npm_package_name=", &LifecycleEnv::package_name},
      {"npm_package_version=", &LifecycleEnv::package_version},
      {"npm_lifecycle_event=", &LifecycleEnv::event},
  }};
  auto pointers = memory.pointer_array_at(envp, kMaxEnv);
  // Each variable's first bytes in one read, not one read per variable: as many as the
  // longest prefix wanted, to tell the wanted ones from the rest (npm gives its scripts dozens
  // of npm_config_* variables). Only a wanted one is read whole.
  constexpr std::size_t kLongestPrefix = 20;
  auto heads = memory.prefixes_at(pointers, kLongestPrefix);
  for (std::size_t i = 0; i < pointers.size(); ++i) {
    for (const auto& [prefix, field] : kWanted) {
      if (!heads[i].starts_with(prefix)) continue;
      auto text = memory.string_at(pointers[i], 1024);
      if (text && text->starts_with(prefix)) env.*field = text->substr(prefix.size());
    }
  }
  return env;
}

std::string lexically_joined(const std::string& cwd, const std::string& path) {
  if (path.empty() || path.starts_with("/") || cwd.empty()) return path;
  return cwd + (cwd.ends_with("/") ? "" : "/") + path;
}

struct Destination {
  std::string address;  // an IP address, or a unix socket's path
  std::uint16_t port = 0;
  bool outside = false;  // past the sandbox's loopback, or a socket not of the sandbox's own
  bool unix_socket = false;
};

// AF_INET/AF_INET6 destinations other than loopback (and the unspecified address, which the
// kernel treats as the local host) leave the sandbox's network namespace.
std::optional<Destination> parse_destination(const char* raw, std::size_t size) {
  if (size < sizeof(sa_family_t)) return std::nullopt;
  sa_family_t family = 0;
  std::memcpy(&family, raw, sizeof family);
  char text[INET6_ADDRSTRLEN] = {};
  if (family == AF_INET && size >= sizeof(sockaddr_in)) {
    sockaddr_in sa{};
    std::memcpy(&sa, raw, sizeof sa);
    ::inet_ntop(AF_INET, &sa.sin_addr, text, sizeof text);
    std::uint32_t host = ntohl(sa.sin_addr.s_addr);
    bool local = (host >> 24) == 127 || host == 0;
    return Destination{text, ntohs(sa.sin_port), !local};
  }
  if (family == AF_INET6 && size >= sizeof(sockaddr_in6)) {
    sockaddr_in6 sa{};
    std::memcpy(&sa, raw, sizeof sa);
    ::inet_ntop(AF_INET6, &sa.sin6_addr, text, sizeof text);
    const auto* b = sa.sin6_addr.s6_addr;
    bool mapped_loopback = IN6_IS_ADDR_V4MAPPED(&sa.sin6_addr) && b[12] == 127;
    bool local = IN6_IS_ADDR_LOOPBACK(&sa.sin6_addr) || IN6_IS_ADDR_UNSPECIFIED(&sa.sin6_addr) ||
                 mapped_loopback;
    return Destination{text, ntohs(sa.sin6_port), !local};
  }
  return std::nullopt;
}

std::optional<Destination> read_destination(const ProcessMemory& memory, std::uint64_t address,
                                            std::uint64_t length, pid_t pid,
                                            const UnixSocketPolicy& sockets) {
  if (address == 0 || length == 0) return std::nullopt;
  std::array<char, sizeof(sockaddr_storage)> raw{};
  std::size_t size = std::min<std::uint64_t>(length, raw.size());
  if (!memory.read(address, raw.data(), size)) return std::nullopt;
  if (auto path = sockets.outside(pid, raw.data(), size)) return Destination{*path, 0, true, true};
  return parse_destination(raw.data(), size);
}

// msghdr's name and its length, for 64-bit and ia32 callers.
std::optional<Destination> read_message_destination(const ProcessMemory& memory,
                                                    std::uint64_t msghdr, bool narrow, pid_t pid,
                                                    const UnixSocketPolicy& sockets) {
  std::uint64_t name = 0;
  std::uint32_t length = 0;
  if (narrow) {
    std::uint32_t fields[2] = {};
    if (!memory.read(msghdr, fields, sizeof fields)) return std::nullopt;
    name = fields[0];
    length = fields[1];
  } else {
    if (!memory.read(msghdr, &name, sizeof name) ||
        !memory.read(msghdr + 8, &length, sizeof length))
      return std::nullopt;
  }
  return read_destination(memory, name, length, pid, sockets);
}

std::string hex(std::uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(value));
  return text;
}

std::string ptrace_request(std::uint64_t request) {
  switch (request) {
    case 0:
      return "PTRACE_TRACEME";
    case 1:
      return "PTRACE_PEEKTEXT";
    case 2:
      return "PTRACE_PEEKDATA";
    case 4:
      return "PTRACE_POKETEXT";
    case 5:
      return "PTRACE_POKEDATA";
    case 16:
      return "PTRACE_ATTACH";
    case 0x4206:
      return "PTRACE_SEIZE";
    default:
      return std::to_string(request);
  }
}

std::string socket_family(std::uint64_t family) {
  switch (family) {
    case AF_PACKET:
      return "AF_PACKET";
    case AF_NETLINK:
      return "AF_NETLINK";
    case AF_KEY:
      return "AF_KEY";
    case AF_ALG:
      return "AF_ALG";
    case AF_VSOCK:
      return "AF_VSOCK";
    case AF_BLUETOOTH:
      return "AF_BLUETOOTH";
    default:
      return "family " + std::to_string(family);
  }
}

// The arguments that say what the call tried to do.
std::string describe_call(const std::string& name, const Notification& n,
                          const ProcessMemory& memory) {
  const auto& a = n.args;
  auto text = [&](std::uint64_t address) {
    auto s = memory.string_at(address, 256);
    return s ? "\"" + *s + "\"" : std::string("NULL");
  };
  if (name == "ptrace")
    return name + "(" + ptrace_request(a[0]) + ", pid " + std::to_string(a[1]) + ")";
  if (name == "mount") return name + "(" + text(a[0]) + ", " + text(a[1]) + ", " + text(a[2]) + ")";
  if (name == "umount" || name == "umount2" || name == "chroot" || name == "pivot_root")
    return name + "(" + text(a[0]) + ")";
  if (name == "socket")
    return name + "(" + socket_family(a[0]) + ", type " + std::to_string(a[1] & 0xff) + ")";
  if (name == "ioctl")
    return name + "(fd " + std::to_string(a[0]) + ", " + hex(a[1] & 0xffffffff) + ")";
  if (name == "unshare" || name == "clone" || name == "personality")
    return name + "(" + hex(a[0]) + ")";
  if (name == "setns") return name + "(fd " + std::to_string(a[0]) + ", " + hex(a[1]) + ")";
  return name + "(" + hex(a[0]) + ", " + hex(a[1]) + ")";
}

}  // namespace

std::string_view to_string(AttemptKind kind) {
  return kind == AttemptKind::unix_socket ? "unix" : "inet";
}

void SyscallRecorder::handle(int listener, const Notification& n) {
  ++notifications_;
  const std::string& name = name_of(n);
  if (name == "execve") return handle_exec(listener, n, false);
  if (name == "execveat") return handle_exec(listener, n, true);
  if (name == "connect" || name == "sendto" || name == "sendmsg" || name == "sendmmsg")
    return handle_send(listener, n, name);
  if (std::ranges::find(sandbox::path_write_syscalls(), name) !=
      sandbox::path_write_syscalls().end())
    return handle_path_write(listener, n, name);
  handle_refused(listener, n, name);
}

// The names are looked up once per architecture and number: the filter notifies a fixed few.
const std::string& SyscallRecorder::name_of(const Notification& n) {
  auto key = std::pair(n.arch, n.syscall);
  auto known = names_.find(key);
  if (known == names_.end())
    known = names_.emplace(key, sandbox::syscall_name(n.arch, n.syscall)).first;
  return known->second;
}

void SyscallRecorder::handle_exec(int listener, const Notification& n, bool at) {
  ProcessMemory memory(n.pid, pointer_size(n.arch));
  const auto& a = n.args;
  int dirfd = at ? static_cast<int>(a[0]) : AT_FDCWD;
  std::uint64_t path_at = at ? a[1] : a[0];
  std::uint64_t argv_at = at ? a[2] : a[1];
  std::uint64_t envp_at = at ? a[3] : a[2];
  bool empty_path = at && (a[4] & AT_EMPTY_PATH) != 0;

  // The path and both pointer arrays in one read, as far as each is readable.
  memory.prefetch({ProcessMemory::string_head(path_at, kMaxArgBytes),
                   memory.pointer_array_head(argv_at, kMaxArgs),
                   memory.pointer_array_head(envp_at, kMaxEnv)});
  auto path_read = memory.string_at(path_at, kMaxArgBytes);
  std::string path = path_read.value_or("");
  // A miss of a PATH search is let go before anything else is read.
  if (path_read && !exec_target_exists(n.pid, dirfd, path, empty_path))
    return sandbox::answer_continue(listener, n.id);
  // Opened while the caller waits, so that once it is known to be alive below, this is its
  // handle and not a recycled pid's.
  sandbox::UniqueFd pidfd = sandbox::open_pidfd(n.pid);
  ExecLineage ids = lineage(n.pid, pidfd.get());
  if (!path_read && ids.inner_ppid == 1 && !command_seen_)
    return handle_command_exec(listener, n, ids, std::move(pidfd));
  if (!path_read && !exec_target_exists(n.pid, dirfd, path, empty_path))
    return sandbox::answer_continue(listener, n.id);

  ProcessRecord record;
  record.host_pid = n.pid;
  record.started = std::chrono::system_clock::now();
  record.argv = memory.strings_at(argv_at, kMaxArgs, kMaxArgBytes);
  record.cwd = read_proc_link(proc_path(n.pid, "cwd"));
  record.exe = empty_path ? read_proc_link(proc_path(n.pid, "fd/") + std::to_string(dirfd))
                          : lexically_joined(record.cwd, path);
  LifecycleEnv env = read_lifecycle_env(memory, envp_at);
  record.pid = ids.inner;
  record.ppid = ids.inner_ppid;
  if (ids.inner_ppid == 1) command_seen_ = true;
  // The reads above are only meaningful if the caller is still the one that asked.
  if (!sandbox::notification_alive(listener, n.id)) return;

  bool refuse = is_install_script(env.event) && !scripts_.allows(env.package_name);
  record.refused = refuse;
  // The answer depends on the policy only: an exec let through goes on before the tree's
  // bookkeeping, which nothing it does can change now that its memory has been read.
  if (!refuse) sandbox::answer_continue(listener, n.id);
  std::optional<std::size_t> earlier = latest_exec_of(n.pid);
  ProcessRecord& added = tree_.add(std::move(record), env, ids.host_ppid);
  if (refuse) {
    if (refusals_.size() < kMaxKeptEach)
      refusals_.push_back({RefusalKind::script, added.package + " " + added.script, added.pid,
                           added.argv, added.package, added.script});
    return sandbox::answer_error(listener, n.id, EPERM);
  }
  watch_exit(added, std::move(pidfd), earlier);
}

// The first exec of init's child runs in init's undumpable memory, which an unprivileged
// supervisor cannot read; init only execs a file it found executable, so this is the
// command itself, as the supervisor asked for it.
void SyscallRecorder::handle_command_exec(int listener, const Notification& n,
                                          const ExecLineage& ids, sandbox::UniqueFd pidfd) {
  command_seen_ = true;
  ProcessRecord record;
  record.host_pid = n.pid;
  record.started = std::chrono::system_clock::now();
  record.argv = command_.argv;
  record.cwd = command_.cwd;
  record.exe = command_.argv.empty() ? std::string() : command_.argv.front();
  record.pid = ids.inner;
  record.ppid = ids.inner_ppid;
  if (!sandbox::notification_alive(listener, n.id)) return;
  sandbox::answer_continue(listener, n.id);
  ProcessRecord& added = tree_.add(std::move(record), LifecycleEnv{}, ids.host_ppid);
  watch_exit(added, std::move(pidfd), std::nullopt);
}

// Who made the call: from its pidfd (the parent) and the sandbox's pid namespace (its pid
// inside) where the kernel tells them, else from its /proc status.
ExecLineage SyscallRecorder::lineage(pid_t host_pid, int pidfd) {
  ProcIds self = ids_from_handles(host_pid, pidfd);
  if (self.inner == 0 || self.ppid == 0) self = read_proc_ids(host_pid);
  return {self.inner, self.ppid, inner_pid_of_parent(self.ppid)};
}

ProcIds SyscallRecorder::ids_from_handles(pid_t host_pid, int pidfd) {
  if (pidfd < 0) return {};
  const sandbox::PidNamespace& pids = sandbox_pids(host_pid);
  if (pids.empty()) return {};
  auto info = sandbox::read_pidfd_info(pidfd);
  if (!info || info->ppid == 0) return {};
  return {pids.number_of(host_pid), info->ppid};
}

// The parent's pid inside: translated while it is known to be that process (it is the
// caller's parent as the caller waits), else from its own exec's record while that process is
// known to run still (its pid then cannot be another's), else from its /proc status.
pid_t SyscallRecorder::inner_pid_of_parent(pid_t host_ppid) {
  if (pid_t inner = pid_ns_.number_of(host_ppid); inner != 0) return inner;
  const ProcessRecord* parent = tree_.find_host(host_ppid);
  if (parent != nullptr && exits_.running(tree_.index_of(*parent))) return parent->pid;
  return read_proc_ids(host_ppid).inner;
}

// The sandbox's pid namespace, opened through the first caller that lets it be (the first
// exec runs in init's undumpable memory) and kept once init is 1 in it. A kernel that cannot
// translate is asked a few times only.
const sandbox::PidNamespace& SyscallRecorder::sandbox_pids(pid_t caller) {
  constexpr int kMaxTries = 8;
  if (!pid_ns_.empty() || init_host_pid_ <= 0 || pid_ns_tries_ >= kMaxTries) return pid_ns_;
  auto candidate = sandbox::PidNamespace::of_process(caller);
  if (candidate.empty()) return pid_ns_;
  ++pid_ns_tries_;
  if (candidate.number_of(init_host_pid_) == 1) pid_ns_ = std::move(candidate);
  return pid_ns_;
}

// Whether an exec's path names an existing file, as the process sees it. A PATH search
// tries execve in each directory until one exists; the misses are not recorded. An absolute
// path is looked up from the sandbox's root held open, the same walk as through
// /proc/PID/root without finding the process in /proc first.
bool SyscallRecorder::exec_target_exists(pid_t pid, int dirfd, const std::string& path,
                                         bool empty_path) {
  if (empty_path) return true;
  std::string base;
  if (path.starts_with("/")) {
    if (int root = sandbox_root(pid); root >= 0) {
      std::size_t relative = path.find_first_not_of('/');
      return ::faccessat(root, relative == std::string::npos ? "." : path.c_str() + relative, F_OK,
                         0) == 0;
    }
    base = proc_path(pid, "root");
  } else if (dirfd == AT_FDCWD) {
    base = proc_path(pid, "cwd") + "/";
  } else {
    base = proc_path(pid, "fd/") + std::to_string(dirfd) + "/";
  }
  return ::access((base + path).c_str(), F_OK) == 0;
}

// The sandbox's root, opened through the first caller that lets it be; -1 until then.
int SyscallRecorder::sandbox_root(pid_t caller) {
  if (!root_)
    root_.reset(::open(proc_path(caller, "root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  return root_.get();
}

std::optional<std::size_t> SyscallRecorder::latest_exec_of(pid_t host_pid) {
  const ProcessRecord* latest = tree_.find_host(host_pid);
  return latest ? std::optional(tree_.index_of(*latest)) : std::nullopt;
}

// A process's exit is its latest exec's: when the same process exec'd before (sh -c 'exec
// node x.js'), that earlier record's pidfd is let go; one of a recycled pid is kept.
void SyscallRecorder::watch_exit(const ProcessRecord& added, sandbox::UniqueFd pidfd,
                                 std::optional<std::size_t> earlier) {
  std::size_t index = tree_.index_of(added);
  if (keep_exits_) {
    if (earlier && exits_.running(*earlier)) exits_.forget(*earlier);
    exits_.keep(index, std::move(pidfd));
    exits_.collect(tree_, false);
  } else if (on_exec) {
    on_exec(index, added.host_pid, std::move(pidfd));
  }
}

void SyscallRecorder::handle_send(int listener, const Notification& n, const std::string& call) {
  ProcessMemory memory(n.pid, pointer_size(n.arch));
  const auto& a = n.args;
  bool narrow = n.arch == AUDIT_ARCH_I386;
  std::vector<Destination> outside;
  auto check = [&](std::optional<Destination> d) {
    if (d && d->outside) outside.push_back(*d);
  };
  if (call == "connect") {
    check(read_destination(memory, a[1], a[2], n.pid, sockets_));
  } else if (call == "sendto") {
    check(read_destination(memory, a[4], a[5], n.pid, sockets_));
  } else if (call == "sendmsg") {
    check(read_message_destination(memory, a[1], narrow, n.pid, sockets_));
  } else {
    // struct mmsghdr: a msghdr followed by an unsigned int, padded to 64 (ia32: 32) bytes.
    std::uint64_t stride = narrow ? 32 : 64;
    for (std::uint64_t i = 0; i < std::min<std::uint64_t>(a[2], kMaxSends); ++i)
      check(read_message_destination(memory, a[1] + i * stride, narrow, n.pid, sockets_));
  }
  if (outside.empty()) return sandbox::answer_continue(listener, n.id);

  std::vector<std::string> argv = running_argv(n.pid);
  pid_t inner = read_proc_ids(n.pid).inner;
  if (!sandbox::notification_alive(listener, n.id)) return;
  std::string package;
  if (auto* p = tree_.find_host(n.pid)) package = p->package;
  for (const auto& d : outside) {
    if (attempts_.size() >= kMaxKeptEach) break;
    attempts_.push_back({d.address, d.port, call, inner, argv, package,
                         d.unix_socket ? AttemptKind::unix_socket : AttemptKind::inet});
  }
  bool any_unix = std::ranges::any_of(outside, &Destination::unix_socket);
  sandbox::answer_error(listener, n.id, any_unix ? kUnixSocketRefusedErrno : kDirectAttemptErrno);
}

// Recorded when it aims into a watched read-only place, and always let continue: the mount
// refuses it (EROFS) or the kernel's own checks decide, exactly as without recording.
void SyscallRecorder::handle_path_write(int listener, const Notification& n,
                                        const std::string& name) {
  std::optional<std::string> target;
  if (!read_only_.empty() && writes_.size() < kMaxKeptEach) {
    ProcessMemory memory(n.pid, pointer_size(n.arch));
    for (const auto& argument : written_path_arguments(name, n.args)) {
      auto path = memory.string_at(argument.address, kMaxArgBytes);
      if (path && !path->empty()) target = read_only_.watched_target(n.pid, argument.dirfd, *path);
      if (target) break;
    }
  }
  if (!target) return sandbox::answer_continue(listener, n.id);
  std::vector<std::string> argv = running_argv(n.pid);
  pid_t inner = read_proc_ids(n.pid).inner;
  bool alive = sandbox::notification_alive(listener, n.id);
  sandbox::answer_continue(listener, n.id);
  if (!alive) return;
  std::string package;
  if (auto* p = tree_.find_host(n.pid)) package = p->package;
  writes_.push_back({*target, name, inner, std::move(argv), std::move(package)});
}

void SyscallRecorder::handle_refused(int listener, const Notification& n, const std::string& name) {
  ProcessMemory memory(n.pid, pointer_size(n.arch));
  std::string what = describe_call(name, n, memory);
  std::vector<std::string> argv = running_argv(n.pid);
  pid_t inner = read_proc_ids(n.pid).inner;
  bool alive = sandbox::notification_alive(listener, n.id);
  sandbox::answer_error(listener, n.id, EPERM);
  if (!alive) return;
  std::string package, script;
  if (auto* p = tree_.find_host(n.pid)) {
    package = p->package;
    script = p->script;
  }
  if (refusals_.size() < kMaxKeptEach)
    refusals_.push_back({RefusalKind::syscall, what, inner, argv, package, script});
}

}  // namespace safeinstall::runner
