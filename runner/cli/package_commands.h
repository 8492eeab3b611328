#pragma once
// The package commands: `safeinstall db import SOURCE...` (the offline OSV database),
// `safeinstall db check LOCKFILE...` (the known-bad check alone, for measuring it) and
// `safeinstall scan PATH...` (is a package version, or anything an OSV MAL- entry names,
// installed anywhere; did a kept run run its scripts, and which hosts did that run reach).

#include <string>
#include <vector>

namespace safeinstall::runner {

// `into` empty: the state dir's database. Exit 0, or 125 when nothing could be imported.
int db_import_command(const std::vector<std::string>& sources, const std::string& into);

// Every package of each lockfile checked against `db` (and the imported one); exit 1 when
// any is known-bad, 0 when none, 125 on errors.
int db_check_command(const std::vector<std::string>& lockfiles, const std::string& db,
                     const std::string& vuln_severity);

struct ScanRequest {
  std::vector<std::string> paths;     // projects (walked) and lockfiles
  std::vector<std::string> packages;  // NAME@VERSION or NAME
  std::string db;                     // --db DIR; the imported database is used as well
  bool json = false;
  bool runs = true;  // also the reports of the runs kept in the state dir
};

// Exit 0 clean, 1 found, 125 when something could not be read and nothing was found.
int scan_command(const ScanRequest& request);

}  // namespace safeinstall::runner
