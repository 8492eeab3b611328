#pragma once
// The support tests' skips: only where this machine lacks what the test needs (root and
// network namespaces for a fake internet; a package manager scripts/setup.sh installs), with
// the reason printed.

#include <catch2/catch.hpp>

#include "tests/support/fake_internet.h"
#include "tests/support/run.h"

#define SKIP_UNLESS_FAKE_INTERNET()                                               \
  do {                                                                            \
    if (auto reason_ = ::safeinstall::test::FakeInternet::unavailable_reason()) { \
      WARN("skipped: no fake internet here: " << *reason_);                       \
      return;                                                                     \
    }                                                                             \
  } while (false)

#define SKIP_UNLESS_INSTALLED(tool)                                                    \
  do {                                                                                 \
    if (::safeinstall::test::which(tool).empty()) {                                    \
      WARN("skipped: " << tool << " is not installed (scripts/setup.sh installs it)"); \
      return;                                                                          \
    }                                                                                  \
  } while (false)
