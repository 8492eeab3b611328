#pragma once
// Runs the real safeinstall binary the way a user would, as root or as an unprivileged user,
// with a throwaway project and home, and reads back its report.

#include <sys/types.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/run.h"
#include "tests/support/temp_dir.h"

namespace safeinstall::test {

enum class Who { Root, Unprivileged };
inline constexpr uid_t kUnprivilegedUid = 65534;
inline constexpr const char* kCanaryToken = "canary-ghp-7f3a9b2c";
inline constexpr const char* kCanarySecret = "canary-ssh-key-0c1d2e";

const char* name_of(Who who);

// Copies of safeinstall, safeinstall-shim (beside it, where `safeinstall setup` looks), the
// probe and the profiles in a directory every user can read: the build tree may live under a
// home directory the unprivileged user cannot enter.
struct Installation {
  std::string dir;
  std::string safeinstall;
  std::string shim;
  std::string probe;
  std::string profiles;
  static const Installation& get();
};

struct SandboxRun {
  RunResult result;
  nlohmann::json report;   // empty when no report was written
  std::string probe_line;  // first stdout line, "OK ..." or "DENIED ERRNO ..."
  std::string report_path;
  int exit_code() const { return result.exit_code; }
  bool probe_ok() const { return probe_line.rfind("OK", 0) == 0; }
  bool denied_with(const std::string& errno_name) const {
    return probe_line.rfind("DENIED " + errno_name, 0) == 0;
  }
};

class Scenario {
 public:
  // `parent`: where the scenario's project and home live (a tmpfs for tests whose cost is
  // the disk's, not safeinstall's).
  explicit Scenario(Who who, const std::string& parent = "/tmp");

  // safeinstall [flags] -- command...
  SandboxRun run(const std::vector<std::string>& command,
                 const std::vector<std::string>& flags = {},
                 const std::vector<std::string>& extra_env = {},
                 std::chrono::milliseconds timeout = std::chrono::milliseconds(60000)) const;
  // The same run for a thread other than the test's own: Catch's assertions and messages are
  // not thread-safe, so nothing here uses them. The test's thread then hands the result to
  // checked() (the report's schema check and the run's output as context).
  SandboxRun run_unchecked(
      const std::vector<std::string>& command, const std::vector<std::string>& flags = {},
      const std::vector<std::string>& extra_env = {},
      std::chrono::milliseconds timeout = std::chrono::milliseconds(60000)) const;
  static SandboxRun checked(SandboxRun run);
  // safeinstall [flags] -- <probe> args...
  SandboxRun probe(const std::vector<std::string>& args,
                   const std::vector<std::string>& flags = {}) const;
  // Same arguments, the probe run directly on the host by the same user: the control that
  // shows the attempt would have worked without the sandbox.
  RunResult probe_on_host(const std::vector<std::string>& args) const;

  // Runs safeinstall behind this prefix (e.g. `ip netns exec world`), which needs root: the
  // switch to the unprivileged user then happens inside it.
  void run_behind(std::vector<std::string> prefix) { prefix_ = std::move(prefix); }

  const std::string& project() const { return project_; }
  const std::string& home() const { return home_; }
  const std::string& root() const { return dir_.path(); }
  std::string probe_in_project() const { return project_ + "/.probe/si-probe"; }
  Who who() const { return who_; }
  uid_t uid() const { return who_ == Who::Root ? 0 : kUnprivilegedUid; }
  std::vector<std::string> base_env() const;

 private:
  Who who_;
  TempDir dir_;
  std::string project_;
  std::string home_;
  std::vector<std::string> prefix_;
};

// Reports every run produces are validated against docs/report.schema.json.
void require_valid_report(const std::string& path);

std::string read_file(const std::string& path);
bool path_exists(const std::string& path);

}  // namespace safeinstall::test
