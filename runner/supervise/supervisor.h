#pragma once
// Supervision of a running sandbox: one event loop for the sandbox's messages, its exit,
// the invoker's signals and the timeout.

#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runner/profile/script_policy.h"
#include "runner/staging/staging_usage.h"
#include "runner/supervise/decoy_watch.h"
#include "runner/supervise/process_tree.h"
#include "runner/supervise/resource_sampler.h"
#include "runner/supervise/syscall_recorder.h"
#include "sandbox/egress/egress_policy.h"
#include "sandbox/egress/gateway_options.h"
#include "sandbox/egress/network_record.h"
#include "sandbox/launcher.h"

namespace safeinstall::runner {

struct SandboxProcess {
  pid_t pid = 0;  // as seen inside the sandbox
  pid_t ppid = 0;
  std::vector<std::string> argv;  // bounded (argv_bounds.h)
  bool argv_truncated = false;
};

struct WrittenEntry {
  std::string area;  // "home" or "tmp"
  std::string path;  // relative to that area
  std::uint32_t mode = 0;
  std::uint64_t size = 0;
};

struct Outcome {
  bool exec_failed = false;
  int exec_errno = 0;
  bool command_finished = false;  // wait_status is the command's
  int wait_status = 0;
  pid_t command_pid = 0;
  bool timed_out = false;
  int interrupts = 0;           // SIGINT/SIGTERM/SIGHUP/SIGQUIT received
  bool killed_by_user = false;  // a second interrupt killed the sandbox
  std::vector<SandboxProcess> survivors;
  std::vector<WrittenEntry> written;
  struct rusage usage {};
  std::optional<std::string> protocol_error;
  sandbox::NetworkEntries network;  // the gateway's record: contacted, refused, dns
  // Recording (seccomp notifications): empty when the sandbox ran without it.
  bool recorded = false;
  std::vector<ProcessRecord> processes;
  std::vector<DirectAttempt> direct_attempts;
  std::vector<RecordedRefusal> refusals;
  std::vector<WriteAttempt> write_attempts;  // into watched read-only places (EROFS)
  std::uint64_t notifications = 0;
  // Sampled from the host: the largest figures seen, and the limits that tripped.
  TreeSample peak;
  std::vector<std::string> limits_tripped;
  bool staging_limit_tripped = false;  // --disk or --files: nothing may be promoted
  // Opens of the decoy credentials, and how they were watched: "fanotify" (with the
  // process), "inotify" (without), or why they could not be.
  std::vector<DecoyRead> decoy_reads;
  std::string decoy_watch;
};

// Limits enforced by sampling the tree (the sandbox also gets per-process rlimits).
struct ResourceLimits {
  std::optional<std::uint64_t> memory_bytes;  // --memory: the tree's resident memory
  std::optional<std::uint64_t> tasks;         // --pids: processes and threads
  std::optional<std::uint64_t> cpu_ms;        // --cpu-time: the tree's CPU time
  StagingBudget staged;                       // --disk, --files: what the run staged
};

struct RecordingSettings {
  ScriptPolicy scripts;
  ResourceLimits limits;
  // What the sandbox's init execs first: its memory cannot be read by an unprivileged
  // supervisor (it is undumpable), so that exec is recorded from what was asked for.
  LaunchedCommand command;
  // The sandbox's own places (home, /tmp, project): the only unix sockets it may reach.
  std::vector<std::string> own_dirs;
  // The trees limits.staged bounds: the project's upper dir and the caches' upper dirs.
  std::vector<std::string> staged_dirs;
  // The decoy credentials bound into the home, watched for opens.
  std::vector<WatchedDecoy> decoys;
  // Read-only places whose attempted writes are recorded (the local dependencies); the
  // sandbox notifies writes by path only when this is not empty.
  std::vector<std::string> read_only_dirs;
};

struct GatewaySettings {
  sandbox::EgressPolicy policy;
  sandbox::GatewayOptions options;
};

Outcome supervise(sandbox::RunningSandbox& sandbox,
                  std::optional<std::chrono::milliseconds> timeout, const GatewaySettings& gateway,
                  const RecordingSettings& recording = {});

}  // namespace safeinstall::runner
