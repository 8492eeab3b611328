#pragma once
// Environment variables, from this process or from a list of "NAME=value" entries (the
// invoker's environment as the runner holds it, or one built for the sandbox).

#include <span>
#include <string>
#include <string_view>

namespace safeinstall {

// The value of the first entry for `name` in `env`; "" when there is none.
std::string env_value(std::span<const std::string> env, std::string_view name);

// std::getenv as a string; "" when unset.
std::string getenv_string(const char* name);

}  // namespace safeinstall
