// safeinstall: argv → run plan → sandbox → supervision → record → verdict → report.
#include <sys/wait.h>

#include <chrono>
#include <cstdio>

#include "runner/base_profile.h"
#include "runner/check_command.h"
#include "runner/cli.h"
#include "runner/exit_codes.h"
#include "runner/receipt.h"
#include "runner/report.h"
#include "runner/run_plan.h"
#include "runner/run_record.h"
#include "runner/supervisor.h"
#include "sandbox/launcher.h"

namespace {

using namespace safeinstall;
using namespace safeinstall::runner;

int fail(const std::string& what) {
  std::fprintf(stderr, "safeinstall: %s\n", what.c_str());
  return exit_code::kSafeinstallFailed;
}

int exit_code_of(const Outcome& outcome) {
  if (outcome.exec_failed)
    return outcome.exec_errno == ENOENT ? exit_code::kNotFound : exit_code::kNotExecutable;
  if (outcome.timed_out) return exit_code::kTimedOut;
  if (outcome.killed_by_user) return exit_code::kSignalBase + SIGKILL;
  if (!outcome.command_finished) return exit_code::kSafeinstallFailed;
  if (WIFEXITED(outcome.wait_status)) return WEXITSTATUS(outcome.wait_status);
  if (WIFSIGNALED(outcome.wait_status)) return exit_code::kSignalBase + WTERMSIG(outcome.wait_status);
  return exit_code::kSafeinstallFailed;
}

void explain_exec_failure(const Outcome& outcome, const std::string& command) {
  if (!outcome.exec_failed) return;
  if (outcome.exec_errno == ENOENT) {
    std::fprintf(stderr, "safeinstall: %s: command not found in the sandbox's PATH\n",
                 command.c_str());
  } else {
    std::fprintf(stderr, "safeinstall: %s: cannot execute: %s\n", command.c_str(),
                 std::strerror(outcome.exec_errno));
  }
}

void finish(RunRecord& record, const Options& options, const BaseProfile& base) {
  judge(record);
  if (!options.report_path.empty()) {
    if (auto written = write_report(options.report_path, build_report(record)); !written)
      std::fprintf(stderr, "safeinstall: %s\n", written.error().message().c_str());
  }
  bool clean = record.exit_code == 0 && record.violations.empty();
  if (options.quiet && clean) return;
  std::fputs(render_receipt(record, options.report_path, base.env_secret, options.verbose).c_str(),
             stderr);
}

int run(const Options& options) {
  auto started = std::chrono::system_clock::now();
  auto clock_start = std::chrono::steady_clock::now();
  RunRecord record;
  record.run_id = new_run_id(started);
  record.started_at = started;
  record.command = options.command;

  auto base = load_default_base_profile();
  if (!base) return fail(base.error().message());
  auto plan = make_run_plan(options, *base, current_invoker());
  if (!plan) return fail(plan.error().message());
  record.project = plan->project;
  record.plan = *plan;

  auto elapsed = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 clock_start);
  };
  auto sandbox = sandbox::launch(plan->spec);
  if (!sandbox) {
    std::fprintf(stderr, "safeinstall: %s\n", sandbox.error().message().c_str());
    record.sandbox_error = sandbox.error().message();
    record.exit_code = exit_code::kSafeinstallFailed;
    record.duration = elapsed();
    finish(record, options, *base);
    return exit_code::kSafeinstallFailed;
  }
  std::optional<std::chrono::milliseconds> timeout;
  if (plan->timeout_seconds)
    timeout = std::chrono::milliseconds(static_cast<long long>(*plan->timeout_seconds * 1000.0));
  Outcome outcome = supervise(*sandbox, timeout, GatewaySettings{plan->egress, plan->gateway});
  explain_exec_failure(outcome, options.command.front());
  if (outcome.protocol_error) std::fprintf(stderr, "safeinstall: %s\n", outcome.protocol_error->c_str());

  record.duration = elapsed();
  record.exit_code = exit_code_of(outcome);
  record.outcome = std::move(outcome);
  finish(record, options, *base);
  return record.exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  CommandLine cl = parse_command_line(argc, argv);
  switch (cl.action) {
    case CommandLine::Action::Exit:
      std::fputs(cl.output.c_str(), cl.output_is_error ? stderr : stdout);
      return cl.exit_code;
    case CommandLine::Action::Check:
      return run_check(cl.options.verbose);
    case CommandLine::Action::Run:
      return run(cl.options);
  }
  return exit_code::kSafeinstallFailed;
}
