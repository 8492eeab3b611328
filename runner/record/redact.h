#pragma once
// Recorded argv and values are redacted where they look like secrets, so a report can be
// shared or uploaded as a CI artifact without leaking what the command was given.

#include <string>
#include <vector>

namespace safeinstall::runner {

std::string redact(const std::string& text);
std::vector<std::string> redact_argv(const std::vector<std::string>& argv);

// The argv redacted and joined with spaces, as the receipt, findings and `runs show` name a
// command.
std::string shown_command(const std::vector<std::string>& argv);

}  // namespace safeinstall::runner
