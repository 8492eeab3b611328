#include "runner/plan/environment.h"

#include <fnmatch.h>

#include <algorithm>

extern char** environ;

namespace safeinstall::runner {
namespace {

bool matches_any(const std::string& name, const std::vector<std::string>& patterns) {
  return std::ranges::any_of(patterns, [&](const std::string& pattern) {
    return ::fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
  });
}

std::string name_of(const std::string& entry) {
  return entry.substr(0, entry.find('='));
}

}  // namespace

bool looks_secret(const std::string& name, const std::vector<std::string>& secret_patterns) {
  return matches_any(name, secret_patterns);
}

ScrubbedEnvironment scrub_environment(const std::vector<std::string>& invoker,
                                      const EnvironmentPolicy& policy) {
  ScrubbedEnvironment out;
  for (const auto& entry : invoker) {
    if (entry.find('=') == std::string::npos) continue;
    std::string name = name_of(entry);
    bool asked = std::ranges::find(policy.pass, name) != policy.pass.end();
    bool allowed = matches_any(name, policy.allow) && !looks_secret(name, policy.secret);
    if (asked || allowed) {
      out.kept.push_back(entry);
    } else {
      out.dropped.push_back(name);
    }
  }
  std::ranges::sort(out.dropped);
  out.dropped.erase(std::unique(out.dropped.begin(), out.dropped.end()), out.dropped.end());
  return out;
}

void set_variable(std::vector<std::string>& env, const std::string& name,
                  const std::string& value) {
  std::string prefix = name + "=";
  auto it = std::ranges::find_if(env, [&](const std::string& e) { return e.starts_with(prefix); });
  if (it != env.end()) {
    *it = prefix + value;
  } else {
    env.push_back(prefix + value);
  }
}

std::vector<std::string> current_environment() {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
  return env;
}

}  // namespace safeinstall::runner
