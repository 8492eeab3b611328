#include "runner/cli/check_command.h"

#include <algorithm>
#include <cstdio>

#include "runner/exit_codes.h"
#include "sandbox/host_check/host_check.h"

namespace safeinstall::runner {

int run_check(bool verbose) {
  auto checks = sandbox::check_host_features();
  int width = 0;
  for (const auto& check : checks)
    width = std::max(width, static_cast<int>(check.description.size()));
  for (const auto& check : checks) {
    const char* status = check.ok ? "ok  " : (check.required ? "FAIL" : "warn");
    bool show_detail = !check.ok || verbose;
    std::printf("%s  %-*s%s%s\n", status, show_detail ? width : 0, check.description.c_str(),
                show_detail ? "  " : "", show_detail ? check.detail.c_str() : "");
    if (!check.ok && !check.fix.empty()) std::printf("      fix: %s\n", check.fix.c_str());
  }
  bool ok = sandbox::sandbox_can_be_built(checks);
  std::printf("\n%s\n", ok ? "The sandbox can be built on this host."
                           : "The sandbox cannot be built on this host: fix the FAIL lines above.");
  return ok ? exit_code::kSuccess : exit_code::kSafeinstallFailed;
}

}  // namespace safeinstall::runner
