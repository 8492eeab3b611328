#pragma once
// The processes a run started, as seen through their execs, and the package each one ran
// for: npm-style lifecycle environment first, then the build directory a pip, gem or cargo
// build runs in, then the nearest recorded ancestor.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace safeinstall::runner {

// The lifecycle environment npm, yarn and pnpm give a package's scripts.
struct LifecycleEnv {
  std::string package_name;     // npm_package_name
  std::string package_version;  // npm_package_version
  std::string event;            // npm_lifecycle_event: preinstall, install, postinstall, ...
};

struct ProcessRecord {
  pid_t host_pid = 0;
  pid_t pid = 0;                  // inside the sandbox
  pid_t ppid = 0;                 // inside the sandbox; 0 when unknown
  std::vector<std::string> argv;  // bounded (argv_bounds.h); redacted only when reported
  bool argv_truncated = false;    // argv was cut to the bounds
  std::string cwd;
  std::string exe;  // the path given to exec
  std::chrono::system_clock::time_point started;
  std::optional<int> exit_code;
  std::optional<int> signal;
  bool survived = false;
  bool refused = false;  // the exec was refused (script policy)
  std::string package;   // name@version, or a build directory's package name
  std::string script;    // lifecycle event or "build"
};

// "name@version" of the package whose build directory `cwd` is in (pip, gem, cargo), or
// empty.
std::string package_from_build_dir(const std::string& cwd);

// True for the install-time lifecycle events whose scripts --scripts governs.
bool is_install_script(const std::string& event);

// Past this much argv kept for the whole run, later execs keep their program name only: a
// command that execs in a loop cannot grow the supervisor or its report without end.
inline constexpr std::size_t kMaxRunArgvBytes = 32 << 20;

class ProcessTree {
 public:
  // Adds an exec, attributing it from `env` or, failing that, from its cwd or ancestors.
  // Its argv is cut to the bounds of argv_bounds.h and to what is left of kMaxRunArgvBytes.
  // `host_ppid` is the parent's pid in the supervisor's namespace.
  ProcessRecord& add(ProcessRecord record, const LifecycleEnv& env, pid_t host_ppid);

  // The latest exec of a live host pid.
  ProcessRecord* find_host(pid_t host_pid);
  // The latest exec of a sandbox pid.
  ProcessRecord* find_inner(pid_t pid);

  // The position in records() of a record this tree holds.
  std::size_t index_of(const ProcessRecord& record) const {
    return static_cast<std::size_t>(&record - records_.data());
  }

  const std::vector<ProcessRecord>& records() const { return records_; }
  std::vector<ProcessRecord>& records() { return records_; }

 private:
  std::vector<ProcessRecord> records_;
  void keep_bounded_argv(ProcessRecord& record);

  std::map<pid_t, std::size_t> latest_by_host_;
  std::map<pid_t, std::size_t> latest_by_inner_;
  std::size_t argv_bytes_ = 0;  // kept in all records so far
};

}  // namespace safeinstall::runner
