#pragma once
// --scripts all | none | allow:PKG[,PKG...]: which packages' install scripts may run.
// Enforced when the script's first process execs, from the lifecycle environment the
// package manager gives it; see README for what that can and cannot guarantee.

#include <string>
#include <vector>

#include "sandbox/base/error.h"

namespace safeinstall::runner {

struct ScriptPolicy {
  enum class Mode { All, None, Allow };
  Mode mode = Mode::All;
  std::vector<std::string> allowed;  // package names, for Allow

  bool allows(const std::string& package_name) const;
  std::string describe() const;  // as given on the command line
};

Result<ScriptPolicy> parse_script_policy(const std::string& text);

}  // namespace safeinstall::runner
