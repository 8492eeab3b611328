#pragma once
// Everything known about one run, gathered as it goes; the report and the receipt are
// both views of it.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "runner/options.h"
#include "runner/run_plan.h"
#include "runner/supervisor.h"

namespace safeinstall::runner {

struct Violation {
  std::string kind;  // syscall | egress | write | script | limit | survivor
  std::string detail;
  pid_t pid = 0;
};

struct RunRecord {
  std::string run_id;
  std::vector<std::string> command;
  std::string profile = "base";
  std::string project;
  std::chrono::system_clock::time_point started_at;
  std::chrono::milliseconds duration{0};
  int exit_code = 0;
  std::string verdict;  // promoted | held | rejected | failed | staged
  std::vector<std::string> verdict_reasons;
  std::optional<RunPlan> plan;
  std::optional<Outcome> outcome;
  std::vector<Violation> violations;
  std::optional<std::string> sandbox_error;  // why the sandbox could not be built
};

std::string new_run_id(std::chrono::system_clock::time_point now);

// Fills verdict, reasons and violations from the outcome and the exit code.
void judge(RunRecord& record);

}  // namespace safeinstall::runner
