#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "runner/fs/path_arena.h"

using namespace safeinstall::runner;

TEST_CASE("path arena: every path reads back as added, NUL-terminated, across many blocks") {
  PathArena arena;
  std::vector<std::string> texts;
  std::vector<PathRef> refs;
  for (int i = 0; i < 20000; ++i) {
    texts.push_back("node_modules/package-" + std::to_string(i) + "/lib/index.js");
    refs.push_back(arena.add(texts.back()));
  }
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    CHECK(refs[i] == texts[i]);
    CHECK(refs[i].size() == texts[i].size());
    CHECK(std::strcmp(refs[i].c_str(), texts[i].c_str()) == 0);
    bytes += texts[i].size() + 1;
  }
  CHECK(arena.used() == bytes);
  // Blocks grow up to their largest size: what is reserved is the text and at most a block.
  CHECK(arena.reserved() >= bytes);
  CHECK(arena.reserved() <= bytes + 2 * 1024 * 1024);
}

TEST_CASE("path arena: a path longer than a block gets a block of its own") {
  PathArena arena;
  PathRef small = arena.add("a");
  std::string huge(3 * 1024 * 1024, 'x');
  PathRef big = arena.add(huge);
  PathRef after = arena.add("b");
  CHECK(small == "a");
  CHECK(big == huge);
  CHECK(after == "b");
  CHECK(arena.used() == 2 + huge.size() + 1 + 2);
}

TEST_CASE("path arena: an empty path and a default PathRef both read as empty") {
  PathArena arena;
  PathRef none;
  PathRef empty = arena.add("");
  CHECK(none.empty());
  CHECK(none.view().empty());
  CHECK(std::string(none.c_str()).empty());
  CHECK(empty.empty());
  CHECK(none == empty);
  CHECK(arena.add("x").size() == 1);
}

TEST_CASE("path arena: refs stay valid when the arena is moved") {
  PathArena first;
  PathRef ref = first.add("src/index.js");
  PathArena second = std::move(first);
  CHECK(ref == "src/index.js");
  PathArena third;
  third = std::move(second);
  CHECK(ref.str() == "src/index.js");
}

TEST_CASE("path arena: refs order and compare as their text does, bytes unsigned") {
  PathArena arena;
  std::vector<std::string> texts = {"a/b",   "a.b", "a", "a-b", "a/",    "\xc3\xa9", "z",
                                    "a/b/c", "",    "A", "a b", "a\x7f", "a\x80"};
  std::vector<PathRef> refs;
  for (const auto& t : texts) refs.push_back(arena.add(t));
  std::vector<std::string> by_string = texts;
  std::sort(by_string.begin(), by_string.end());
  std::sort(refs.begin(), refs.end());
  std::vector<std::string> by_ref;
  for (const auto& r : refs) by_ref.push_back(r.str());
  CHECK(by_ref == by_string);
  for (const auto& a : refs) {
    for (const auto& b : refs) {
      CHECK((a < b) == (a.view() < b.view()));
      CHECK((a == b) == (a.view() == b.view()));
      CHECK((a < b.view()) == (a.view() < b.view()));
    }
  }
}

TEST_CASE("path arena: a ref joins with strings like the text it holds") {
  PathArena arena;
  PathRef ref = arena.add("node_modules/x");
  CHECK("staged " + ref == "staged node_modules/x");
  CHECK(std::string("/project/") + ref == "/project/node_modules/x");
  CHECK(ref + "/index.js" == "node_modules/x/index.js");
  CHECK(ref + std::string("/") == "node_modules/x/");
  CHECK(std::string(ref) == "node_modules/x");
}
