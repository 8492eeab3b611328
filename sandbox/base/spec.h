#pragma once
// What the runner asks the sandbox to build: a plain value, filled by the run plan.

#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace safeinstall::sandbox {

enum class MountKind {
  BindReadOnly,   // host path, visible but unwritable (toolchains)
  BindReadWrite,  // host path, writable (the project, until staging replaces it)
  Tmpfs,          // fresh writable tmpfs (home, /tmp)
  HideDir,        // empty read-only tmpfs over a host directory
  HideFile,       // /dev/null over a host file or socket
  Proc,           // new procfs instance for the sandbox's pid namespace
  Dev,            // minimal /dev: null zero full random urandom tty, devpts, shm
  Sys,            // sysfs of the sandbox's network namespace, read-only
  FileContent,    // a read-only file with `content` (the sandbox's resolv.conf)
  Overlay,        // overlayfs: lower = host `source` (read-only), writes go to `upper`
  Symlink,        // a symlink at `target` holding `content` (merged-/usr links: /bin -> usr/bin)
};

struct MountSpec {
  MountKind kind;
  std::string target;            // absolute path as seen inside the sandbox
  std::string source;            // absolute host path, for binds
  std::uint64_t size_bytes = 0;  // tmpfs size limit
  mode_t mode = 0755;            // tmpfs root mode
  std::string content;           // for FileContent; the link text for Symlink
  std::string upper;             // for Overlay: host paths of the upper and work dirs (same
  std::string work;              // filesystem, both private to the run)
  // For FileContent: a file the supervisor watches for opens (a decoy credential). Init
  // hands it an fd of the file, which lives in the sandbox's own tmpfs, not on the host.
  bool watched = false;
};

struct Limits {
  rlim_t open_files = 65536;
  rlim_t processes = 4096;
  rlim_t core_bytes = 0;
  rlim_t data_bytes = RLIM_INFINITY;   // per process (--memory); the tree is sampled too
  rlim_t cpu_seconds = RLIM_INFINITY;  // per process (--cpu-time); the tree is sampled too
  // The whole tree's memory (--memory), held by a memory cgroup where the host offers one.
  std::optional<std::uint64_t> tree_memory_bytes;
};

struct Spec {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH of `env` inside the sandbox
  std::vector<std::string> env;   // NAME=VALUE, already scrubbed
  std::string cwd;                // inside the sandbox
  std::string hostname;
  std::vector<MountSpec> mounts;  // applied in order: parents before children
  uid_t outer_uid = 0;            // mapped to the same id inside
  gid_t outer_gid = 0;
  Limits limits;
  bool keep_terminal = false;  // stdin is a terminal: stay in the invoker's session
  // Create the egress gateway's listeners inside the network namespace and hand them out.
  bool egress_gateway = false;
  // Throwaway directories whose contents are reported when the command exits, before they
  // vanish with the sandbox: {area name, path inside the sandbox}.
  std::vector<std::pair<std::string, std::string>> record_writes;
  // Notify execs, connects and refused syscalls to the supervisor (seccomp user
  // notification) instead of refusing silently in the kernel.
  bool record_syscalls = false;
  // Also notify the calls that write by path (open for writing, mkdir, unlink, rename…), so
  // that a write into a read-only place is recorded before the kernel refuses it (EROFS).
  // Only with record_syscalls; costs a round trip per such call, so only when needed.
  bool record_path_writes = false;
};

}  // namespace safeinstall::sandbox
