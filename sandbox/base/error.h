#pragma once
// Errors that carry context: which step failed, on what, with which errno, and a hint.

#include <cerrno>
#include <expected>
#include <string>

namespace safeinstall::sandbox {

struct Error {
  std::string step;    // "mount tmpfs on /home"
  int err = 0;         // errno, 0 when not a system call failure
  std::string hint;    // what the user can do about it, may be empty

  std::string message() const;
};

template <typename T = void>
using Result = std::expected<T, Error>;

// Captures errno at the call site of a failed system call.
inline std::unexpected<Error> sys_error(std::string step, std::string hint = {}) {
  return std::unexpected(Error{std::move(step), errno, std::move(hint)});
}

inline std::unexpected<Error> plain_error(std::string step, std::string hint = {}) {
  return std::unexpected(Error{std::move(step), 0, std::move(hint)});
}

// "EPERM" for EPERM: short names read better in reports than strerror prose.
const char* errno_name(int err);

}  // namespace safeinstall::sandbox
