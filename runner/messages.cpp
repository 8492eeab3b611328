#include "runner/messages.h"

#include <cstdio>

#include "runner/exit_codes.h"
#include "sandbox/base/escaped_text.h"

namespace safeinstall::runner {

void tell(const std::string& message) {
  // Error::message() puts its hint on a line of its own; any other newline is shown escaped,
  // so text from a command cannot start a line that looks like safeinstall's.
  constexpr std::string_view kHint = "\n  hint: ";
  auto hint = message.rfind(kHint);
  if (hint == std::string::npos) {
    std::fprintf(stderr, "safeinstall: %s\n", sandbox::printable(message).c_str());
    return;
  }
  std::fprintf(stderr, "safeinstall: %s\n  hint: %s\n",
               sandbox::printable(message.substr(0, hint)).c_str(),
               sandbox::printable(message.substr(hint + kHint.size())).c_str());
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
