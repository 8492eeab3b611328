#include "runner/report/receipt.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "runner/plan/environment.h"
#include "runner/record/redact.h"
#include "runner/record/written_areas.h"
#include "runner/supervise/process_tree.h"
#include "sandbox/base/escaped_text.h"

namespace safeinstall::runner {
namespace {

std::string join(const std::vector<std::string>& items, const char* separator = " ") {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : separator) + item;
  return text;
}

std::string seconds(std::chrono::milliseconds d) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f s", static_cast<double>(d.count()) / 1000.0);
  return buffer;
}

std::string list_some(const std::vector<std::string>& items, std::size_t shown) {
  std::vector<std::string> head(items.begin(),
                                items.begin() + static_cast<long>(std::min(shown, items.size())));
  std::string text = join(head, ", ");
  if (items.size() > shown) text += ", … (" + std::to_string(items.size() - shown) + " more)";
  return text;
}

// Every line is escaped as a whole: its text holds file names, argv, package and host names
// from inside the sandbox, and none of them may draw on the terminal (a forged verdict line).
void line(std::string& out, const std::string& label, const std::string& text) {
  out += "  " + label;
  out.append(label.size() < 11 ? 11 - label.size() : 1, ' ');
  out += sandbox::printable(text) + "\n";
}

void describe_environment(std::string& out, const RunPlan& plan,
                          const std::vector<std::string>& secret_patterns, bool verbose) {
  std::vector<std::string> secrets;
  for (const auto& name : plan.env_dropped) {
    if (looks_secret(name, secret_patterns)) secrets.push_back(name);
  }
  std::string text = "withheld " + std::to_string(plan.env_dropped.size()) + " variables";
  if (!secrets.empty()) text += "; secrets among them: " + list_some(secrets, verbose ? 1000 : 6);
  line(out, "env:", text);
}

void describe_survivors(std::string& out, const RunRecord& record) {
  const auto& outcome = *record.outcome;
  for (const auto& s : outcome.survivors) {
    if (s.pid == outcome.command_pid) continue;
    std::string who = s.argv.empty() ? "?" : join(redact_argv(s.argv));
    if (who.size() > 60) who = who.substr(0, 57) + "...";
    line(
        out, "survivor:",
        who + " (pid " + std::to_string(s.pid) + ", parent " + std::to_string(s.ppid) + ") killed");
  }
}

std::string shortened(std::string text, std::size_t width) {
  if (text.size() > width) text = text.substr(0, width - 3) + "...";
  return text;
}

// The install scripts that ran (or were refused): the first process each one started.
void describe_scripts(std::string& out, const RunRecord& record, bool verbose) {
  std::set<std::string> seen;
  for (const auto& p : record.outcome->processes) {
    if (p.package.empty() || p.script.empty() || p.script == "build") continue;
    if (!is_install_script(p.script)) continue;
    if (!seen.insert(p.package + " " + p.script).second) continue;
    std::string what = p.package + " " + p.script + ": " +
                       shortened(join(redact_argv(p.argv)), verbose ? 400 : 60);
    line(out, p.refused ? "refused:" : "script:", what);
  }
}

// Refused syscalls and direct connection attempts, with the process that tried.
void describe_refusals(std::string& out, const RunRecord& record) {
  for (const auto& r : record.outcome->refusals) {
    if (r.kind != RefusalKind::syscall) continue;
    line(out, "blocked:",
         r.what + " by " + shortened(join(redact_argv(r.argv)), 50) +
             (r.package.empty() ? "" : " (" + r.package + ")"));
  }
  for (const auto& a : record.outcome->direct_attempts) {
    std::string target = a.kind == AttemptKind::unix_socket
                             ? "unix socket " + a.address
                             : a.address + ":" + std::to_string(a.port);
    line(out, "blocked:",
         a.call + " to " + target + " by " + shortened(join(redact_argv(a.argv)), 50) +
             (a.package.empty() ? "" : " (" + a.package + ")"));
  }
}

std::string host_port(const std::string& host, std::uint16_t port) {
  return host + ":" + std::to_string(port);
}

// One line per host contacted or refused, and per DNS name refused.
void describe_network(std::string& out, const RunRecord& record) {
  const sandbox::NetworkEntries& net = record.outcome->network;
  for (const auto& c : net.contacted) {
    line(out, "reached:",
         host_port(c.host, c.port) + " via " + std::string(to_string(c.via)) + ", " +
             std::to_string(c.connections) + " connection(s), " + std::to_string(c.bytes_sent) +
             " B out, " + std::to_string(c.bytes_received) + " B in");
  }
  for (const auto& r : net.refused) {
    line(out, "refused:",
         host_port(r.host, r.port) + " (" + std::string(to_string(r.reason)) + ") ×" +
             std::to_string(r.count));
  }
  for (const auto& d : net.dns) {
    if (d.allowed) continue;
    line(out, "dns refused:", d.name + " (" + d.type + ")");
  }
}

void describe_throwaway_writes(std::string& out, const RunRecord& record, bool verbose) {
  std::size_t home = 0, tmp = 0;
  std::vector<std::string> persistence;
  if (record.plan) {
    // Directories the sandbox made only to hold its own mounts (the decoys' ~/.ssh, a carried
    // ~/.config/pip) are not the command's writes.
    home = written_in_area(record.outcome->written, "home", *record.plan).size();
    tmp = written_in_area(record.outcome->written, "tmp", *record.plan).size();
  } else {
    for (const auto& w : record.outcome->written) (w.area == "home" ? home : tmp) += 1;
  }
  for (const auto& f : record.findings)
    if (f.kind == FindingKind::persistence) persistence.push_back("~/" + f.path);
  if (home + tmp == 0) return;
  std::string text = std::to_string(home) + " entries in the throwaway home, " +
                     std::to_string(tmp) + " in /tmp (discarded)";
  line(out, "wrote:", text);
  if (!persistence.empty())
    line(out, "persistence:", "tried to plant " + list_some(persistence, verbose ? 1000 : 4));
}

// What an install command did to the manifests: each dependency, or why the edit is more.
void describe_manifests(std::string& out, const RunRecord& record, bool verbose) {
  constexpr std::size_t kShown = 10;
  for (const auto& edit : record.manifests) {
    if (!edit.accepted()) {
      line(out, "manifest:", edit.file + " changed beyond its dependencies: " + edit.outside);
      continue;
    }
    std::size_t shown = 0;
    for (const auto& d : edit.dependencies) {
      if (++shown > kShown && !verbose) {
        line(out, "manifest:",
             "… " + std::to_string(edit.dependencies.size() - kShown) +
                 " more (the report lists them)");
        break;
      }
      std::string change = d.from.empty() ? "+ " + d.name + " " + d.to
                           : d.to.empty() ? "- " + d.name + " " + d.from
                                          : "~ " + d.name + " " + d.from + " -> " + d.to;
      line(out, "manifest:", edit.file + " " + d.section + ": " + change);
    }
  }
}

// The risk summary, each finding at kSuspiciousAt or above, and every install script named.
void describe_risk(std::string& out, const RunRecord& record, bool verbose) {
  if (record.findings.empty()) return;
  RiskSummary risk = risk_of(record.findings);
  line(out, "risk:",
       "score " + std::to_string(risk.score) + "/100, highest " +
           std::string(to_string(*risk.highest)) + ", " + std::to_string(record.findings.size()) +
           " finding(s), " + std::to_string(risk.suspicious) + " suspicious");
  std::size_t shown = 0;
  for (const auto& f : record.findings) {
    // A new package's install script is named even when allowed: someone should know it ran.
    if (!is_suspicious(f) && !verbose && f.kind != FindingKind::unlisted_script) continue;
    if (++shown > 12 && !verbose) {
      line(out, "finding:", "… (the report lists every finding)");
      break;
    }
    line(out, "finding:",
         std::string(to_string(f.severity)) + " " + std::string(to_string(f.kind)) + ": " +
             f.detail);
  }
}

// How many locked packages the run added, changed and removed, per ecosystem.
void describe_packages(std::string& out, const RunRecord& record) {
  for (const auto& e : record.package_errors) line(out, "packages:", e);
  if (!record.packages || record.packages->empty()) return;
  const PackageChanges& p = *record.packages;
  std::vector<std::string> ecosystems;
  auto note = [&](const PackageVersion& v) {
    std::string name(to_string(v.ecosystem));
    if (std::find(ecosystems.begin(), ecosystems.end(), name) == ecosystems.end())
      ecosystems.push_back(name);
  };
  for (const auto& v : p.added) note(v);
  for (const auto& c : p.changed) note(c.to);
  for (const auto& v : p.removed) note(v);
  std::string names;
  for (const auto& e : ecosystems) names += (names.empty() ? "" : ", ") + e;
  line(out, "packages:",
       std::to_string(p.added.size()) + " added, " + std::to_string(p.changed.size()) +
           " changed, " + std::to_string(p.removed.size()) + " removed (" + names + ")");
}

// What --audit learned, and where the suggestion is.
void describe_audit(std::string& out, const AuditSuggestion& audit) {
  if (!audit.allow_hosts.empty())
    line(out, "audit:", "would allow " + list_some(audit.allow_hosts, 8));
  if (!audit.expected.empty()) line(out, "audit:", "would expect " + list_some(audit.expected, 8));
  if (!audit.protected_paths.empty())
    line(out, "audit:", "protected, never suggested: " + list_some(audit.protected_paths, 8));
  if (audit.inconclusive()) {
    line(out, "audit:",
         "inconclusive: the command failed (exit " + std::to_string(audit.failed_exit) +
             "), so it may have stopped before it needed more; fix the failure and audit again");
  } else if (audit.empty()) {
    line(out, "audit:", "the run needed nothing beyond its profile");
  }
  if (!audit.file.empty())
    line(out, "audit:", "suggested .safeinstall.toml additions: " + audit.file);
}

// What would have let a held run pass: the project config lines, then the same as flags.
void describe_pass(std::string& out, const PassSuggestion& pass) {
  if (!pass.withheld.empty()) line(out, pass.empty() ? "suspicious:" : "to pass:", pass.withheld);
  if (pass.empty()) return;
  line(out, "to pass:", "add to the project's .safeinstall.toml (review it first):");
  for (const auto& config : pass.config_lines()) line(out, "", "  " + config);
  std::string flags;
  for (const auto& flag : pass.flags()) flags += (flags.empty() ? "" : " ") + flag;
  line(out, "to pass:", "or run with " + flags);
}

// Where the tool's own logs went: its messages name a place in the discarded home.
void describe_logs(std::string& out, const std::vector<KeptLog>& logs) {
  for (const auto& log : logs)
    line(out, "log:",
         log.tool + "'s log " + log.inside + " is kept as " + log.path +
             (log.truncated ? " (its last " + std::to_string(kMaxLogBytes >> 10) + " KiB)" : ""));
}

void describe_staging(std::string& out, const StagingRecord& staging, bool verbose) {
  line(out, "project:",
       std::to_string(staging.changes.changes.size()) + " changes staged " +
           staging.changes.category_counts() +
           (staging.promoted ? ", promoted" : ", not promoted"));
  if (verbose || staging.copy_promotion)
    line(out, "staging:", staging.staging + " — " + staging.note);
}

}  // namespace

std::string render_receipt(const RunRecord& record, const std::string& report_path,
                           const std::vector<std::string>& secret_patterns, bool verbose) {
  std::string out = "safeinstall: `" + sandbox::printable(join(redact_argv(record.command))) + "` ";
  if (record.sandbox_error) {
    out += "was not run: the sandbox could not be built\n";
  } else {
    out += "exited " + std::to_string(record.exit_code) + " after " + seconds(record.duration) +
           " — verdict: " + std::string(to_string(record.verdict)) + "\n";
  }
  if (record.plan) {
    const RunPlan& plan = *record.plan;
    line(out, "confined:",
         "user/mount/pid/net/ipc/uts/cgroup namespaces, read-only root, no capabilities, "
         "seccomp, network only through the egress gateway");
    line(out, "allowed:",
         plan.allow_hosts.empty() ? std::string("no host (--allow-host adds one)")
                                  : join(plan.allow_hosts, ", "));
    for (const auto& note : plan.profile_notes) line(out, "profile:", note);
    line(out, "hidden:",
         std::to_string(plan.hidden.size()) + " host paths (" +
             list_some(plan.hidden, verbose ? 1000 : 4) + ")");
    describe_environment(out, plan, secret_patterns, verbose);
    std::vector<std::string> toolchains;
    for (const auto& t : plan.toolchains) toolchains.push_back(t.path);
    if (!toolchains.empty()) line(out, "read-only:", list_some(toolchains, verbose ? 1000 : 4));
    if (!plan.local_dependencies.empty())
      line(out, "local deps:",
           list_some(plan.local_dependencies, verbose ? 1000 : 4) +
               " (read-only, named by the manifest)");
  }
  if (record.outcome) {
    describe_scripts(out, record, verbose);
    describe_refusals(out, record);
    describe_survivors(out, record);
    describe_network(out, record);
    describe_throwaway_writes(out, record, verbose);
  }
  if (record.staging) describe_staging(out, *record.staging, verbose);
  describe_packages(out, record);
  describe_manifests(out, record, verbose);
  describe_risk(out, record, verbose);
  if (record.audit) describe_audit(out, *record.audit);
  for (const auto& reason : record.verdict_reasons) line(out, "why:", reason);
  if (record.pass) describe_pass(out, *record.pass);
  bool clean = record.verdict == VerdictKind::promoted && record.exit_code == 0;
  if (!clean || verbose) describe_logs(out, record.logs);
  if (record.staging) {
    for (const auto& step : record.staging->next_steps) line(out, "next:", step);
  }
  if (!report_path.empty()) line(out, "report:", report_path);
  return out;
}

std::string render_receipt_line(const RunRecord& record) {
  constexpr std::size_t kShown = 3;
  // Escaped as a whole below: manifest and host names come from inside the sandbox.
  std::string out = "`" + join(redact_argv(record.command)) + "` ";
  std::size_t changes = record.staging ? record.staging->changes.changes.size() : 0;
  out += changes == 0 ? std::string("changed nothing in the project")
                      : "promoted " + std::to_string(changes) + " change(s)";
  out += " in " + seconds(record.duration);
  std::vector<std::string> edits;
  for (const auto& edit : record.manifests) {
    for (const auto& d : edit.dependencies) {
      edits.push_back(d.from.empty() ? "+" + d.name + " " + d.to
                      : d.to.empty() ? "-" + d.name
                                     : "~" + d.name + " " + d.to);
    }
    if (!edits.empty()) out += " · " + edit.file + ": " + list_some(edits, kShown);
    edits.clear();
  }
  if (record.outcome) {
    std::vector<std::string> hosts;
    for (const auto& c : record.outcome->network.contacted)
      if (std::find(hosts.begin(), hosts.end(), c.host) == hosts.end()) hosts.push_back(c.host);
    if (!hosts.empty()) out += " · reached " + list_some(hosts, kShown);
  }
  return "safeinstall: " + sandbox::printable(out) + "\n";
}

}  // namespace safeinstall::runner
