#pragma once
// What the user asked for on the command line, before anything is resolved.

#include <optional>
#include <string>
#include <vector>

namespace safeinstall::runner {

struct Options {
  std::vector<std::string> command;  // COMMAND and its arguments, verbatim
  std::string project;               // empty: the current directory
  std::string report_path;           // empty: no report file
  std::string sarif_path;            // --sarif FILE: the run as SARIF 2.1.0
  // --summary FILE: the run as Markdown; empty: $GITHUB_STEP_SUMMARY when set (appended)
  std::string summary_path;
  // --format sarif|markdown|json: stdout carries that view of the run and nothing else (the
  // command's stdout and the receipt go to stderr); empty: stdout is the command's.
  std::string format;
  std::optional<double> timeout_seconds;
  bool verbose = false;
  int quiet = 0;  // -q: one line unless something went wrong; -qq: nothing then
  std::vector<std::string> pass_env;
  std::vector<std::string> allow_hosts;  // --allow-host patterns for the egress gateway
  std::string home_size;                 // empty: the base profile's
  std::string tmp_size;
  // Recording and limits (see runner/plan/recording_settings.h).
  std::string scripts = "all";  // all | none | allow:PKG[,PKG...]
  // Unset: the profile's [limits] default (runner/plan/profile_loader.cpp fills them in).
  std::string memory;        // --memory SIZE
  std::optional<long> pids;  // --pids N
  std::optional<double> cpu_time_seconds;
  std::string disk;           // --disk SIZE: bytes staged (project and caches)
  std::optional<long> files;  // --files N: entries staged
  // Staging: what happens to the project's staged changes after the command.
  bool no_promote = false;          // stage only; the run is kept
  bool yes = false;                 // promote a held run (protected paths still need the next)
  bool allow_protected = false;     // promote protected paths too
  bool promote_on_failure = false;  // judge and promote even when the command failed
  std::vector<std::string> expect;  // --expect GLOB: more expected project writes
  bool audit = false;               // --audit: egress to any public host, held, suggestions
  bool no_decoys = false;           // --no-decoys: no decoy credentials in the home
  bool allow_broad = false;         // --allow-broad: host patterns such as *.com are accepted
  // --trust-project-config: in CI, a project's .safeinstall.toml may widen the sandbox
  bool trust_project_config = false;
  // Profiles (see docs/profiles.md).
  std::string profile;                   // --profile NAME; empty: matched from the command
  std::vector<std::string> credentials;  // --credentials FILE: mounted read-only, unstripped
  std::vector<std::string> ro_binds;     // --ro-bind PATH: one more host path, read-only
  bool scripts_given = false;            // --scripts was given (else the profile's policy)
  // Package policy (docs/policy.md): --osv-db DIR, else the profile's [policy] osv_db; the
  // database `safeinstall db import` made is consulted as well. Empty severity: "high".
  std::string osv_db;
  std::string vuln_severity;
};

}  // namespace safeinstall::runner
