#pragma once
// The resolved profile's auto-run points and the user's acceptances, compiled once for the
// verdict (runner/judge/auto_run_points.h does the checking).

#include <string>
#include <vector>

#include "runner/finding.h"
#include "runner/fs/deep_glob.h"
#include "runner/fs/path_globs.h"
#include "runner/profile/profile_schema.h"
#include "sandbox/base/error.h"

namespace safeinstall::runner {

struct AutoRunPoint {
  AutoRunCheck check = AutoRunCheck::written;
  DeepGlobSet paths;
  Severity severity = Severity::high;
  std::string why;
};

struct AutoRunAcceptance {
  GlobSet glob;
  std::string sha256;  // lowercase hex
  std::string origin;  // file:line:col of the entry
};

struct AutoRunRules {
  std::vector<AutoRunPoint> points;
  std::vector<AutoRunAcceptance> accept;
};

// The merged layer's [autorun] (its globs were validated when each file was read).
Result<AutoRunRules> auto_run_rules_of(const ProfileLayer& merged);

}  // namespace safeinstall::runner
