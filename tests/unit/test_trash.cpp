// The trash: trees moved out of the way at once and removed later, by a detached process.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "runner/fs/fs_tree.h"
#include "runner/fs/trash.h"
#include "staging_test_support.h"

using namespace safeinstall::runner;
using namespace safeinstall::staging_test;

namespace {

std::size_t entries_in(const std::string& dir) {
  auto fd = open_directory(dir);
  if (!fd) return 0;
  auto names = list_directory(fd->get(), dir);
  return names ? names->size() : 0;
}

}  // namespace

TEST_CASE("trash: a tree is moved in by one rename and removed when the trash is emptied") {
  ScratchDir root("si-trash");
  Trash trash(root / "trash");
  write_file(root / "run/upper/node_modules/a/index.js", "1;\n");
  make_dir(root / "run/upper/locked", 0);  // a package's mode 000 directory
  ino_t moved = inode_of(root / "run/upper");

  REQUIRE(trash.take(root / "run/upper"));
  CHECK_FALSE(exists(root / "run/upper"));
  REQUIRE(entries_in(trash.dir()) == 1);
  struct stat st {};
  REQUIRE(::stat(trash.dir().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  // The same inode, now in the trash: nothing was copied or removed yet.
  auto fd = open_directory(trash.dir());
  REQUIRE(fd);
  auto names = list_directory(fd->get(), trash.dir());
  REQUIRE(names);
  CHECK(inode_of(trash.dir() + "/" + names->front()) == moved);

  // Nothing there is no error; a second tree gets its own slot.
  CHECK(trash.take(root / "run/no-such-thing"));
  write_file(root / "run/snapshot.bin", "snapshot");
  REQUIRE(trash.take(root / "run/snapshot.bin"));
  CHECK(entries_in(trash.dir()) == 2);

  REQUIRE(trash.empty());
  CHECK(entries_in(trash.dir()) == 0);
}

TEST_CASE("trash: a tree on another filesystem is removed in place") {
  ScratchDir root("si-trash");
  Trash trash(root / "trash");
  std::string pattern = "/dev/shm/si-trash-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    WARN("no /dev/shm to make a second filesystem; skipped");
    return;
  }
  struct stat here {
  }, there{};
  REQUIRE(::stat(root.path().c_str(), &here) == 0);
  REQUIRE(::stat(pattern.c_str(), &there) == 0);
  if (here.st_dev == there.st_dev) {
    REQUIRE(remove_tree(pattern));
    WARN("/dev/shm is on the same filesystem as /tmp here; skipped");
    return;
  }
  write_file(pattern + "/tree/file", "x");
  REQUIRE(trash.take(pattern + "/tree"));
  CHECK_FALSE(exists(pattern + "/tree"));
  CHECK(entries_in(trash.dir()) == 0);
  REQUIRE(remove_tree(pattern));
}

TEST_CASE("trash: emptied in the background by a detached process, the caller not waiting") {
  ScratchDir root("si-trash");
  Trash trash(root / "trash");
  for (int i = 0; i < 20; ++i) write_file(root / ("tree/d" + std::to_string(i) + "/f"), "x");
  REQUIRE(trash.take(root / "tree"));
  REQUIRE(entries_in(trash.dir()) == 1);

  trash.empty_in_background();
  bool emptied = false;
  for (int i = 0; i < 200 && !emptied; ++i) {
    emptied = entries_in(trash.dir()) == 0;
    if (!emptied) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(emptied);
  CHECK(exists(trash.dir()));  // the trash itself stays for the next run
}
