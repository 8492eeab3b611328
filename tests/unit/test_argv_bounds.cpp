#include <catch2/catch.hpp>

#include "runner/argv_bounds.h"
#include "runner/supervise/process_tree.h"

using namespace safeinstall::runner;

TEST_CASE("argv bounds: an ordinary argv is kept whole") {
  std::vector<std::string> argv{"npm", "ci", "--ignore-scripts"};
  CHECK_FALSE(bound_argv(argv));
  CHECK(argv == std::vector<std::string>{"npm", "ci", "--ignore-scripts"});
}

TEST_CASE("argv bounds: count, length and total are cut, and the cut is reported") {
  const ArgvBounds bounds;
  std::vector<std::string> many(300, "x");
  CHECK(bound_argv(many));
  CHECK(many.size() == bounds.max_args);

  std::vector<std::string> long_one{"true", std::string(100000, 'a')};
  CHECK(bound_argv(long_one));
  CHECK(long_one[1].size() == bounds.max_arg_bytes);

  std::vector<std::string> heavy(16, std::string(4096, 'a'));
  CHECK(bound_argv(heavy));
  std::size_t total = 0;
  for (const auto& a : heavy) total += a.size();
  CHECK(total == bounds.max_total_bytes);
  CHECK(heavy.size() == bounds.max_total_bytes / bounds.max_arg_bytes);
}

TEST_CASE("argv bounds: the process tree keeps bounded argv and stops keeping it past the budget") {
  ProcessTree tree;
  const std::vector<std::string> heavy(16, std::string(4096, 'a'));
  std::size_t records = kMaxRunArgvBytes / ArgvBounds{}.max_total_bytes + 2;
  for (std::size_t i = 0; i < records; ++i) {
    ProcessRecord record;
    record.host_pid = static_cast<pid_t>(1000 + i);
    record.pid = static_cast<pid_t>(2 + i);
    record.argv = heavy;
    tree.add(std::move(record), {}, 0);
  }
  const auto& first = tree.records().front();
  CHECK(first.argv_truncated);
  CHECK(first.argv.size() == 8);
  const auto& last = tree.records().back();
  CHECK(last.argv_truncated);
  CHECK(last.argv.size() == 1);  // the program name only
}
