// Tree removal (runner/fs/tree_removal.cpp): whatever a sandbox can build in its staging dir,
// however deep, is removed in linear time without running out of fds or path length.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "runner/fs/fs_tree.h"
#include "tests/unit/staging_test_support.h"

using namespace safeinstall::runner;
using safeinstall::sandbox::UniqueFd;
using safeinstall::staging_test::ScratchDir;

namespace {

std::size_t open_fds() {
  std::size_t count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  while (dir != nullptr && ::readdir(dir) != nullptr) ++count;
  if (dir != nullptr) ::closedir(dir);
  return count;
}

// `depth` nested directories named "d" under `root`, built one level at a time through fds
// (no path could name the bottom), with a file at every 1000th level and some levels the
// owner cannot read or write, as a hostile package leaves them.
void build_deep_tree(const std::string& root, int depth) {
  UniqueFd current(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  REQUIRE(current);
  std::vector<UniqueFd> locked;  // chmod 000 once the level below exists
  for (int level = 0; level < depth; ++level) {
    REQUIRE(::mkdirat(current.get(), "d", 0755) == 0);
    if (level % 1000 == 0) {
      UniqueFd file(::openat(current.get(), "f", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
      REQUIRE(file);
    }
    UniqueFd next(::openat(current.get(), "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    REQUIRE(next);
    if (level % 5000 == 4999) locked.push_back(UniqueFd(::dup(current.get())));
    current = std::move(next);
  }
  for (const auto& fd : locked) REQUIRE(::fchmod(fd.get(), 0) == 0);
}

}  // namespace

TEST_CASE("tree removal: a 20,000-deep tree goes, with a bounded number of open fds") {
  // On a tmpfs: a disk mounted with online discard takes a minute for 20,000 rmdirs however
  // they are made (rm -rf too), and the time bound is about the algorithm.
  std::string pattern = "/dev/shm/si-deep-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    WARN("no /dev/shm: skipped");
    return;
  }
  std::string root = pattern + "/tree";
  REQUIRE(::mkdir(root.c_str(), 0755) == 0);
  build_deep_tree(root, 20000);
  std::size_t fds_before = open_fds();
  auto started = std::chrono::steady_clock::now();
  auto removed = remove_tree(root);
  auto took = std::chrono::steady_clock::now() - started;
  INFO((removed ? std::string() : removed.error().message()));
  REQUIRE(removed);
  CHECK(::access(root.c_str(), F_OK) != 0);
  CHECK(open_fds() == fds_before);
  CHECK(took < std::chrono::seconds(20));
  ::rmdir(pattern.c_str());
}

TEST_CASE("tree removal: two removers of one tree at once both finish without an error") {
  // The detached remover and `gc` may empty the same trash at once: each finds directories
  // the other removed between listing and opening them.
  std::string pattern = "/dev/shm/si-race-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    WARN("no /dev/shm: skipped");
    return;
  }
  for (int round = 0; round < 5; ++round) {
    std::string root = pattern + "/tree";
    REQUIRE(::mkdir(root.c_str(), 0755) == 0);
    build_deep_tree(root, 3000);
    for (int i = 0; i < 200; ++i) {
      std::string wide = root + "/w" + std::to_string(i);
      REQUIRE(::mkdir(wide.c_str(), 0755) == 0);
      REQUIRE(::mkdir((wide + "/x").c_str(), 0755) == 0);
    }
    safeinstall::Result<void> first, second;
    std::thread other([&] { second = remove_tree(root); });
    first = remove_tree(root);
    other.join();
    INFO("round " << round << ": " << (first ? std::string() : first.error().message())
                  << (second ? std::string() : second.error().message()));
    CHECK(first);
    CHECK(second);
    REQUIRE(::access(root.c_str(), F_OK) != 0);
  }
  ::rmdir(pattern.c_str());
}

TEST_CASE("tree removal: wide directories, files, symlinks and nothing at all") {
  ScratchDir scratch("si-wide");
  std::string root = scratch / "tree";
  for (int i = 0; i < 200; ++i)
    safeinstall::staging_test::write_file(root + "/a/" + std::to_string(i), "x");
  REQUIRE(::symlink("/etc", (root + "/a/link").c_str()) == 0);
  REQUIRE(remove_tree(root));
  CHECK(::access(root.c_str(), F_OK) != 0);
  CHECK(::access("/etc/passwd", F_OK) == 0);  // the link was removed, not followed
  CHECK(remove_tree(root));                   // nothing there is not an error
  std::string file = scratch / "file";
  safeinstall::staging_test::write_file(file, "x");
  CHECK(remove_tree(file));
  CHECK(::access(file.c_str(), F_OK) != 0);
}
