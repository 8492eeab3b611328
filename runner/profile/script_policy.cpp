#include "runner/profile/script_policy.h"

#include <algorithm>

namespace safeinstall::runner {

bool ScriptPolicy::allows(const std::string& package_name) const {
  switch (mode) {
    case Mode::All:
      return true;
    case Mode::None:
      return false;
    case Mode::Allow:
      return std::ranges::find(allowed, package_name) != allowed.end();
  }
  return false;
}

std::string ScriptPolicy::describe() const {
  if (mode == Mode::All) return "all";
  if (mode == Mode::None) return "none";
  std::string text = "allow:";
  for (std::size_t i = 0; i < allowed.size(); ++i) text += (i ? "," : "") + allowed[i];
  return text;
}

Result<ScriptPolicy> parse_script_policy(const std::string& text) {
  if (text == "all") return ScriptPolicy{};
  if (text == "none") return ScriptPolicy{ScriptPolicy::Mode::None, {}};
  constexpr std::string_view kAllow = "allow:";
  if (!text.starts_with(kAllow))
    return plain_error("--scripts " + text + ": expected all, none or allow:PKG[,PKG...]");
  ScriptPolicy policy{ScriptPolicy::Mode::Allow, {}};
  std::string rest = text.substr(kAllow.size());
  std::size_t start = 0;
  while (start <= rest.size()) {
    std::size_t comma = rest.find(',', start);
    if (comma == std::string::npos) comma = rest.size();
    std::string name = rest.substr(start, comma - start);
    if (name.empty())
      return plain_error("--scripts " + text + ": empty package name in the allow list");
    policy.allowed.push_back(name);
    start = comma + 1;
  }
  return policy;
}

}  // namespace safeinstall::runner
