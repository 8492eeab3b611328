#include "runner/run_record.h"

#include <sys/random.h>

#include <array>
#include <ctime>

#include "runner/redact.h"

namespace safeinstall::runner {
namespace {

std::string join(const std::vector<std::string>& argv) {
  std::string text;
  for (const auto& a : argv) text += (text.empty() ? "" : " ") + a;
  return text;
}

void record_survivors(RunRecord& record, const Outcome& outcome) {
  for (const auto& s : outcome.survivors) {
    std::string who = s.argv.empty() ? "pid " + std::to_string(s.pid) : join(redact_argv(s.argv));
    record.violations.push_back(
        {"survivor", who + " was still running when the command exited; killed", s.pid});
  }
}

}  // namespace

std::string new_run_id(std::chrono::system_clock::time_point now) {
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  std::array<char, 32> stamp{};
  std::strftime(stamp.data(), stamp.size(), "%Y%m%dT%H%M%SZ", &tm);
  std::array<unsigned char, 4> bytes{};
  if (::getrandom(bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) bytes = {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string suffix;
  for (unsigned char b : bytes) {
    suffix += kHex[b >> 4];
    suffix += kHex[b & 0xf];
  }
  return std::string(stamp.data()) + "-" + suffix;
}

void judge(RunRecord& record) {
  if (record.sandbox_error) {
    record.verdict = "failed";
    record.verdict_reasons.push_back("the sandbox could not be built: " + *record.sandbox_error +
                                     " (the command was not run)");
    return;
  }
  const Outcome& outcome = *record.outcome;
  record_survivors(record, outcome);
  if (outcome.timed_out) {
    record.violations.push_back({"limit", "timeout expired; every process in the sandbox was killed", 0});
  }
  if (record.exit_code == 0) {
    record.verdict = "promoted";
    record.verdict_reasons.push_back(
        "the command succeeded; the project directory was mounted read-write, so its changes are "
        "already in place");
    return;
  }
  record.verdict = "failed";
  if (outcome.exec_failed) {
    record.verdict_reasons.push_back("the command could not be started: " +
                                     std::string(sandbox::errno_name(outcome.exec_errno)));
  } else if (outcome.timed_out) {
    record.verdict_reasons.push_back("the command ran past --timeout");
  } else if (outcome.killed_by_user) {
    record.verdict_reasons.push_back("interrupted twice: the sandbox was killed");
  } else {
    record.verdict_reasons.push_back("the command failed with exit code " +
                                     std::to_string(record.exit_code));
  }
}

}  // namespace safeinstall::runner
