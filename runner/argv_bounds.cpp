#include "runner/argv_bounds.h"

#include <algorithm>

namespace safeinstall::runner {

bool bound_argv(std::vector<std::string>& argv, const ArgvBounds& bounds) {
  bool cut = false;
  if (argv.size() > bounds.max_args) {
    argv.resize(bounds.max_args);
    cut = true;
  }
  std::size_t total = 0;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    std::size_t room = bounds.max_total_bytes - total;
    std::size_t keep = std::min({argv[i].size(), bounds.max_arg_bytes, room});
    if (keep < argv[i].size()) {
      argv[i].resize(keep);
      cut = true;
    }
    total += keep;
    if (total == bounds.max_total_bytes && i + 1 < argv.size()) {
      argv.resize(i + 1);
      return true;
    }
  }
  return cut;
}

}  // namespace safeinstall::runner
