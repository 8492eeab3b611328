#include "runner/judge/decoy_findings.h"

#include <algorithm>
#include <set>

#include "runner/record/redact.h"

namespace safeinstall::runner {
namespace {

std::string joined(const std::vector<std::string>& words, const char* separator) {
  std::string text;
  for (const auto& w : words) text += (text.empty() ? "" : separator) + w;
  return text;
}

// "home-relative" as the finding's path: the home's own files are named without "~/".
std::string path_of(const std::string& decoy) {
  return decoy.starts_with("~/") ? decoy.substr(2) : decoy;
}

// A process of the tool itself (no package or script of its own) opening a file the profile
// says the tool reads: npm reading ~/.npmrc.
bool is_tool_reading_its_own(const DecoyRead& read, const RunPlan& plan) {
  if (!read.pid_known || !read.process.package.empty() || !read.process.script.empty())
    return false;
  return std::ranges::find(plan.decoy_tool_reads, read.file) != plan.decoy_tool_reads.end();
}

// Without a pid, the scripts that ran are what a person has to go on.
std::string scripts_that_ran(const Outcome& outcome) {
  std::set<std::string> scripts;
  for (const auto& p : outcome.processes) {
    if (!p.package.empty()) scripts.insert(p.package + (p.script.empty() ? "" : " " + p.script));
  }
  if (scripts.empty()) return "no package script was recorded";
  return "package scripts that ran: " + joined({scripts.begin(), scripts.end()}, ", ");
}

Finding read_finding(const DecoyRead& read, const Outcome& outcome) {
  Finding f;
  f.kind = FindingKind::credential_read;
  f.severity = Severity::high;
  f.path = path_of(read.file);
  f.package = read.process.package;
  f.pid = read.process.pid;
  std::string what = "the decoy credential " + read.file + " (a fake made for this run) was opened";
  if (!read.pid_known) {
    f.detail = what + "; the process is not known (watched without privileges, by inotify): " +
               scripts_that_ran(outcome);
    return f;
  }
  if (read.process.argv.empty()) {
    f.detail = what + " by host pid " + std::to_string(read.host_pid);
    return f;
  }
  f.detail = what + " by " + joined(redact_argv(read.process.argv), " ") + " (pid " +
             std::to_string(read.process.pid) + ")";
  if (!read.process.package.empty())
    f.detail += ", " + read.process.package +
                (read.process.script.empty() ? "" : " " + read.process.script + " script");
  return f;
}

}  // namespace

std::vector<Finding> decoy_findings(const RunRecord& record) {
  std::vector<Finding> out;
  if (!record.outcome || !record.plan) return out;
  for (const auto& read : record.outcome->decoy_reads) {
    if (is_tool_reading_its_own(read, *record.plan)) continue;
    out.push_back(read_finding(read, *record.outcome));
  }
  for (const auto& e : record.outcome->network.exfiltration) {
    out.push_back({FindingKind::exfiltration,
                   Severity::critical,
                   "the value of the decoy credential " + e.decoy +
                       " left through the gateway in " +
                       (e.where.starts_with("dns") ? "a " : "the ") + e.where + " to " +
                       (e.host.empty() ? std::string("(no host named)") : e.host) + " (" +
                       std::to_string(e.count) + "×)",
                   {},
                   path_of(e.decoy),
                   0});
  }
  return out;
}

}  // namespace safeinstall::runner
