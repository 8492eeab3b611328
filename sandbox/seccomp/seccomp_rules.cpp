#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sandbox/base/fd.h"
#include "sandbox/seccomp/seccomp_filter.h"

#include <asm/ioctls.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <sys/socket.h>

#include <cerrno>
#include <memory>

namespace safeinstall::sandbox {
namespace {

struct FilterFree {
  void operator()(scmp_filter_ctx ctx) const { seccomp_release(ctx); }
};
using Filter = std::unique_ptr<void, FilterFree>;

const std::vector<std::string> kRefused = {
    // Looking into or steering other processes.
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "process_madvise",
    // Changing the filesystem view.
    "mount", "umount", "umount2", "pivot_root", "move_mount", "open_tree", "fsopen", "fsconfig",
    "fsmount", "fspick", "mount_setattr", "chroot",
    // Leaving or creating namespaces.
    "unshare", "setns",
    // Kernel keyrings, BPF, perf, userfaultfd and io_uring: large attack surface.
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd", "io_uring_setup",
    "io_uring_enter", "io_uring_register",
    // Host administration.
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot",
    "swapon", "swapoff", "acct", "syslog", "quotactl", "quotactl_fd", "iopl", "ioperm",
    "settimeofday", "clock_settime", "clock_adjtime", "vhangup", "uselib", "lookup_dcookie",
    "nfsservctl", "fanotify_init",
    // File handles bypass path-based access checks.
    "name_to_handle_at", "open_by_handle_at"};

// Syscalls that do not exist on this architecture are skipped, not errors.
Result<> add(scmp_filter_ctx ctx, std::uint32_t action, const char* name,
             std::initializer_list<scmp_arg_cmp> args = {}) {
  int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) return {};
  int rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(args.size()),
                                  args.size() ? args.begin() : nullptr);
  if (rc != 0) {
    errno = -rc;
    return sys_error(std::string("add seccomp rule for ") + name);
  }
  return {};
}

Result<> refuse_plain_syscalls(scmp_filter_ctx ctx, std::uint32_t deny) {
  for (const auto& name : kRefused) {
    if (auto r = add(ctx, deny, name.c_str()); !r) return r;
  }
  return {};
}

// Threads and forks stay allowed; only clone flags that create namespaces are refused.
// clone3 passes its flags in memory the filter cannot read, so it reports ENOSYS and libc
// falls back to clone.
Result<> refuse_namespace_clones(scmp_filter_ctx ctx, std::uint32_t deny) {
  constexpr std::uint64_t kNamespaceFlags[] = {CLONE_NEWNS,  CLONE_NEWCGROUP, CLONE_NEWUTS,
                                               CLONE_NEWIPC, CLONE_NEWUSER,   CLONE_NEWPID,
                                               CLONE_NEWNET, CLONE_NEWTIME};
  for (std::uint64_t flag : kNamespaceFlags) {
    if (auto r = add(ctx, deny, "clone", {SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)}); !r) return r;
  }
  return add(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3");
}

// Execution-domain flags such as ADDR_NO_RANDOMIZE or READ_IMPLIES_EXEC weaken exploits'
// hardest obstacles. Only the query (0xffffffff) is allowed: libseccomp cannot compare one
// argument twice in a rule, so "PER_LINUX or the query" is not expressible, and no install
// tool needs to set its persona.
Result<> refuse_personality_changes(scmp_filter_ctx ctx, std::uint32_t deny) {
  return add(ctx, deny, "personality", {SCMP_A0(SCMP_CMP_NE, 0xffffffffULL)});
}

// TIOCSTI pushes keystrokes into the invoker's terminal; TIOCLINUX can read its screen.
// The kernel compares the request as 32 bits, so the filter does too.
Result<> refuse_terminal_injection(scmp_filter_ctx ctx, std::uint32_t deny) {
  for (std::uint64_t request :
       {static_cast<std::uint64_t>(TIOCSTI), static_cast<std::uint64_t>(TIOCLINUX)}) {
    if (auto r = add(ctx, deny, "ioctl", {SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffULL, request)}); !r)
      return r;
  }
  return {};
}

// Only the families package managers use: unix, IPv4, IPv6, and routing netlink (which
// getaddrinfo and interface listing need). Raw packets, vsock, kernel crypto, key
// management and the rest are refused. Each refused family is its own rule because a rule
// may compare an argument only once; anything above the highest known family is refused too.
Result<> refuse_unusual_sockets(scmp_filter_ctx ctx, std::uint32_t deny) {
  constexpr int kHighestFamily = 63;
  for (int family = 0; family <= kHighestFamily; ++family) {
    if (family == AF_UNIX || family == AF_INET || family == AF_INET6 || family == AF_NETLINK)
      continue;
    if (auto r =
            add(ctx, deny, "socket", {SCMP_A0(SCMP_CMP_EQ, static_cast<std::uint64_t>(family))});
        !r)
      return r;
  }
  if (auto r = add(ctx, deny, "socket", {SCMP_A0(SCMP_CMP_GT, kHighestFamily)}); !r) return r;
  return add(ctx, deny, "socket",
             {SCMP_A0(SCMP_CMP_EQ, AF_NETLINK), SCMP_A2(SCMP_CMP_NE, 0 /* NETLINK_ROUTE */)});
}

// x32 and ia32 syscalls enter the same kernel through other tables: a filter that only
// covered the native numbers could be bypassed by switching ABI.
Result<> add_secondary_architectures(scmp_filter_ctx ctx) {
  for (std::uint32_t arch : {SCMP_ARCH_X86, SCMP_ARCH_X32}) {
    if (seccomp_arch_native() != SCMP_ARCH_X86_64) break;
    if (int rc = seccomp_arch_add(ctx, arch); rc != 0 && rc != -EEXIST) {
      errno = -rc;
      return sys_error("add a secondary architecture to the seccomp filter");
    }
  }
  return {};
}

// Recorded calls the supervisor lets continue: every exec (the process tree and the script
// policy), every connect, and every datagram sent with an explicit address. sendto with a
// null address is an ordinary send on a connected socket and stays in the kernel; sendmsg
// keeps its address in memory, so all of it is notified.
Result<> notify_recorded_calls(scmp_filter_ctx ctx) {
  for (const char* name : {"execve", "execveat", "connect", "sendmsg", "sendmmsg"}) {
    if (auto r = add(ctx, SCMP_ACT_NOTIFY, name); !r) return r;
  }
  return add(ctx, SCMP_ACT_NOTIFY, "sendto", {SCMP_A4(SCMP_CMP_NE, 0)});
}

const std::vector<std::string> kPathWrites = {
    "open",    "openat",    "creat",    "openat2",  "mkdir",     "mkdirat",     "rmdir",
    "unlink",  "unlinkat",  "rename",   "renameat", "renameat2", "link",        "linkat",
    "symlink", "symlinkat", "mknod",    "mknodat",  "truncate",  "chmod",       "fchmodat",
    "chown",   "lchown",    "fchownat", "setxattr", "lsetxattr", "removexattr", "lremovexattr",
    "utimes",  "utimensat", "futimesat"};

// Calls that write by path, for RecordWrites. An open that only reads stays in the kernel:
// rules on one call are OR'ed, so each flag that writes is a rule of its own.
Result<> notify_path_writes(scmp_filter_ctx ctx) {
  constexpr std::uint64_t kWriting[] = {O_WRONLY, O_RDWR, O_CREAT, O_TRUNC};
  for (const auto& name : kPathWrites) {
    if (name == "open" || name == "openat") {
      for (std::uint64_t flag : kWriting) {
        auto flags = name == "open" ? SCMP_A1(SCMP_CMP_MASKED_EQ, flag, flag)
                                    : SCMP_A2(SCMP_CMP_MASKED_EQ, flag, flag);
        if (auto r = add(ctx, SCMP_ACT_NOTIFY, name.c_str(), {flags}); !r) return r;
      }
      continue;
    }
    if (auto r = add(ctx, SCMP_ACT_NOTIFY, name.c_str()); !r) return r;
  }
  return {};
}

Result<Filter> build_filter(FilterMode mode) {
  // A refused call fails with EPERM in the kernel, or is notified to the supervisor, which
  // records the attempt and answers EPERM itself.
  const std::uint32_t deny = mode != FilterMode::Enforce ? SCMP_ACT_NOTIFY : SCMP_ACT_ERRNO(EPERM);
  Filter ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) return plain_error("initialise the seccomp filter");
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
      rc != 0) {
    errno = -rc;
    return sys_error("configure the seccomp filter");
  }
  if (auto r = add_secondary_architectures(ctx.get()); !r) return propagate(r);
  for (auto step : {refuse_plain_syscalls, refuse_namespace_clones, refuse_personality_changes,
                    refuse_terminal_injection, refuse_unusual_sockets}) {
    if (auto r = step(ctx.get(), deny); !r) return propagate(r);
  }
  if (mode != FilterMode::Enforce) {
    if (auto r = notify_recorded_calls(ctx.get()); !r) return propagate(r);
  }
  if (mode == FilterMode::RecordWrites) {
    if (auto r = notify_path_writes(ctx.get()); !r) return propagate(r);
  }
  return ctx;
}

}  // namespace

const std::vector<std::string>& refused_syscalls() {
  return kRefused;
}

const std::vector<std::string>& path_write_syscalls() {
  return kPathWrites;
}

Result<std::vector<sock_filter>> compile_seccomp_program(FilterMode mode) {
  auto filter = build_filter(mode);
  if (!filter) return propagate(filter);
  UniqueFd memory(::memfd_create("seccomp-program", MFD_CLOEXEC));
  if (!memory) return sys_error("create a buffer for the seccomp program");
  if (int rc = seccomp_export_bpf(filter->get(), memory.get()); rc != 0) {
    errno = -rc;
    return sys_error("export the seccomp program");
  }
  off_t size = ::lseek(memory.get(), 0, SEEK_END);
  if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0)
    return plain_error("the exported seccomp program has an unexpected size");
  std::vector<sock_filter> program(static_cast<std::size_t>(size) / sizeof(sock_filter));
  if (::pread(memory.get(), program.data(), static_cast<std::size_t>(size), 0) != size)
    return sys_error("read back the seccomp program");
  return program;
}

}  // namespace safeinstall::sandbox
