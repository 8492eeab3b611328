#include "runner/record/audit_suggestion.h"

#include "runner/record/expected_globs.h"

#include <toml++/toml.h>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

namespace safeinstall::runner {
namespace {

toml::array array_of(const std::vector<std::string>& values) {
  toml::array out;
  for (const auto& v : values) out.push_back(v);
  return out;
}

}  // namespace

std::string host_pattern_text(const std::string& host, std::uint16_t port) {
  bool ipv6 = host.find(':') != std::string::npos;
  std::string shown = ipv6 ? "[" + host + "]" : host;
  return port == sandbox::kDefaultAllowedPort ? shown : shown + ":" + std::to_string(port);
}

AuditSuggestion suggest_additions(const std::deque<sandbox::ContactedHost>& contacted,
                                  const sandbox::EgressPolicy& profile_policy,
                                  const ChangeList& changes) {
  std::set<std::string> hosts, protected_paths;
  for (const auto& entry : contacted) {
    if (entry.host.empty() || entry.port == 0) continue;
    if (!profile_policy.allows(entry.host, entry.port))
      hosts.insert(host_pattern_text(entry.host, entry.port));
  }
  for (const auto& c : changes.changes)
    if (c.category == Category::protected_) protected_paths.insert(c.path.str());
  AuditSuggestion suggestion;
  suggestion.allow_hosts = {hosts.begin(), hosts.end()};
  suggestion.expected = expected_globs_for(changes);
  suggestion.protected_paths = {protected_paths.begin(), protected_paths.end()};
  return suggestion;
}

std::string render_suggestion(const AuditSuggestion& suggestion, const std::string& command) {
  std::ostringstream out;
  out << "# safeinstall --audit of `" << command << "`: what this run needed beyond its profile.\n"
      << "# Review every line, then add what you trust to the project's .safeinstall.toml.\n";
  if (suggestion.inconclusive()) {
    out << "# Inconclusive: the command failed (exit " << suggestion.failed_exit
        << "), so it may have stopped\n# before it needed more. Fix the failure and audit again.\n";
  } else if (suggestion.empty()) {
    out << "# Nothing to add: the run needed nothing its profile lacks.\n";
  }
  toml::table table;
  if (!suggestion.allow_hosts.empty())
    table.insert("network", toml::table{{"allow", array_of(suggestion.allow_hosts)}});
  if (!suggestion.expected.empty())
    table.insert("files", toml::table{{"expected", array_of(suggestion.expected)}});
  if (!table.empty()) out << "\n" << table << "\n";
  if (!suggestion.protected_paths.empty()) {
    out << "\n# The run also wrote protected paths. They are never suggested: promote them\n"
        << "# deliberately (`safeinstall promote --allow-protected RUN_ID`) if they are right.\n";
    for (const auto& path : suggestion.protected_paths) out << "#   " << path << "\n";
  }
  return out.str();
}

AuditSuggestion write_suggestion(AuditSuggestion suggestion, const std::string& command,
                                 const std::string& run_dir) {
  std::string file = run_dir + "/audit.toml";
  std::ofstream out(file, std::ios::trunc);
  out << render_suggestion(suggestion, command);
  out.close();
  if (out) {
    suggestion.file = file;
  } else {
    std::fprintf(stderr, "safeinstall: could not write the audit suggestion to %s\n", file.c_str());
  }
  return suggestion;
}

}  // namespace safeinstall::runner
