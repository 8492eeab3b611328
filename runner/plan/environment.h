#pragma once
// The sandbox's environment: the invoker's, scrubbed to an allow-list, with secrets withheld.

#include <string>
#include <vector>

namespace safeinstall::runner {

struct EnvironmentPolicy {
  std::vector<std::string> allow;   // shell patterns of names that pass
  std::vector<std::string> secret;  // shell patterns never passed unless named in pass
  std::vector<std::string> pass;    // exact names the user asked to pass (--pass-env)
};

struct ScrubbedEnvironment {
  std::vector<std::string> kept;     // NAME=VALUE
  std::vector<std::string> dropped;  // names only, sorted
};

bool looks_secret(const std::string& name, const std::vector<std::string>& secret_patterns);

// `invoker` holds NAME=VALUE entries (usually environ).
ScrubbedEnvironment scrub_environment(const std::vector<std::string>& invoker,
                                      const EnvironmentPolicy& policy);

// Replaces or adds NAME=VALUE.
void set_variable(std::vector<std::string>& env, const std::string& name, const std::string& value);

std::vector<std::string> current_environment();

}  // namespace safeinstall::runner
