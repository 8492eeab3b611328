#pragma once
// --timeout bounds the whole run: the command, and every step after it that could take long
// (reviewing the package caches, listing the staged changes, promotion). One deadline, set
// when the sandbox is launched, is handed to each of them; a step that finds it passed stops
// before it changes anything, so nothing is ever half-promoted because of it.

#include <chrono>
#include <optional>

namespace safeinstall::runner {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  Deadline() = default;  // none: the run has no --timeout

  static Deadline after(std::optional<std::chrono::milliseconds> timeout) {
    Deadline deadline;
    if (timeout) deadline.at_ = Clock::now() + *timeout;
    return deadline;
  }

  bool passed() const { return at_ && Clock::now() >= *at_; }

  // The time left (zero once passed); nullopt without a deadline.
  std::optional<std::chrono::milliseconds> remaining() const {
    if (!at_) return std::nullopt;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*at_ - Clock::now());
    return std::max(left, std::chrono::milliseconds(0));
  }

 private:
  std::optional<Clock::time_point> at_;
};

}  // namespace safeinstall::runner
