#pragma once
// What safeinstall tells the user on stderr besides the receipt. A message can carry paths,
// argv and names from inside the sandbox (an error naming a staged file, a verdict reason),
// so each one is escaped with sandbox::printable() on its way out.

#include <string>

namespace safeinstall::runner {

// "safeinstall: MESSAGE" on stderr.
void tell(const std::string& message);

// "  LABEL: TEXT" on stderr: a detail under the message before it.
void tell_detail(const std::string& label, const std::string& text);

// tell(), then the exit code of safeinstall's own failures.
int fail(const std::string& message);

}  // namespace safeinstall::runner
