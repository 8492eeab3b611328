#pragma once
// Errors that carry context: which step failed, on what, with which errno, and a hint.
// The project's one error type, shared by the sandbox and the runner.

#include <cerrno>
#include <expected>
#include <string>

namespace safeinstall {

struct Error {
  std::string step;  // "mount tmpfs on /home"
  int err = 0;       // errno, 0 when not a system call failure
  std::string hint;  // what the user can do about it, may be empty

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

// The error of a failed result, passed on by a function that returns another Result type:
// `if (!opened) return propagate(opened);`
template <typename T, typename E>
std::unexpected<E> propagate(const std::expected<T, E>& failed) {
  return std::unexpected(failed.error());
}

// "EPERM" for EPERM: short names read better in reports than strerror prose.
const char* errno_name(int err);

}  // namespace safeinstall
