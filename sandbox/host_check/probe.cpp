#include "sandbox/host_check/probe.h"

#include <poll.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <utility>

namespace safeinstall::sandbox::host_check {
namespace {

void set_text(ChildReport& report, std::string_view text) {
  const std::size_t n = std::min(text.size(), sizeof report.text - 1);
  std::memcpy(report.text, text.data(), n);
  report.text[n] = '\0';
}

enum class ReadResult { Complete, Eof, Timeout };

ReadResult read_with_deadline(int fd, void* buffer, std::size_t size, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto* bytes = static_cast<char*>(buffer);
  std::size_t done = 0;
  while (done < size) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return ReadResult::Timeout;
    pollfd pfd{fd, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return ready == 0 ? ReadResult::Timeout : ReadResult::Eof;
    const ssize_t n = ::read(fd, bytes + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ReadResult::Eof;
    done += static_cast<std::size_t>(n);
  }
  return ReadResult::Complete;
}

std::string describe(const ChildReport& report) {
  std::string text = report.text;
  if (report.err != 0)
    text += std::string(": ") + errno_name(report.err) + " (" + std::strerror(report.err) + ")";
  return text;
}

std::string fix_for(const ChildReport& report, MountFs fs, const HostKnobs& knobs) {
  if (report.stage == Stage::Namespace || report.stage == Stage::IdMap)
    return namespace_fix(report.err, report.ns_flag, knobs, !knobs.has_cap_sys_admin);
  return mount_fix(report.err, fs, knobs);
}

}  // namespace

ChildReport succeeded(std::string_view note) {
  ChildReport report;
  report.ok = true;
  set_text(report, note);
  return report;
}

ChildReport failed(Stage stage, std::string_view step, int err) {
  ChildReport report;
  report.stage = stage;
  report.err = err;
  set_text(report, step);
  return report;
}

ChildReport sys_failed(Stage stage, int err, std::string_view step) {
  return failed(stage, step, err);
}

ChildReport failed_with(Stage stage, const Error& error) {
  return failed(stage, error.step, error.err);
}

ChildReport namespace_failed(int flag, int err) {
  const NamespaceKind* kind = namespace_kind(flag);
  ChildReport report = failed(Stage::Namespace,
                              std::string("unshare(") + (kind ? kind->clone_flag : "?") + ")", err);
  report.ns_flag = flag;
  return report;
}

void reap(pid_t pid, int* status) {
  int ignored = 0;
  while (::waitpid(pid, status != nullptr ? status : &ignored, 0) < 0 && errno == EINTR) {
  }
}

ChildReport collect_report(int fd, pid_t child, int timeout_ms) {
  ChildReport report;
  const ReadResult result = read_with_deadline(fd, &report, sizeof report, timeout_ms);
  // A probe the kernel blocks forever must not hang `safeinstall check`.
  if (result != ReadResult::Complete) ::kill(child, SIGKILL);
  int status = 0;
  reap(child, &status);
  if (result == ReadResult::Complete) return report;
  if (result == ReadResult::Timeout)
    return failed(Stage::Other,
                  "probe process gave no answer within " + std::to_string(timeout_ms) + " ms",
                  ETIMEDOUT);
  if (WIFSIGNALED(status)) {
    const char* name = sigabbrev_np(WTERMSIG(status));
    return failed(Stage::Other,
                  std::string("probe process killed by SIG") + (name != nullptr ? name : "?"), 0);
  }
  return failed(Stage::Other, "probe process exited without a report", 0);
}

void pass(FeatureCheck& check, std::string detail) {
  check.ok = true;
  check.detail = std::move(detail);
  check.fix.clear();
}

void fail(FeatureCheck& check, const ChildReport& report, std::string fix, const HostKnobs& knobs) {
  check.ok = false;
  check.detail = describe(report);
  if (const auto seen = host_observations(knobs); !seen.empty()) check.detail += "; host: " + seen;
  check.fix = fix.empty() ? "see detail; `dmesg` may name the refusing policy" : std::move(fix);
}

void record(FeatureCheck& check, const ChildReport& report, std::string fix,
            const HostKnobs& knobs) {
  if (report.ok) return pass(check, report.text);
  fail(check, report, std::move(fix), knobs);
}

void record(FeatureCheck& check, const ChildReport& report, MountFs fs, const HostKnobs& knobs) {
  record(check, report, report.ok ? std::string() : fix_for(report, fs, knobs), knobs);
}

}  // namespace safeinstall::sandbox::host_check
