#pragma once
// Findings: what a run did, or brought in, that a person should know about, each with a
// severity. Behaviour (a direct connect, a persistence plant, a decoy credential read),
// auto-run points in promoted paths and package policy (a known-malicious or too-new
// version, a typosquat) all speak this one vocabulary; the verdict, the report's
// `violations[]` and `risk`, and the receipt read it.

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace safeinstall::runner {

// Ordered: a run with any finding at `medium` or above is held as suspicious.
enum class Severity { info, low, medium, high, critical };
std::string_view to_string(Severity severity);
std::optional<Severity> severity_from(std::string_view text);

enum class FindingKind {
  direct_connect,         // connect/sendto to an address, bypassing the gateway
  unlisted_dns,           // a DNS name outside the profile's hosts
  refused_egress,         // a host or unix socket the gateway or recorder refused
  persistence,            // shell rc, autostart/systemd unit, cron, git hook… in the home
  credential_read,        // a decoy credential opened by a package's process
  exfiltration,           // a decoy credential's value seen leaving through the gateway
  protected_write,        // a write under a protected project path
  refused_write,          // a write into a read-only local dependency, refused (EROFS)
  survivor,               // a process that outlived the command
  refused_syscall,        // ptrace, mount, bpf… refused by the seccomp filter
  unlisted_script,        // an install script of a package outside the script allow-list
  download_exec,          // a fetched file or a piped download executed
  auto_run,               // a file that runs by itself later (.pth, activate, .bin link…)
  malicious_package,      // a version an OSV `MAL-` entry names
  vulnerable_package,     // a version with a known vulnerability above the threshold
  too_new,                // a version younger than `min_release_age`
  unapproved_dependency,  // a new direct dependency outside the allow-lists
  typosquat,              // a new direct dependency named like a popular package
};
std::string_view to_string(FindingKind kind);

struct Finding {
  FindingKind kind = FindingKind::refused_egress;
  Severity severity = Severity::medium;
  std::string detail;   // one line a person can act on
  std::string package;  // name@version it came from, when known
  std::string path;     // the file it concerns (project-, home- or tmp-relative), when any
  pid_t pid = 0;        // the process inside the sandbox, when known
};

// At or above this a finding makes the run held as suspicious (exit_code::kSuspicious).
constexpr Severity kSuspiciousAt = Severity::medium;
bool is_suspicious(const Finding& finding);

// The report's and receipt's `risk`: a score of 0-100 summing the findings by severity
// (low 2, medium 10, high 25, critical 50), and the highest severity seen.
struct RiskSummary {
  int score = 0;
  std::optional<Severity> highest;
  std::size_t suspicious = 0;  // findings at kSuspiciousAt or above
};
RiskSummary risk_of(const std::vector<Finding>& findings);

}  // namespace safeinstall::runner
