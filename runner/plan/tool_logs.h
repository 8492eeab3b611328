#pragma once
// Logs a tool writes in the throwaway home, kept with the run. npm writes a debug log of
// every run to ~/.npm/_logs and, when it fails, tells the user to read it there — in a home
// that is gone by then; pip writes one where PIP_LOG says. The profile names these places
// (`[[logs]]`, docs/profiles.md). The run binds a directory of its own run dir at each place
// instead, and afterwards copies what the tool wrote there into <run dir>/logs/<tool>/.
//
// Everything in that directory was written from inside the sandbox: only regular files named
// like a log are copied, opened without following symlinks (or blocking on a fifo), at most
// kMaxKeptLogs of them and only their last kMaxLogBytes each; the bound directory is then
// removed whatever it holds. Its size counts against --disk while the command runs.

#include <cstdint>
#include <string>
#include <vector>

#include "runner/plan/run_plan.h"

namespace safeinstall::runner {

inline constexpr std::size_t kMaxKeptLogs = 10;
inline constexpr std::size_t kMaxLogBytes = std::size_t{1} << 20;

// One tool's log directory, bound for one run.
struct ToolLogs {
  std::string tool;    // "npm": the directory under <run dir>/logs
  std::string inside;  // where the tool writes them in the sandbox: <home>/.npm/_logs
  std::string staged;  // the bind's host side: <run dir>/tool-logs/<tool>
  std::vector<std::pair<std::string, std::string>> env;  // makes the tool log there
};

// A log kept in the run dir.
struct KeptLog {
  std::string tool;
  std::string inside;      // the path the tool named, in the throwaway home
  std::string path;        // the copy in the run dir
  std::uint64_t size = 0;  // of the original
  bool truncated = false;  // only its last kMaxLogBytes were kept
};

// The log directories of the profile `tool` (its [[logs]] places, RunPlan::log_places).
std::vector<ToolLogs> tool_logs_for(const std::string& tool, const std::vector<LogPlace>& places,
                                    const std::string& run_dir);

// Makes each staged directory and binds it at its place in the home, with its variables.
Result<> mount_tool_logs(RunPlan& plan, const std::vector<ToolLogs>& logs);

// Copies the logs written into each staged directory to <run_dir>/logs/<tool>/ and removes
// the staged directory. What cannot be kept is left out, never an error: a log is a help.
std::vector<KeptLog> keep_tool_logs(const std::vector<ToolLogs>& logs, const std::string& run_dir);

}  // namespace safeinstall::runner
