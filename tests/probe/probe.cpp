// si-probe: tries exactly one thing a hostile install script might try, and says what the
// kernel answered, as one line on stdout:
//
//   OK <detail>                  exit 0   the attempt worked
//   DENIED <ERRNO_NAME> <detail> exit 1   the attempt failed with that errno
//   (usage message on stderr)    exit 2   bad arguments
//
// except `exit CODE` (prints OK, exits CODE) and `kill-self SIGNUM` (dies of the signal).
//
// It runs inside the sandbox, so it links nothing from the project and calls the kernel as
// directly as libc allows: a test that sees "DENIED EPERM" must be able to trust that the EPERM
// came from the sandbox, not from a wrapper's own policy. Where a real attempt would damage the
// host when the probe runs outside the sandbox (the tests run it there too, as the control),
// the arguments are chosen so the permission check is the only thing that can succeed; the
// --help text says which actions do that.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/io_uring.h>
#include <linux/kexec.h>
#include <linux/keyctl.h>
#include <linux/netlink.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <linux/tiocl.h>
#include <linux/userfaultfd.h>
#include <linux/vm_sockets.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace {

// ---------------------------------------------------------------------------------------------
// Reporting

struct Outcome {
  bool ok = false;
  int error = 0;
  std::string detail;
  // Only `exit CODE` uses this: it must be able to exit with any code, not just 0 or 1.
  std::optional<int> exit_code;
};

Outcome ok(std::string detail = {}) {
  return {true, 0, std::move(detail), {}};
}
Outcome denied(int error, std::string detail = {}) {
  return {false, error, std::move(detail), {}};
}
// The errno of the call that just failed; read it before anything else can overwrite it.
Outcome failed(std::string detail = {}) {
  return denied(errno, std::move(detail));
}

struct UsageError {
  std::string message;
};

std::string errno_name(int error) {
  struct Entry {
    int value;
    const char* name;
  };
  static constexpr Entry kNames[] = {
      {EPERM, "EPERM"},
      {ENOENT, "ENOENT"},
      {ESRCH, "ESRCH"},
      {EINTR, "EINTR"},
      {EIO, "EIO"},
      {ENXIO, "ENXIO"},
      {E2BIG, "E2BIG"},
      {ENOEXEC, "ENOEXEC"},
      {EBADF, "EBADF"},
      {ECHILD, "ECHILD"},
      {EAGAIN, "EAGAIN"},
      {ENOMEM, "ENOMEM"},
      {EACCES, "EACCES"},
      {EFAULT, "EFAULT"},
      {EBUSY, "EBUSY"},
      {EEXIST, "EEXIST"},
      {EXDEV, "EXDEV"},
      {ENODEV, "ENODEV"},
      {ENOTDIR, "ENOTDIR"},
      {EISDIR, "EISDIR"},
      {EINVAL, "EINVAL"},
      {ENFILE, "ENFILE"},
      {EMFILE, "EMFILE"},
      {ENOTTY, "ENOTTY"},
      {ETXTBSY, "ETXTBSY"},
      {EFBIG, "EFBIG"},
      {ENOSPC, "ENOSPC"},
      {ESPIPE, "ESPIPE"},
      {EROFS, "EROFS"},
      {EMLINK, "EMLINK"},
      {EPIPE, "EPIPE"},
      {ERANGE, "ERANGE"},
      {ENAMETOOLONG, "ENAMETOOLONG"},
      {ENOSYS, "ENOSYS"},
      {ENOTEMPTY, "ENOTEMPTY"},
      {ELOOP, "ELOOP"},
      {ENODATA, "ENODATA"},
      {EOVERFLOW, "EOVERFLOW"},
      {ENOTSOCK, "ENOTSOCK"},
      {EDESTADDRREQ, "EDESTADDRREQ"},
      {EMSGSIZE, "EMSGSIZE"},
      {EPROTOTYPE, "EPROTOTYPE"},
      {ENOPROTOOPT, "ENOPROTOOPT"},
      {EPROTONOSUPPORT, "EPROTONOSUPPORT"},
      {ESOCKTNOSUPPORT, "ESOCKTNOSUPPORT"},
      {EOPNOTSUPP, "EOPNOTSUPP"},
      {EAFNOSUPPORT, "EAFNOSUPPORT"},
      {EADDRINUSE, "EADDRINUSE"},
      {EADDRNOTAVAIL, "EADDRNOTAVAIL"},
      {ENETDOWN, "ENETDOWN"},
      {ENETUNREACH, "ENETUNREACH"},
      {ECONNABORTED, "ECONNABORTED"},
      {ECONNRESET, "ECONNRESET"},
      {ENOBUFS, "ENOBUFS"},
      {EISCONN, "EISCONN"},
      {ENOTCONN, "ENOTCONN"},
      {ETIMEDOUT, "ETIMEDOUT"},
      {ECONNREFUSED, "ECONNREFUSED"},
      {EHOSTDOWN, "EHOSTDOWN"},
      {EHOSTUNREACH, "EHOSTUNREACH"},
      {EALREADY, "EALREADY"},
      {EINPROGRESS, "EINPROGRESS"},
      {ESTALE, "ESTALE"},
      {EDQUOT, "EDQUOT"},
      {ENOMEDIUM, "ENOMEDIUM"},
      {ENOKEY, "ENOKEY"},
      {EKEYREJECTED, "EKEYREJECTED"},
      {EKEYREVOKED, "EKEYREVOKED"},
      {EKEYEXPIRED, "EKEYEXPIRED"},
  };
  for (const auto& entry : kNames) {
    if (entry.value == error) return entry.name;
  }
  return "ERRNO_" + std::to_string(error);
}

// Details may carry bytes from files, environment values and directory names the probe does
// not control; escaping keeps the report to exactly one line a test can split.
std::string escape(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (byte >= 0x20 && byte < 0x7f) {
      out += c;
    } else {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    }
  }
  return out;
}

// One write(2) for the whole line, so the line is never interleaved with or split from output
// of children that were forked with the same stdout.
void write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text.remove_prefix(static_cast<size_t>(n));
  }
}

int report(const Outcome& outcome) {
  std::string line = outcome.ok ? "OK " + outcome.detail
                                : "DENIED " + errno_name(outcome.error) +
                                      (outcome.detail.empty() ? "" : " " + outcome.detail);
  write_all(STDOUT_FILENO, line + "\n");
  if (outcome.exit_code) return *outcome.exit_code;
  return outcome.ok ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------
// Small RAII and EINTR helpers

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_;
};

// A forked helper process: killed and reaped however the action ends, so the probe never
// leaves a process behind that the sandbox would then report as a survivor.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, __WALL) < 0 && errno == EINTR) {
    }
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_;
};

int open_retry(const char* path, int flags, mode_t mode = 0) {
  int fd;
  do {
    fd = ::open(path, flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

pid_t waitpid_retry(pid_t pid, int* status, int options) {
  pid_t r;
  do {
    r = ::waitpid(pid, status, options);
  } while (r < 0 && errno == EINTR);
  return r;
}

void sleep_seconds(long seconds) {
  timespec left{seconds, 0};
  while (::nanosleep(&left, &left) < 0 && errno == EINTR) {
  }
}

long parse_number(std::string_view text, const char* what) {
  long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size())
    throw UsageError{std::string(what) + " must be a number: " + std::string(text)};
  return value;
}

// Forks a child that only waits to be killed; it dies with the probe even if the probe is
// SIGKILLed before Child's destructor runs.
pid_t fork_sleeper() {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (;;) ::pause();
  }
  return pid;
}

// Raw clone/clone3 children run on a copy of the parent's stack, like fork; they only exit.
[[noreturn]] void child_exit() {
  ::_exit(0);
}

Outcome reap_clone_child(long pid, const char* what) {
  if (pid < 0) return failed(what);
  if (pid == 0) child_exit();
  int status = 0;
  waitpid_retry(static_cast<pid_t>(pid), &status, __WALL);
  return ok("child " + std::to_string(pid));
}

using Args = std::span<const char* const>;

// ---------------------------------------------------------------------------------------------
// Files

Outcome do_write(Args args) {
  Fd fd(open_retry(args[0], O_WRONLY | O_CREAT | O_TRUNC, 0644));
  if (!fd.valid()) return failed(args[0]);
  static constexpr std::string_view kContent = "probe\n";
  ssize_t n;
  do {
    n = ::write(fd.get(), kContent.data(), kContent.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return failed(args[0]);
  return ok("wrote " + std::to_string(n) + " bytes to " + escape(args[0]));
}

Outcome do_read(Args args) {
  Fd fd(open_retry(args[0], O_RDONLY));
  if (!fd.valid()) return failed(args[0]);
  char buffer[64];
  ssize_t n;
  do {
    n = ::read(fd.get(), buffer, sizeof buffer);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return failed(args[0]);
  return ok(escape(std::string_view(buffer, static_cast<size_t>(n))));
}

Outcome do_list(Args args) {
  DIR* dir = ::opendir(args[0]);
  if (dir == nullptr) return failed(args[0]);
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.push_back(escape(name));
  }
  int error = errno;
  ::closedir(dir);
  if (error != 0) return denied(error, args[0]);
  // readdir order depends on the filesystem; sorted output makes runs comparable.
  std::sort(names.begin(), names.end());
  std::string joined;
  for (const auto& name : names) joined += (joined.empty() ? "" : ",") + name;
  return ok(joined);
}

Outcome do_mkdir(Args args) {
  if (::mkdir(args[0], 0755) < 0) return failed(args[0]);
  return ok(escape(args[0]));
}

// What a hostile install does to its staging dir: deeper, more and stranger than any tool.

// N nested directories "d" from the current directory down, each entered as it is made: no
// path names the bottom, which is the point.
Outcome do_deep_dirs(Args args) {
  long depth = parse_number(args[0], "N");
  for (long level = 0; level < depth; ++level) {
    if (::mkdir("d", 0755) < 0) return failed("mkdir at level " + std::to_string(level));
    if (::chdir("d") < 0) return failed("chdir at level " + std::to_string(level));
  }
  return ok(std::to_string(depth) + " levels");
}

// N empty files in DIR (made if missing), 1000 to a subdirectory.
Outcome do_many_files(Args args) {
  long count = parse_number(args[1], "N");
  if (::mkdir(args[0], 0755) < 0 && errno != EEXIST) return failed(args[0]);
  for (long i = 0; i < count; ++i) {
    std::string dir = std::string(args[0]) + "/" + std::to_string(i / 1000);
    if (i % 1000 == 0 && ::mkdir(dir.c_str(), 0755) < 0) return failed(dir);
    Fd fd(open_retry((dir + "/" + std::to_string(i)).c_str(), O_WRONLY | O_CREAT, 0644));
    if (!fd.valid()) return failed("file " + std::to_string(i));
  }
  return ok(std::to_string(count) + " files");
}

Outcome do_set_xattr(Args args) {
  if (::lsetxattr(args[0], args[1], args[2], std::strlen(args[2]), 0) < 0)
    return failed(std::string(args[0]) + " " + args[1]);
  return ok(std::string(args[1]) + " on " + escape(args[0]));
}

// POSIX ACLs on PATH, in the kernel's xattr form (linux/posix_acl_xattr.h): an access ACL
// with a named-user entry (only the sandbox's own uid is mapped, so it names that one), and
// on a directory a default ACL giving others rwx, which every file later made in it
// inherits whatever the umask says.
Outcome do_set_acl(Args args) {
  struct Entry {
    std::uint16_t tag, perm;
    std::uint32_t id;
  };
  constexpr std::uint32_t kUndefined = 0xffffffff;
  const std::uint32_t header = 2;                   // POSIX_ACL_XATTR_VERSION
  const Entry entries[] = {{0x01, 7, kUndefined},   // ACL_USER_OBJ rwx
                           {0x02, 7, ::getuid()},   // ACL_USER (own uid) rwx
                           {0x04, 5, kUndefined},   // ACL_GROUP_OBJ r-x
                           {0x10, 7, kUndefined},   // ACL_MASK rwx
                           {0x20, 7, kUndefined}};  // ACL_OTHER rwx
  std::string value(reinterpret_cast<const char*>(&header), sizeof header);
  value.append(reinterpret_cast<const char*>(entries), sizeof entries);
  if (::lsetxattr(args[0], "system.posix_acl_access", value.data(), value.size(), 0) < 0)
    return failed(std::string(args[0]) + " access ACL");
  struct stat st {};
  if (::lstat(args[0], &st) == 0 && S_ISDIR(st.st_mode) &&
      ::lsetxattr(args[0], "system.posix_acl_default", value.data(), value.size(), 0) < 0)
    return failed(std::string(args[0]) + " default ACL");
  return ok("ACLs on " + escape(args[0]));
}

// ---------------------------------------------------------------------------------------------
// Environment

Outcome do_env(Args args) {
  const char* value = ::getenv(args[0]);
  if (value == nullptr) return denied(ENOENT, std::string(args[0]) + " is not set");
  return ok(escape(value));
}

Outcome do_env_dump(Args) {
  std::vector<std::string> names;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text = *entry;
    names.push_back(escape(text.substr(0, text.find('='))));
  }
  std::sort(names.begin(), names.end());
  std::string joined;
  for (const auto& name : names) joined += (joined.empty() ? "" : ",") + name;
  return ok(joined);
}

// ---------------------------------------------------------------------------------------------
// Other processes

Outcome attach_and_detach(pid_t pid) {
  if (::ptrace(PTRACE_ATTACH, pid, nullptr, nullptr) < 0)
    return failed("pid " + std::to_string(pid));
  int status = 0;
  waitpid_retry(pid, &status, __WALL);
  ::ptrace(PTRACE_DETACH, pid, nullptr, nullptr);
  return ok("attached to " + std::to_string(pid));
}

Outcome do_ptrace(Args args) {
  return attach_and_detach(static_cast<pid_t>(parse_number(args[0], "PID")));
}

Outcome do_ptrace_sibling(Args) {
  Child child(fork_sleeper());
  if (child.pid() < 0) return failed("fork");
  return attach_and_detach(child.pid());
}

// Lives at the same address in the forked child, which is what makes reading it a real test.
const char kSecret[] = "si-probe-secret";

Outcome do_process_vm_read_sibling(Args) {
  Child child(fork_sleeper());
  if (child.pid() < 0) return failed("fork");
  char buffer[sizeof kSecret] = {};
  iovec local{buffer, sizeof buffer};
  iovec remote{const_cast<char*>(kSecret), sizeof kSecret};
  ssize_t n = ::process_vm_readv(child.pid(), &local, 1, &remote, 1, 0);
  if (n < 0) return failed("pid " + std::to_string(child.pid()));
  return ok("read " + std::to_string(n) + " bytes: " + escape(std::string_view(buffer)));
}

// ---------------------------------------------------------------------------------------------
// Mounts and namespaces

Outcome do_mount_tmpfs(Args args) {
  if (::mount("si-probe", args[0], "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k") < 0)
    return failed(args[0]);
  // Succeeding proves the point; leaving the mount would hide the directory from the caller.
  ::umount2(args[0], MNT_DETACH);
  return ok("mounted and unmounted tmpfs on " + escape(args[0]));
}

Outcome do_umount(Args args) {
  if (::umount2(args[0], 0) < 0) return failed(args[0]);
  return ok("unmounted " + escape(args[0]));
}

Outcome do_unshare_user(Args) {
  if (::unshare(CLONE_NEWUSER) < 0) return failed("unshare(CLONE_NEWUSER)");
  return ok("new user namespace");
}

Outcome do_unshare_net(Args) {
  if (::unshare(CLONE_NEWNET) < 0) return failed("unshare(CLONE_NEWNET)");
  return ok("new network namespace");
}

Outcome do_clone_newuser(Args) {
  // The raw syscall, because glibc's clone() wrapper needs a separate stack and the filter has
  // to catch the flag on the syscall itself, whoever calls it.
  long pid = ::syscall(SYS_clone, static_cast<unsigned long>(CLONE_NEWUSER | SIGCHLD), nullptr,
                       nullptr, nullptr, 0UL);
  return reap_clone_child(pid, "clone(CLONE_NEWUSER)");
}

// The kernel's struct clone_args (version 0, 64 bytes). Spelled out here because
// <linux/sched.h> collides with glibc's <sched.h>.
struct CloneArgs {
  std::uint64_t flags;
  std::uint64_t pidfd;
  std::uint64_t child_tid;
  std::uint64_t parent_tid;
  std::uint64_t exit_signal;
  std::uint64_t stack;
  std::uint64_t stack_size;
  std::uint64_t tls;
};

Outcome do_clone3(Args) {
  CloneArgs clone_args{};
  clone_args.exit_signal = SIGCHLD;
  long pid = ::syscall(SYS_clone3, &clone_args, sizeof clone_args);
  return reap_clone_child(pid, "clone3");
}

Outcome do_setns(Args args) {
  Fd fd(open_retry(args[0], O_RDONLY));
  if (!fd.valid()) return failed(std::string("open ") + args[0]);
  if (::setns(fd.get(), 0) < 0) return failed(args[0]);
  return ok("joined " + escape(args[0]));
}

Outcome do_chroot(Args args) {
  if (::chroot(args[0]) < 0) return failed(args[0]);
  return ok("chrooted to " + escape(args[0]));
}

// ---------------------------------------------------------------------------------------------
// Terminals

// Runs `request` on stdin, and when stdin is not a terminal, on the controlling terminal. A
// sandbox filter refuses the request before the kernel looks at the descriptor, so stdin's
// answer already tells EPERM from ENOTTY; /dev/tty is what an attacker would go for next.
template <typename Request>
Outcome on_terminal(const char* what, Request request) {
  if (request(STDIN_FILENO) == 0) return ok(std::string(what) + " on stdin");
  int stdin_error = errno;
  if (stdin_error != ENOTTY) return denied(stdin_error, std::string(what) + " on stdin");
  Fd tty(open_retry("/dev/tty", O_RDWR | O_NOCTTY));
  if (!tty.valid()) return denied(stdin_error, std::string(what) + " on stdin (no /dev/tty)");
  if (request(tty.get()) < 0) return failed(std::string(what) + " on /dev/tty");
  return ok(std::string(what) + " on /dev/tty");
}

Outcome do_tiocsti(Args) {
  return on_terminal("TIOCSTI", [](int fd) {
    char c = 'x';
    int r = ::ioctl(fd, TIOCSTI, &c);
    // The injected byte would otherwise be read by the shell of whoever runs the tests.
    if (r == 0) ::tcflush(fd, TCIFLUSH);
    return r;
  });
}

Outcome do_tioclinux(Args) {
  return on_terminal("TIOCLINUX", [](int fd) {
    // Reading the shift state is harmless; the filter must refuse TIOCLINUX as a whole.
    char subcode = TIOCL_GETSHIFTSTATE;
    return ::ioctl(fd, TIOCLINUX, &subcode);
  });
}

// ---------------------------------------------------------------------------------------------
// Sockets

Outcome try_socket(int domain, int type, int protocol, const char* what) {
  Fd fd(::socket(domain, type | SOCK_CLOEXEC, protocol));
  if (!fd.valid()) return failed(what);
  return ok(what);
}

Outcome do_socket_packet(Args) {
  return try_socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL), "AF_PACKET");
}
Outcome do_socket_vsock(Args) {
  return try_socket(AF_VSOCK, SOCK_STREAM, 0, "AF_VSOCK");
}
Outcome do_socket_alg(Args) {
  return try_socket(AF_ALG, SOCK_SEQPACKET, 0, "AF_ALG");
}
Outcome do_socket_key(Args) {
  return try_socket(AF_KEY, SOCK_RAW, 2 /* PF_KEY_V2 */, "AF_KEY");
}
Outcome do_socket_netlink_route(Args) {
  return try_socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, "NETLINK_ROUTE");
}
Outcome do_socket_netlink_audit(Args) {
  return try_socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT, "NETLINK_AUDIT");
}
Outcome do_socket_inet(Args) {
  return try_socket(AF_INET, SOCK_STREAM, 0, "AF_INET");
}
Outcome do_socket_unix(Args) {
  return try_socket(AF_UNIX, SOCK_STREAM, 0, "AF_UNIX");
}

struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_UNSPEC;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// Numeric addresses only: name resolution is itself network traffic, which a probe action
// must not do behind the caller's back.
Address parse_address(const char* ip, const char* port_text) {
  long port = parse_number(port_text, "PORT");
  if (port < 0 || port > 65535) throw UsageError{"PORT out of range: " + std::string(port_text)};
  Address address;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
  if (::inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    address.length = sizeof(sockaddr_in);
    address.family = AF_INET;
  } else if (::inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    address.length = sizeof(sockaddr_in6);
    address.family = AF_INET6;
  } else {
    throw UsageError{"not a numeric IPv4 or IPv6 address: " + std::string(ip)};
  }
  return address;
}

long elapsed_ms(std::chrono::steady_clock::time_point since) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now() - since)
                               .count());
}

// Waits for a non-blocking connect to finish; returns 0 or the errno it failed with.
int finish_connect(int fd, std::chrono::steady_clock::time_point started) {
  constexpr long kTimeoutMs = 3000;
  for (;;) {
    long left = kTimeoutMs - elapsed_ms(started);
    if (left <= 0) return ETIMEDOUT;
    pollfd p{fd, POLLOUT, 0};
    int r = ::poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return errno;
    if (r == 0) return ETIMEDOUT;
    int error = 0;
    socklen_t length = sizeof error;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) < 0) return errno;
    return error;
  }
}

Outcome do_connect(Args args) {
  Address address = parse_address(args[0], args[1]);
  std::string payload = args.size() > 2 ? args[2] : "probe\n";
  std::string target = std::string(args[0]) + " " + args[1];
  auto started = std::chrono::steady_clock::now();
  Fd fd(::socket(address.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return failed("socket");
  int error = 0;
  if (::connect(fd.get(), address.get(), address.length) < 0) {
    error = (errno == EINPROGRESS || errno == EINTR) ? finish_connect(fd.get(), started) : errno;
  }
  std::string took = std::to_string(elapsed_ms(started)) + " ms";
  if (error != 0) return denied(error, target + " after " + took);
  // Sending something lets the sink's log show what a leaking connection would carry.
  ssize_t sent = ::send(fd.get(), payload.data(), payload.size(), MSG_NOSIGNAL);
  if (sent < 0) return failed(target + " connected in " + took + ", send failed");
  return ok(target + " connected in " + took + ", sent " + std::to_string(sent) + " bytes");
}

Outcome do_udp_send(Args args) {
  Address address = parse_address(args[0], args[1]);
  std::string payload = args.size() > 2 ? args[2] : "probe";
  Fd fd(::socket(address.family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return failed("socket");
  ssize_t sent;
  do {
    sent = ::sendto(fd.get(), payload.data(), payload.size(), MSG_NOSIGNAL, address.get(),
                    address.length);
  } while (sent < 0 && errno == EINTR);
  std::string target = std::string(args[0]) + " " + args[1];
  if (sent < 0) return failed(target);
  return ok(target + " sent " + std::to_string(sent) + " bytes");
}

// Name resolution, where an action asks for it by name: the sandbox's resolver (its
// /etc/resolv.conf and /etc/hosts), exactly as any program there would use it.
struct Resolution {
  std::vector<std::string> addresses;  // numeric, in getaddrinfo's order, no duplicates
  int error = 0;                       // an errno standing for the getaddrinfo failure
  std::string detail;
};

Resolution resolve_name(const char* name, int family) {
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  Resolution out;
  int rc = ::getaddrinfo(name, nullptr, &hints, &found);
  if (rc != 0) {
    // EAI_NONAME / EAI_NODATA: no such name; EAI_AGAIN: no answer in time; else EIO.
    out.error = (rc == EAI_NONAME || rc == EAI_NODATA) ? ENOENT : rc == EAI_AGAIN ? EAGAIN : EIO;
    if (rc == EAI_SYSTEM) out.error = errno;
    out.detail = std::string(name) + ": " + ::gai_strerror(rc);
    return out;
  }
  for (addrinfo* entry = found; entry != nullptr; entry = entry->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* raw =
        entry->ai_family == AF_INET
            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(entry->ai_addr)->sin_addr)
            : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(entry->ai_addr)->sin6_addr);
    if (::inet_ntop(entry->ai_family, raw, text, sizeof text) == nullptr) continue;
    if (std::find(out.addresses.begin(), out.addresses.end(), text) == out.addresses.end())
      out.addresses.emplace_back(text);
  }
  ::freeaddrinfo(found);
  return out;
}

Outcome do_resolve(Args args) {
  Resolution resolution = resolve_name(args[0], AF_UNSPEC);
  if (resolution.error != 0) return denied(resolution.error, resolution.detail);
  std::string list;
  for (const auto& address : resolution.addresses) list += (list.empty() ? "" : ",") + address;
  return ok(list);
}

void put16(std::string& out, size_t value) {
  out += static_cast<char>((value >> 8) & 0xff);
  out += static_cast<char>(value & 0xff);
}

// A TLS 1.3-style ClientHello: enough for anything that reads SNI, not a real handshake
// (nobody on the other end can finish it, nor is meant to).
std::string client_hello(std::string_view server_name) {
  std::string extensions;
  if (server_name != "-") {
    std::string list;
    list += '\0';  // host_name
    put16(list, server_name.size());
    list += server_name;
    std::string data;
    put16(data, list.size());
    data += list;
    put16(extensions, 0x0000);  // server_name
    put16(extensions, data.size());
    extensions += data;
  }
  const std::string fixed[] = {
      std::string("\x00\x2b\x00\x03\x02\x03\x04", 7),      // supported_versions: TLS 1.3
      std::string("\x00\x0a\x00\x04\x00\x02\x00\x1d", 8),  // supported_groups: x25519
      std::string("\x00\x0d\x00\x04\x00\x02\x04\x03", 8),  // signature_algorithms
  };
  for (const auto& extension : fixed) extensions += extension;
  std::string key_share("\x00\x33\x00\x26\x00\x24\x00\x1d\x00\x20", 10);
  key_share += std::string(32, '\x42');
  extensions += key_share;

  std::string body("\x03\x03", 2);  // legacy_version
  body += std::string(32, '\x5a');  // random
  body += '\x20';
  body += std::string(32, '\x17');                             // legacy_session_id
  body += std::string("\x00\x06\x13\x01\x13\x02\xc0\x2f", 8);  // cipher_suites
  body += std::string("\x01\x00", 2);                          // compression: null
  put16(body, extensions.size());
  body += extensions;

  std::string handshake;
  handshake += '\x01';  // client_hello
  handshake += static_cast<char>((body.size() >> 16) & 0xff);
  put16(handshake, body.size());
  handshake += body;
  std::string record("\x16\x03\x01", 3);
  put16(record, handshake.size());
  return record + handshake;
}

bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// One read with a deadline; returns the count, 0 at end of stream, -1 with errno set.
ssize_t read_within(int fd, char* buffer, size_t size,
                    std::chrono::steady_clock::time_point until) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    until - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      errno = ETIMEDOUT;
      return -1;
    }
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) continue;
    ssize_t n = ::read(fd, buffer, size);
    if (n < 0 && errno == EINTR) continue;
    return n;
  }
}

Outcome do_tls_hello(Args args) {
  const bool via_proxy = args.size() == 5;
  if (args.size() == 4) throw UsageError{"give both PROXY_IP and PROXY_PORT"};
  std::string target = std::string(args[0]) + " " + args[1];
  Address address;
  if (via_proxy) {
    address = parse_address(args[3], args[4]);
  } else {
    sockaddr_in6 probe6{};
    sockaddr_in probe4{};
    bool numeric = ::inet_pton(AF_INET, args[0], &probe4.sin_addr) == 1 ||
                   ::inet_pton(AF_INET6, args[0], &probe6.sin6_addr) == 1;
    std::string ip = args[0];
    if (!numeric) {
      Resolution resolution = resolve_name(args[0], AF_INET);
      if (resolution.error != 0) return denied(resolution.error, resolution.detail);
      ip = resolution.addresses.front();
      target = ip + " " + args[1];
    }
    address = parse_address(ip.c_str(), args[1]);
  }
  auto started = std::chrono::steady_clock::now();
  Fd fd(::socket(address.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return failed("socket");
  int error = 0;
  if (::connect(fd.get(), address.get(), address.length) < 0) {
    error = (errno == EINPROGRESS || errno == EINTR) ? finish_connect(fd.get(), started) : errno;
  }
  if (error != 0) return denied(error, target + " connect");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  char buffer[16384];
  if (via_proxy) {
    std::string authority = std::string(args[0]) + ":" + args[1];
    std::string request = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n";
    if (!send_all(fd.get(), request)) return failed(target + " CONNECT");
    std::string head;
    while (head.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = read_within(fd.get(), buffer, 1, deadline);  // not a byte past the head
      if (n < 0) return failed("waiting for the proxy's answer");
      if (n == 0) return denied(ECONNABORTED, "the proxy closed without answering CONNECT");
      head.append(buffer, static_cast<size_t>(n));
    }
    std::string status = head.substr(0, head.find("\r\n"));
    if (status.find(" 200") == std::string::npos)
      return denied(EACCES, "the proxy answered " + escape(status));
  }
  std::string hello = client_hello(args[2]);
  if (!send_all(fd.get(), hello)) return failed(target + " sending the ClientHello");
  size_t received = 0;
  for (;;) {
    ssize_t n = read_within(fd.get(), buffer, sizeof buffer, deadline);
    if (n == 0) break;
    if (n < 0) {
      return failed(target + " sent " + std::to_string(hello.size()) + " bytes, received " +
                    std::to_string(received) + " bytes");
    }
    received += static_cast<size_t>(n);
  }
  std::string detail = target + " sent " + std::to_string(hello.size()) + " bytes, received " +
                       std::to_string(received) + " bytes";
  if (received == 0) return denied(ECONNABORTED, detail + ": closed without an answer");
  return ok(detail);
}

// ---------------------------------------------------------------------------------------------
// Kernel attack surface. Where success on the host would change the host, the arguments are
// deliberately invalid so that only the permission check can pass: EPERM then means refused,
// EINVAL/ENOENT/ENOEXEC mean "the kernel let us past the gate".

Outcome fd_result(long fd, const char* what) {
  if (fd < 0) return failed(what);
  ::close(static_cast<int>(fd));
  return ok(what);
}

Outcome do_io_uring(Args) {
  io_uring_params params{};
  return fd_result(::syscall(SYS_io_uring_setup, 8UL, &params), "io_uring_setup");
}

Outcome do_bpf(Args) {
  bpf_attr attr{};
  attr.map_type = BPF_MAP_TYPE_ARRAY;
  attr.key_size = 4;
  attr.value_size = 4;
  attr.max_entries = 1;
  return fd_result(::syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr), "BPF_MAP_CREATE");
}

Outcome do_perf_event_open(Args) {
  perf_event_attr attr{};
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_CPU_CLOCK;
  attr.disabled = 1;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  return fd_result(::syscall(SYS_perf_event_open, &attr, 0L, -1L, -1L, 0UL), "perf_event_open");
}

Outcome do_userfaultfd(Args) {
  // User-mode-only is what an unprivileged process can get when vm.unprivileged_userfaultfd=0.
  return fd_result(::syscall(SYS_userfaultfd, static_cast<long>(O_CLOEXEC | UFFD_USER_MODE_ONLY)),
                   "userfaultfd");
}

Outcome do_keyctl(Args) {
  // The process keyring dies with the probe, so success leaves nothing behind.
  long key = ::syscall(SYS_add_key, "user", "si-probe", "x", 1UL,
                       static_cast<long>(KEY_SPEC_PROCESS_KEYRING));
  if (key < 0) return failed("add_key");
  return ok("key " + std::to_string(key));
}

Outcome do_personality(Args) {
  int previous = ::personality(ADDR_NO_RANDOMIZE);
  if (previous < 0) return failed("personality(ADDR_NO_RANDOMIZE)");
  return ok("previous " + std::to_string(previous));
}

Outcome do_personality_query(Args) {
  int current = ::personality(0xffffffff);
  if (current < 0) return failed("personality(0xffffffff)");
  return ok("current " + std::to_string(current));
}

Outcome do_kexec(Args) {
  // One segment more than the kernel accepts: refused with EINVAL right after the capability
  // check, so the currently loaded kexec image is never replaced.
  long r = ::syscall(SYS_kexec_load, 0UL, static_cast<unsigned long>(KEXEC_SEGMENT_MAX + 1),
                     nullptr, static_cast<unsigned long>(KEXEC_ARCH_DEFAULT));
  if (r < 0) return failed("kexec_load with too many segments");
  return ok("kexec_load");
}

Outcome do_init_module(Args) {
  // An empty image: past the capability check it fails as not being an ELF module.
  long r = ::syscall(SYS_init_module, nullptr, 0UL, "");
  if (r < 0) return failed("init_module with an empty image");
  return ok("init_module");
}

Outcome do_reboot(Args) {
  // CAD_OFF only makes Ctrl-Alt-Del signal init instead of rebooting, which systemd sets anyway.
  long r = ::syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_CAD_OFF,
                     nullptr);
  if (r < 0) return failed("reboot(CAD_OFF)");
  return ok("reboot(CAD_OFF)");
}

Outcome do_syslog(Args) {
  int size = ::klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, nullptr, 0);
  if (size < 0) return failed("syslog(SIZE_BUFFER)");
  return ok("log buffer " + std::to_string(size) + " bytes");
}

Outcome do_acct(Args) {
  // A file that does not exist: past the capability check this is ENOENT, and accounting on
  // the host is neither switched on nor off.
  if (::acct("/si-probe-no-such-accounting-file") < 0) return failed("acct");
  return ok("acct");
}

Outcome do_swapoff(Args args) {
  if (::swapoff(args[0]) < 0) return failed(args[0]);
  return ok("swapoff " + escape(args[0]));
}

// struct file_handle ends in a flexible array; this gives it room for any handle.
class HandleBuffer {
 public:
  HandleBuffer() : handle_(new (storage_) file_handle{}) { handle_->handle_bytes = MAX_HANDLE_SZ; }
  HandleBuffer(const HandleBuffer&) = delete;
  HandleBuffer& operator=(const HandleBuffer&) = delete;
  file_handle* get() { return handle_; }

 private:
  alignas(file_handle) unsigned char storage_[sizeof(file_handle) + MAX_HANDLE_SZ];
  file_handle* handle_;
};

int handle_for(const char* path, HandleBuffer& buffer) {
  int mount_id = 0;
  return ::name_to_handle_at(AT_FDCWD, path, buffer.get(), &mount_id, 0);
}

Outcome do_name_to_handle(Args args) {
  HandleBuffer buffer;
  if (handle_for(args[0], buffer) < 0) return failed(args[0]);
  const file_handle* handle = buffer.get();
  std::string bytes = escape(
      std::string_view(reinterpret_cast<const char*>(handle->f_handle), handle->handle_bytes));
  return ok("type " + std::to_string(handle->handle_type) + " " + bytes);
}

// The "shocker" escape: a handle opened relative to a mount, bypassing the path walk that
// mount-namespace confinement relies on. Needs CAP_DAC_READ_SEARCH.
Outcome do_open_by_handle(Args args) {
  const char* path = args.empty() ? "/" : args[0];
  HandleBuffer buffer;
  if (handle_for(path, buffer) < 0) return failed(std::string("name_to_handle_at ") + path);
  // A plain descriptor: the kernel refuses O_PATH ones as mount_fd (EBADF).
  Fd mount_fd(open_retry(path, O_RDONLY));
  if (!mount_fd.valid()) return failed(std::string("open ") + path);
  Fd opened(
      static_cast<int>(::open_by_handle_at(mount_fd.get(), buffer.get(), O_RDONLY | O_CLOEXEC)));
  if (!opened.valid()) return failed(std::string("open_by_handle_at ") + path);
  return ok("opened " + escape(path) + " by handle");
}

// ---------------------------------------------------------------------------------------------
// Identity

Outcome do_euid(Args) {
  return ok(std::to_string(::geteuid()) + " " + std::to_string(::getegid()) + " " +
            std::to_string(::getuid()));
}

Outcome do_caps(Args) {
  Fd fd(open_retry("/proc/self/status", O_RDONLY));
  if (!fd.valid()) return failed("/proc/self/status");
  std::string status;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return failed("/proc/self/status");
    if (n == 0) break;
    status.append(buffer, static_cast<size_t>(n));
  }
  // Kept verbatim ("CapEff:\t0000...") so tests can match the kernel's own spelling.
  std::string detail;
  size_t start = 0;
  while (start < status.size()) {
    size_t end = status.find('\n', start);
    if (end == std::string::npos) end = status.size();
    std::string_view line(status.data() + start, end - start);
    for (std::string_view key :
         {"CapEff:", "CapPrm:", "CapBnd:", "CapAmb:", "NoNewPrivs:", "Seccomp:"}) {
      if (line.starts_with(key)) detail += (detail.empty() ? "" : " ") + std::string(line);
    }
    start = end + 1;
  }
  return ok(detail);
}

Outcome do_hostname(Args) {
  utsname names{};
  if (::uname(&names) < 0) return failed("uname");
  return ok(escape(names.nodename));
}

Outcome do_pid(Args) {
  return ok(std::to_string(::getpid()) + " " + std::to_string(::getppid()));
}

Outcome do_setuid_target(Args) {
  return ok(std::to_string(::getuid()) + " " + std::to_string(::geteuid()));
}

// ---------------------------------------------------------------------------------------------
// Process lifetime

// A fork bomb that keeps the pressure on: every process forks forever and shrugs off the
// failures, so the tree stays at whatever limit holds it. Never returns on its own.
Outcome do_fork_bomb(Args) {
  while (true) {
    if (::fork() < 0) ::usleep(1000);
  }
}

// Touches `MIB` MiB more every `MS` milliseconds until killed or refused (then exits 3).
Outcome do_memory_hog(Args args) {
  long step = parse_number(args[0], "MIB");
  long pause = parse_number(args[1], "MS");
  std::vector<std::unique_ptr<char[]>> held;
  while (true) {
    auto block =
        std::unique_ptr<char[]>(new (std::nothrow) char[static_cast<std::size_t>(step) << 20]);
    if (!block) return failed("allocation refused");
    std::memset(block.get(), 1, static_cast<std::size_t>(step) << 20);
    held.push_back(std::move(block));
    ::usleep(static_cast<useconds_t>(pause * 1000));
  }
}

// A daemon the way malware makes one: double fork, new session, stdio detached, so the only
// thing that can still find it is whoever owns the pid namespace or cgroup.
Outcome do_spawn_orphan(Args args) {
  long seconds = parse_number(args[0], "SECONDS");
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) < 0) return failed("pipe");
  Fd read_end(pipe_fds[0]);
  Fd write_end(pipe_fds[1]);
  pid_t middle = ::fork();
  if (middle < 0) return failed("fork");
  if (middle == 0) {
    ::setsid();
    pid_t orphan = ::fork();
    if (orphan == 0) {
      // Holding the caller's stdout open would make whoever reads it wait for the daemon.
      ::close(pipe_fds[0]);
      ::close(pipe_fds[1]);
      int null_fd = ::open("/dev/null", O_RDWR);
      for (int fd = 0; fd <= 2; ++fd) {
        if (null_fd >= 0)
          ::dup2(null_fd, fd);
        else
          ::close(fd);
      }
      if (null_fd > 2) ::close(null_fd);
      sleep_seconds(seconds);
      ::_exit(0);
    }
    write_all(write_end.get(),
              std::string_view(reinterpret_cast<const char*>(&orphan), sizeof orphan));
    ::_exit(orphan < 0 ? 1 : 0);
  }
  waitpid_retry(middle, nullptr, 0);
  pid_t orphan = -1;
  ssize_t n;
  do {
    n = ::read(read_end.get(), &orphan, sizeof orphan);
  } while (n < 0 && errno == EINTR);
  if (n != sizeof orphan || orphan < 0) return denied(EAGAIN, "second fork failed");
  return ok(std::to_string(orphan));
}

Outcome do_sleep(Args args) {
  long seconds = parse_number(args[0], "SECONDS");
  sleep_seconds(seconds);
  return ok("slept " + std::to_string(seconds));
}

Outcome do_exit(Args args) {
  long code = parse_number(args[0], "CODE");
  Outcome outcome = ok("exit " + std::to_string(code));
  outcome.exit_code = static_cast<int>(code);
  return outcome;
}

Outcome do_kill_self(Args args) {
  int signal_number = static_cast<int>(parse_number(args[0], "SIGNUM"));
  // Default disposition and unblocked: the test wants the death to look like an outside kill.
  ::signal(signal_number, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, signal_number);
  ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
  if (::raise(signal_number) != 0) return failed("raise");
  return ok("survived signal " + std::to_string(signal_number));
}

// ---------------------------------------------------------------------------------------------
// The sandbox's own processes, and the host's unix sockets

Outcome do_open_rw(Args args) {
  Fd fd(open_retry(args[0], O_RDWR));
  if (!fd.valid()) return failed(args[0]);
  return ok(std::string(args[0]) + " opened read-write");
}

// Every descriptor of PID that /proc lets us re-open: through the fd directory's listing,
// and blindly by number in case the listing alone is refused. Threads' fd dirs too.
Outcome do_proc_fds(Args args) {
  std::string base = std::string("/proc/") + args[0];
  std::vector<std::string> dirs{base + "/fd"};
  if (DIR* tasks = ::opendir((base + "/task").c_str())) {
    while (const dirent* entry = ::readdir(tasks)) {
      if (entry->d_name[0] != '.') dirs.push_back(base + "/task/" + entry->d_name + "/fd");
    }
    ::closedir(tasks);
  }
  std::vector<std::string> opened;
  int first_error = 0;
  for (const auto& dir : dirs) {
    for (int n = 0; n < 64; ++n) {
      std::string path = dir + "/" + std::to_string(n);
      Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
      if (fd.valid()) {
        opened.push_back(path);
      } else if (first_error == 0 && errno != ENOENT) {
        first_error = errno;
      }
    }
  }
  if (opened.empty()) return denied(first_error == 0 ? ENOENT : first_error, base + "/fd");
  std::string list;
  for (const auto& path : opened) list += (list.empty() ? "" : ",") + path;
  return ok(list);
}

// The descriptors this process itself was started with, beyond stdin, stdout and stderr.
Outcome do_own_fds(Args) {
  std::string list;
  for (int n = 3; n < 1024; ++n) {
    if (::fcntl(n, F_GETFD) < 0) continue;
    list += (list.empty() ? "" : ",") + std::to_string(n);
  }
  return ok(list);
}

Outcome do_signal(Args args) {
  auto pid = static_cast<pid_t>(parse_number(args[0], "PID"));
  int signal_number = static_cast<int>(parse_number(args[1], "SIGNUM"));
  if (::kill(pid, signal_number) != 0) return failed("kill");
  return ok("sent " + std::to_string(signal_number) + " to " + std::to_string(pid));
}

Outcome do_process_vm_write(Args args) {
  auto pid = static_cast<pid_t>(parse_number(args[0], "PID"));
  char byte = 0;
  struct iovec local {
    &byte, 1
  };
  // An address in every x86-64 process's image would do; the call is refused before any
  // address is looked at.
  struct iovec remote {
    reinterpret_cast<void*>(0x400000), 1
  };
  if (::process_vm_writev(pid, &local, 1, &remote, 1, 0) < 0) return failed("process_vm_writev");
  return ok("wrote into " + std::to_string(pid));
}

sockaddr_un unix_address(const char* path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (std::strlen(path) >= sizeof address.sun_path) throw UsageError{"socket path too long"};
  std::strcpy(address.sun_path, path);
  return address;
}

Outcome do_connect_unix(Args args) {
  std::string payload = args.size() > 1 ? args[1] : "probe\n";
  sockaddr_un address = unix_address(args[0]);
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return failed("socket");
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    return failed(std::string(args[0]) + " connect");
  ssize_t sent = ::send(fd.get(), payload.data(), payload.size(), MSG_NOSIGNAL);
  if (sent < 0) return failed(std::string(args[0]) + " send");
  return ok(std::string(args[0]) + " connected, sent " + std::to_string(sent) + " bytes");
}

// A socket of the sandbox's own, in a place it may use: listen, connect, one byte across.
Outcome do_unix_roundtrip(Args args) {
  sockaddr_un address = unix_address(args[0]);
  ::unlink(args[0]);
  Fd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener.valid()) return failed("socket");
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    return failed(std::string(args[0]) + " bind");
  if (::listen(listener.get(), 1) != 0) return failed("listen");
  Fd client(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (::connect(client.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    return failed(std::string(args[0]) + " connect");
  Fd served(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  char byte = 'x';
  if (!served.valid() || ::send(client.get(), &byte, 1, MSG_NOSIGNAL) != 1 ||
      ::recv(served.get(), &byte, 1, 0) != 1)
    return failed("round trip");
  ::unlink(args[0]);
  return ok(std::string(args[0]) + " round trip");
}

// ---------------------------------------------------------------------------------------------
// Dispatch

struct Action {
  std::string_view name;
  std::string_view usage;
  size_t min_args;
  size_t max_args;
  Outcome (*run)(Args);
  std::string_view help;
};

constexpr Action kActions[] = {
    {"write", "PATH", 1, 1, do_write, "create/truncate PATH and write \"probe\\n\""},
    {"read", "PATH", 1, 1, do_read, "print the first 64 bytes of PATH, escaped"},
    {"open-rw", "PATH", 1, 1, do_open_rw, "open PATH read-write"},
    {"proc-fds", "PID", 1, 1, do_proc_fds, "re-open /proc/PID[/task/*]/fd/N; OK lists successes"},
    {"own-fds", "", 0, 0, do_own_fds, "descriptors above 2 this process started with"},
    {"signal", "PID SIGNUM", 2, 2, do_signal, "kill(PID, SIGNUM)"},
    {"process-vm-write", "PID", 1, 1, do_process_vm_write, "process_vm_writev one byte into PID"},
    {"connect-unix", "PATH [DATA]", 1, 2, do_connect_unix, "connect to a unix socket, send DATA"},
    {"unix-roundtrip", "PATH", 1, 1, do_unix_roundtrip,
     "listen on PATH, connect to it, send one byte"},
    {"list", "DIR", 1, 1, do_list, "entry names of DIR, sorted, comma separated"},
    {"mkdir", "PATH", 1, 1, do_mkdir, "create directory PATH"},
    {"deep-dirs", "N", 1, 1, do_deep_dirs, "N nested directories from the cwd down"},
    {"many-files", "DIR N", 2, 2, do_many_files, "N empty files under DIR"},
    {"set-xattr", "PATH NAME VALUE", 3, 3, do_set_xattr, "lsetxattr(PATH, NAME, VALUE)"},
    {"set-acl", "PATH", 1, 1, do_set_acl, "an access ACL letting uid 4242 write PATH"},
    {"env", "NAME", 1, 1, do_env, "value of NAME; DENIED ENOENT when unset"},
    {"env-dump", "", 0, 0, do_env_dump, "names of all environment variables"},
    {"ptrace", "PID", 1, 1, do_ptrace, "PTRACE_ATTACH to PID, then detach"},
    {"ptrace-sibling", "", 0, 0, do_ptrace_sibling, "PTRACE_ATTACH to a forked child"},
    {"process-vm-read-sibling", "", 0, 0, do_process_vm_read_sibling,
     "process_vm_readv from a forked child"},
    {"mount-tmpfs", "DIR", 1, 1, do_mount_tmpfs, "mount a tmpfs on DIR (unmounted at once)"},
    {"umount", "PATH", 1, 1, do_umount, "umount2(PATH, 0) -- really unmounts: sandbox only"},
    {"unshare-user", "", 0, 0, do_unshare_user, "unshare(CLONE_NEWUSER)"},
    {"unshare-net", "", 0, 0, do_unshare_net, "unshare(CLONE_NEWNET)"},
    {"clone-newuser", "", 0, 0, do_clone_newuser, "raw clone(CLONE_NEWUSER|SIGCHLD)"},
    {"clone3", "", 0, 0, do_clone3, "raw clone3, fork-like"},
    {"setns", "PATH", 1, 1, do_setns, "open PATH and setns() into it"},
    {"chroot", "DIR", 1, 1, do_chroot, "chroot(DIR)"},
    {"tiocsti", "", 0, 0, do_tiocsti, "TIOCSTI 'x' on stdin, else on /dev/tty (flushed after)"},
    {"tioclinux", "", 0, 0, do_tioclinux, "TIOCLINUX (shift state) on stdin, else /dev/tty"},
    {"socket-packet", "", 0, 0, do_socket_packet, "socket(AF_PACKET, SOCK_RAW)"},
    {"socket-vsock", "", 0, 0, do_socket_vsock, "socket(AF_VSOCK)"},
    {"socket-alg", "", 0, 0, do_socket_alg, "socket(AF_ALG)"},
    {"socket-key", "", 0, 0, do_socket_key, "socket(AF_KEY)"},
    {"socket-netlink-route", "", 0, 0, do_socket_netlink_route, "socket(AF_NETLINK, ROUTE)"},
    {"socket-netlink-audit", "", 0, 0, do_socket_netlink_audit, "socket(AF_NETLINK, AUDIT)"},
    {"socket-inet", "", 0, 0, do_socket_inet, "socket(AF_INET, SOCK_STREAM)"},
    {"socket-unix", "", 0, 0, do_socket_unix, "socket(AF_UNIX, SOCK_STREAM)"},
    {"io-uring", "", 0, 0, do_io_uring, "io_uring_setup(8)"},
    {"bpf", "", 0, 0, do_bpf, "bpf(BPF_MAP_CREATE) of a one-entry array"},
    {"perf-event-open", "", 0, 0, do_perf_event_open, "perf_event_open of a software counter"},
    {"userfaultfd", "", 0, 0, do_userfaultfd, "userfaultfd(UFFD_USER_MODE_ONLY)"},
    {"keyctl", "", 0, 0, do_keyctl, "add_key(\"user\") to the process keyring"},
    {"personality", "", 0, 0, do_personality, "personality(ADDR_NO_RANDOMIZE)"},
    {"personality-query", "", 0, 0, do_personality_query, "personality(0xffffffff)"},
    {"kexec", "", 0, 0, do_kexec, "kexec_load, invalid segment count (EINVAL = permitted)"},
    {"init-module", "", 0, 0, do_init_module, "init_module, empty image (ENOEXEC = permitted)"},
    {"reboot", "", 0, 0, do_reboot, "reboot(LINUX_REBOOT_CMD_CAD_OFF)"},
    {"syslog", "", 0, 0, do_syslog, "klogctl(SYSLOG_ACTION_SIZE_BUFFER)"},
    {"acct", "", 0, 0, do_acct, "acct on a missing file (ENOENT = permitted)"},
    {"swapoff", "PATH", 1, 1, do_swapoff, "swapoff(PATH)"},
    {"name-to-handle", "PATH", 1, 1, do_name_to_handle, "name_to_handle_at(PATH)"},
    {"open-by-handle", "[PATH]", 0, 1, do_open_by_handle,
     "open_by_handle_at of PATH's handle (default /)"},
    {"connect", "IP PORT [DATA]", 2, 3, do_connect,
     "TCP connect, 3 s timeout, then send DATA (default \"probe\\n\")"},
    {"udp-send", "IP PORT [DATA]", 2, 3, do_udp_send, "one UDP datagram (default \"probe\")"},
    {"resolve", "NAME", 1, 1, do_resolve,
     "getaddrinfo(NAME): OK <addr>,...; DENIED ENOENT no such name, EAGAIN no answer"},
    {"tls-hello", "HOST PORT SNI [PROXY_IP PROXY_PORT]", 3, 5, do_tls_hello,
     "send a TLS ClientHello naming SNI (- for none) to HOST (a name is resolved, IPv4), or "
     "through CONNECT HOST:PORT at the proxy; read until the peer closes (10 s): OK when it "
     "answered, DENIED ECONNABORTED when it closed silently, EACCES when CONNECT was refused"},
    {"euid", "", 0, 0, do_euid, "OK <euid> <egid> <uid>"},
    {"caps", "", 0, 0, do_caps, "Cap*/NoNewPrivs/Seccomp lines of /proc/self/status"},
    {"hostname", "", 0, 0, do_hostname, "OK <nodename>"},
    {"pid", "", 0, 0, do_pid, "OK <pid> <ppid>"},
    {"setuid-target", "", 0, 0, do_setuid_target, "OK <ruid> <euid> (for setuid copies)"},
    {"spawn-orphan", "SECONDS", 1, 1, do_spawn_orphan,
     "double-forked setsid daemon sleeping SECONDS; OK <pid>"},
    {"sleep", "SECONDS", 1, 1, do_sleep, "sleep SECONDS"},
    {"fork-bomb", "", 0, 0, do_fork_bomb, "every process forks forever, ignoring failures"},
    {"memory-hog", "MIB MS", 2, 2, do_memory_hog, "touch MIB more MiB every MS ms, forever"},
    {"exit", "CODE", 1, 1, do_exit, "exit with CODE"},
    {"kill-self", "SIGNUM", 1, 1, do_kill_self, "raise SIGNUM with its default disposition"},
};

void print_help(FILE* to) {
  std::fprintf(to,
               "usage: si-probe ACTION [ARGS...]\n"
               "Performs one attempt and prints one line: OK <detail> (exit 0),\n"
               "DENIED <ERRNO> <detail> (exit 1); exit 2 on usage errors.\n\nactions:\n");
  for (const auto& action : kActions) {
    std::string head = std::string(action.name) + " " + std::string(action.usage);
    std::fprintf(to, "  %-32s %.*s\n", head.c_str(), static_cast<int>(action.help.size()),
                 action.help.data());
  }
}

int usage_error(const std::string& message) {
  std::fprintf(stderr, "si-probe: %s (try --help)\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage_error("no action given");
  std::string_view name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    print_help(stdout);
    return 0;
  }
  Args args(argv + 2, static_cast<size_t>(argc - 2));
  for (const auto& action : kActions) {
    if (action.name != name) continue;
    if (args.size() < action.min_args || args.size() > action.max_args)
      return usage_error("usage: si-probe " + std::string(name) + " " + std::string(action.usage));
    try {
      return report(action.run(args));
    } catch (const UsageError& e) {
      return usage_error(e.message);
    }
  }
  return usage_error("unknown action: " + std::string(name));
}
