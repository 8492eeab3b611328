#pragma once
// What the structured sanitizers (TOML, YAML) carry while they walk a file: the dialect's
// allow-list, the path of the setting at hand, and what is kept and dropped so far.

#include <optional>
#include <string>
#include <vector>

#include "runner/profile/carryover/allowed_settings.h"
#include "runner/profile/carryover/config_text.h"
#include "runner/profile/carryover/sanitized_config.h"

namespace safeinstall::runner {

class SettingWalk {
 protected:
  explicit SettingWalk(ConfigDialect dialect) : dialect_(dialect) {}

  // The kind of the setting at `path_`; nullopt when it is not allowed as a whole.
  std::optional<ValueKind> allowed_here() const { return allowed_setting(dialect_, path_); }
  // Whether an allowed setting lies below `path_` (a table or mapping to look into).
  bool leads_to_allowed_here() const { return leads_to_allowed(dialect_, path_); }
  // The setting at `path_` is held back: noted by name.
  void drop_here() { note_dropped(out_, dotted(path_)); }

  std::vector<std::string> path_;
  SanitizedConfig out_;

 private:
  ConfigDialect dialect_;
};

}  // namespace safeinstall::runner
