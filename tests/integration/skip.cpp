#include "tests/integration/skip.h"

#include <map>

namespace safeinstall::test {

std::optional<std::string> sandbox_unavailable(Who who) {
  static std::map<Who, std::optional<std::string>> cache;
  if (auto it = cache.find(who); it != cache.end()) return it->second;
  std::optional<std::string> reason;
  if (who == Who::Unprivileged && !running_as_root()) {
    reason = "the unprivileged variant switches to uid 65534, which needs root";
  } else {
    Scenario s(who);
    auto run = s.run({"true"});
    // Only a kernel refusal to create the namespaces is a reason to skip; any other failure
    // is a defect, and the test goes on to show it.
    bool kernel_refused =
        run.result.err.find("create the sandbox namespaces") != std::string::npos ||
        run.result.err.find("map the user namespace ids") != std::string::npos;
    if (run.exit_code() != 0 && kernel_refused)
      reason = "the kernel refused the sandbox: " + run.result.err;
  }
  cache[who] = reason;
  return reason;
}

}  // namespace safeinstall::test
