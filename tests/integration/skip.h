#pragma once
// Tests that need namespaces skip, with the kernel's reason printed, only where the kernel
// refuses them; everywhere else they run.

#include <catch2/catch.hpp>
#include <optional>
#include <string>

#include "tests/integration/harness.h"

namespace safeinstall::test {

// nullopt when `safeinstall -- true` works for this user; otherwise why it does not.
std::optional<std::string> sandbox_unavailable(Who who);

}  // namespace safeinstall::test

#define SKIP_UNLESS_SANDBOX(who)                                                     \
  do {                                                                               \
    if (auto reason_ = ::safeinstall::test::sandbox_unavailable(who)) {              \
      WARN("skipped for " << ::safeinstall::test::name_of(who) << ": " << *reason_); \
      return;                                                                        \
    }                                                                                \
  } while (false)
