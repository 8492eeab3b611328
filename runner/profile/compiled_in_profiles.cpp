#include "runner/profile/compiled_in_profiles.h"

#include <algorithm>

namespace safeinstall::runner {

const CompiledInProfile* compiled_in_profile(std::string_view name) {
  auto profiles = compiled_in_profiles();
  auto found = std::ranges::find(profiles, name, &CompiledInProfile::name);
  return found == profiles.end() ? nullptr : &*found;
}

}  // namespace safeinstall::runner
