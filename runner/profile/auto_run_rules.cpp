#include "runner/profile/auto_run_rules.h"

namespace safeinstall::runner {

Result<AutoRunRules> auto_run_rules_of(const ProfileLayer& merged) {
  AutoRunRules rules;
  for (const auto& entry : merged.autorun_points) {
    auto paths = DeepGlobSet::from(entry.paths);
    if (!paths)
      return plain_error(entry.origin.text() + ": " + paths.error().step, paths.error().hint);
    rules.points.push_back({entry.check, std::move(*paths), entry.severity, entry.why});
  }
  for (const auto& entry : merged.autorun_accept) {
    GlobSet glob;
    if (auto added = glob.add(entry.glob); !added)
      return plain_error(entry.origin.text() + ": " + added.error().step, added.error().hint);
    rules.accept.push_back({std::move(glob), entry.sha256, entry.origin.text()});
  }
  return rules;
}

}  // namespace safeinstall::runner
