#include "runner/check_command.h"

#include <cstdio>

#include "runner/exit_codes.h"
#include "sandbox/host_check.h"

namespace safeinstall::runner {

int run_check(bool verbose) {
  auto checks = sandbox::check_host_features();
  for (const auto& check : checks) {
    const char* status = check.ok ? "ok  " : (check.required ? "FAIL" : "warn");
    std::printf("%s  %-34s %s\n", status, check.description.c_str(),
                check.ok && !verbose ? "" : check.detail.c_str());
    if (!check.ok && !check.fix.empty()) std::printf("      fix: %s\n", check.fix.c_str());
  }
  bool ok = sandbox::sandbox_can_be_built(checks);
  std::printf("\n%s\n", ok ? "The sandbox can be built on this host."
                           : "The sandbox cannot be built on this host: fix the FAIL lines above.");
  return ok ? exit_code::kSuccess : exit_code::kSafeinstallFailed;
}

}  // namespace safeinstall::runner
