#include "runner/messages.h"

#include <cstdio>

#include "runner/exit_codes.h"
#include "sandbox/base/escaped_text.h"

namespace safeinstall::runner {

void tell(const std::string& message) {
  std::fprintf(stderr, "safeinstall: %s\n", sandbox::printable(message).c_str());
}

void tell_detail(const std::string& label, const std::string& text) {
  std::fprintf(stderr, "  %s: %s\n", sandbox::printable(label).c_str(),
               sandbox::printable(text).c_str());
}

int fail(const std::string& message) {
  tell(message);
  return exit_code::kSafeinstallFailed;
}

}  // namespace safeinstall::runner
