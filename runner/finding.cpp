#include "runner/finding.h"

#include <algorithm>
#include <array>
#include <utility>

namespace safeinstall::runner {
namespace {

constexpr std::array<std::pair<Severity, std::string_view>, 5> kSeverityNames{{
    {Severity::info, "info"},
    {Severity::low, "low"},
    {Severity::medium, "medium"},
    {Severity::high, "high"},
    {Severity::critical, "critical"},
}};

int weight_of(Severity severity) {
  switch (severity) {
    case Severity::info:
      return 0;
    case Severity::low:
      return 2;
    case Severity::medium:
      return 10;
    case Severity::high:
      return 25;
    case Severity::critical:
      return 50;
  }
  return 0;
}

}  // namespace

std::string_view to_string(Severity severity) {
  for (const auto& [value, name] : kSeverityNames)
    if (value == severity) return name;
  return "?";
}

std::optional<Severity> severity_from(std::string_view text) {
  for (const auto& [value, name] : kSeverityNames)
    if (name == text) return value;
  return std::nullopt;
}

std::string_view to_string(FindingKind kind) {
  switch (kind) {
    case FindingKind::direct_connect:
      return "direct-connect";
    case FindingKind::unlisted_dns:
      return "unlisted-dns";
    case FindingKind::refused_egress:
      return "refused-egress";
    case FindingKind::persistence:
      return "persistence";
    case FindingKind::credential_read:
      return "credential-read";
    case FindingKind::exfiltration:
      return "exfiltration";
    case FindingKind::protected_write:
      return "protected-write";
    case FindingKind::refused_write:
      return "refused-write";
    case FindingKind::survivor:
      return "survivor";
    case FindingKind::refused_syscall:
      return "refused-syscall";
    case FindingKind::unlisted_script:
      return "unlisted-script";
    case FindingKind::download_exec:
      return "download-exec";
    case FindingKind::auto_run:
      return "auto-run";
    case FindingKind::malicious_package:
      return "malicious-package";
    case FindingKind::vulnerable_package:
      return "vulnerable-package";
    case FindingKind::too_new:
      return "too-new";
    case FindingKind::unapproved_dependency:
      return "unapproved-dependency";
    case FindingKind::typosquat:
      return "typosquat";
  }
  return "?";
}

bool is_suspicious(const Finding& finding) {
  return finding.severity >= kSuspiciousAt;
}

RiskSummary risk_of(const std::vector<Finding>& findings) {
  RiskSummary risk;
  for (const auto& f : findings) {
    risk.score = std::min(100, risk.score + weight_of(f.severity));
    if (!risk.highest || f.severity > *risk.highest) risk.highest = f.severity;
    if (is_suspicious(f)) ++risk.suspicious;
  }
  return risk;
}

}  // namespace safeinstall::runner
