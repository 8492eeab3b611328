#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <csignal>
#include <fstream>
#include <iterator>

#include "sandbox/base/proc.h"

using safeinstall::list_proc_pids;
using safeinstall::read_proc_argv;
using safeinstall::read_proc_ids;
using safeinstall::StatFields;

TEST_CASE("proc: stat fields are counted from the command name's last parenthesis") {
  StatFields plain("42 (npm) S 7 42 42 0 -1");
  CHECK(plain.number(1) == 42);
  CHECK(plain.text(2) == "npm");
  CHECK(plain.text(3) == "S");
  CHECK(plain.number(4) == 7);
  CHECK(plain.number(8) == -1);
  CHECK_FALSE(plain.text(9));
  CHECK_FALSE(plain.text(0));

  StatFields tricky("43 (a) S 9 (b)) Z 11 12\n");
  CHECK(tricky.text(2) == "a) S 9 (b)");
  CHECK(tricky.text(3) == "Z");
  CHECK(tricky.number(4) == 11);
  CHECK(tricky.number(5) == 12);
  CHECK_FALSE(tricky.text(6));
  CHECK_FALSE(tricky.number(3));

  StatFields spaces("44 (two  words ) R 1");
  CHECK(spaces.text(2) == "two  words ");
  CHECK(spaces.text(3) == "R");

  StatFields broken("45 no name");
  CHECK_FALSE(broken.text(1));
  CHECK_FALSE(StatFields("").text(1));
}

TEST_CASE("proc: a child's stat, ids and argv as the parent reads them") {
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::prctl(PR_SET_NAME, "x) R 1 (y", 0, 0, 0);
    (void)!::write(ready[1], "r", 1);
    ::pause();
    ::_exit(0);
  }
  ::close(ready[1]);
  char byte = 0;
  REQUIRE(::read(ready[0], &byte, 1) == 1);
  ::close(ready[0]);

  std::string line = StatFields::read(child);
  StatFields stat(line);
  CHECK(stat.number(1) == child);
  CHECK(stat.text(2) == "x) R 1 (y");
  CHECK(stat.number(4) == ::getpid());

  auto ids = read_proc_ids(child);
  CHECK(ids.ppid == ::getpid());
  CHECK(ids.inner > 0);

  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string own((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto argv = read_proc_argv(child, 1 << 20);
  REQUIRE_FALSE(argv.empty());
  CHECK(argv.front() == own.substr(0, own.find('\0')));
  auto cut = read_proc_argv(child, 3);
  REQUIRE(cut.size() == 1);
  CHECK(cut.front() == own.substr(0, 3));

  auto pids = list_proc_pids();
  CHECK(std::ranges::find(pids, child) != pids.end());

  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  CHECK(read_proc_argv(child, 100).empty());
  CHECK(StatFields::read(child).empty());
}

TEST_CASE("proc: the caller's own stat line") {
  std::string line = StatFields::read_own();  // the fields are views into it
  StatFields own(line);
  CHECK(own.number(1) == ::getpid());
  CHECK(own.number(4) == ::getppid());
}
