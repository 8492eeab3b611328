#pragma once
// Hand-made changes for tests: a Change's path lives in an arena that must outlive it (its
// list's, in the program), here one kept for the whole test run.

#include <string_view>

#include "runner/fs/path_arena.h"

namespace safeinstall::change_test {

inline runner::PathRef test_path(std::string_view path) {
  static runner::PathArena arena;
  return arena.add(path);
}

}  // namespace safeinstall::change_test
