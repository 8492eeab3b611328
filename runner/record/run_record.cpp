#include "runner/record/run_record.h"

#include <sys/random.h>

#include <array>
#include <ctime>

#include "runner/record/redact.h"

namespace safeinstall::runner {
namespace {

const ProcessRecord* recorded(const Outcome& outcome, pid_t pid) {
  for (auto it = outcome.processes.rbegin(); it != outcome.processes.rend(); ++it) {
    if (it->pid == pid) return &*it;
  }
  return nullptr;
}

// "(pkg@1.0.0 postinstall)" when the process is attributed to a package's script.
std::string attribution(const std::string& package, const std::string& script) {
  if (package.empty()) return {};
  return " (" + package + (script.empty() ? "" : " " + script) + ")";
}

void record_survivors(RunRecord& record, const Outcome& outcome) {
  for (const auto& s : outcome.survivors) {
    std::string who = s.argv.empty() ? "pid " + std::to_string(s.pid) : shown_command(s.argv);
    std::string detail = who + " was still running when the command exited; killed";
    // Who started it: the parent at its exec, before it was orphaned to init.
    pid_t spawner = s.ppid;
    if (const auto* self = recorded(outcome, s.pid)) {
      detail += attribution(self->package, self->script);
      spawner = self->ppid;
    }
    if (const auto* parent = recorded(outcome, spawner)) {
      detail += "; started by " + shown_command(parent->argv) + " (pid " +
                std::to_string(parent->pid) + ")";
    } else if (s.ppid > 1) {
      detail += "; started by pid " + std::to_string(s.ppid);
    }
    record.violations.push_back({ViolationKind::survivor, detail, s.pid});
  }
}

// Refused syscalls and install scripts, as the recording supervisor saw them.
void record_refusals(RunRecord& record, const Outcome& outcome) {
  for (const auto& r : outcome.refusals) {
    std::string by = r.argv.empty() ? "pid " + std::to_string(r.pid) : shown_command(r.argv);
    if (r.kind == RefusalKind::script) {
      record.violations.push_back(
          {ViolationKind::script, r.what + " refused by --scripts: " + by, r.pid});
    } else {
      record.violations.push_back({ViolationKind::syscall,
                                   r.what + " refused: " + by + attribution(r.package, r.script),
                                   r.pid});
    }
  }
  for (const auto& limit : outcome.limits_tripped)
    record.violations.push_back({ViolationKind::limit, limit, 0});
  for (const auto& a : outcome.direct_attempts) {
    if (a.kind != AttemptKind::unix_socket) continue;
    std::string by = a.argv.empty() ? "pid " + std::to_string(a.pid) : shown_command(a.argv);
    record.violations.push_back({ViolationKind::egress,
                                 a.call + " to the unix socket " + a.address +
                                     " (outside the sandbox's home, /tmp and project) refused: " +
                                     by + attribution(a.package, ""),
                                 a.pid});
  }
}

}  // namespace

std::string_view to_string(ViolationKind kind) {
  switch (kind) {
    case ViolationKind::syscall:
      return "syscall";
    case ViolationKind::egress:
      return "egress";
    case ViolationKind::write:
      return "write";
    case ViolationKind::script:
      return "script";
    case ViolationKind::limit:
      return "limit";
    case ViolationKind::survivor:
      return "survivor";
    case ViolationKind::cache:
      return "cache";
    case ViolationKind::persistence:
      return "persistence";
    case ViolationKind::credential:
      return "credential";
    case ViolationKind::exfiltration:
      return "exfiltration";
    case ViolationKind::exec:
      return "exec";
    case ViolationKind::auto_run:
      return "auto-run";
    case ViolationKind::package:
      return "package";
  }
  return "?";
}

Severity default_severity(ViolationKind kind) {
  switch (kind) {
    case ViolationKind::limit:
      return Severity::low;
    case ViolationKind::script:
    case ViolationKind::survivor:
      return Severity::medium;
    case ViolationKind::exfiltration:
      return Severity::critical;
    default:
      return Severity::high;
  }
}

Severity severity_of(const Violation& violation) {
  return violation.severity.value_or(default_severity(violation.kind));
}

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
    record.verdict = VerdictKind::failed;
    record.verdict_reasons.push_back("the sandbox could not be built: " + *record.sandbox_error +
                                     " (the command was not run)");
    return;
  }
  const Outcome& outcome = *record.outcome;
  record_survivors(record, outcome);
  record_refusals(record, outcome);
  if (outcome.timed_out) {
    record.violations.push_back(
        {ViolationKind::limit, "timeout expired; every process in the sandbox was killed", 0});
  }
  if (outcome.exec_failed) {
    record.verdict_reasons.push_back("the command could not be started: " +
                                     std::string(errno_name(outcome.exec_errno)));
  } else if (outcome.timed_out) {
    record.verdict_reasons.push_back("the command ran past --timeout");
  } else if (outcome.killed_by_user) {
    record.verdict_reasons.push_back("interrupted twice: the sandbox was killed");
  }
}

void suggest_for_audit(RunRecord& record) {
  if (!record.plan || !record.staging) return;
  static const std::deque<sandbox::ContactedHost> kNone;
  const auto& contacted = record.outcome ? record.outcome->network.contacted : kNone;
  sandbox::EgressPolicy profile_policy(record.plan->egress.patterns());
  auto suggestion = suggest_additions(contacted, profile_policy, record.staging->changes);
  suggestion.failed_exit = record.exit_code;
  record.audit = write_suggestion(std::move(suggestion), shown_command(record.command),
                                  record.staging->run_dir);
}

void suggest_how_to_pass(RunRecord& record) {
  bool held = record.verdict == VerdictKind::held;
  if (!record.outcome || (!held && record.verdict != VerdictKind::failed)) return;
  PassInputs inputs;
  inputs.changes = held && record.staging ? &record.staging->changes : nullptr;
  inputs.manifests = &record.manifests;
  inputs.network = &record.outcome->network;
  inputs.findings = &record.findings;
  auto suggestion = suggest_to_pass(inputs);
  if (suggestion.empty() && suggestion.withheld.empty()) return;
  record.pass = std::move(suggestion);
}

}  // namespace safeinstall::runner
