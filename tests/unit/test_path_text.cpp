#include <catch2/catch.hpp>
#include <string_view>

#include "sandbox/base/path_text.h"

using safeinstall::is_within;
using safeinstall::lexically_normal;

namespace {

struct Containment {
  std::string_view path;
  std::string_view dir;
  bool within;
};

// Whether each path is within its dir as the table says.
void check_containment(std::initializer_list<Containment> cases) {
  for (const auto& c : cases) {
    INFO(c.path << " within " << c.dir);
    CHECK(is_within(c.path, c.dir) == c.within);
  }
}

}  // namespace

TEST_CASE("path text: containment needs a whole component, and / contains everything") {
  check_containment({{"/a/b", "/a", true},
                     {"/a", "/a", true},
                     {"/ab", "/a", false},
                     {"/a/bc", "/a/b", false},
                     {"/a/b/c", "/a/b", true},
                     {"/a", "/a/b", false},
                     {"/x", "/", true},
                     {"/", "/", true},
                     {"relative", "/", false},
                     {"/a", "a", false},
                     {"", "/", false},
                     {"/a", "", false}});
}

TEST_CASE("path text: containment folds trailing and repeated slashes") {
  check_containment({{"/a/b/", "/a", true},
                     {"/a/b", "/a/", true},
                     {"/a/", "/a", true},
                     {"/a", "/a/", true},
                     {"//a//b", "/a", true},
                     {"/x/", "/", true},
                     {"/", "//", true},
                     {"/a/bc/", "/a/b/", false}});
}

TEST_CASE("path text: containment applies . and .. first") {
  check_containment({{"/a/../b", "/a", false},
                     {"/a/b/../../etc", "/a", false},
                     {"/a/./b/../c", "/a", true},
                     {"/b/../a/x", "/a", true},
                     {"/../a", "/a", true},
                     {"/a/..", "/", true},
                     {"/a/b", "/a/c/..", true}});
}

TEST_CASE("path text: relative paths are compared with relative dirs only") {
  check_containment({{"a/b", "a", true},
                     {"a/b", ".", true},
                     {"./a", "a", true},
                     {"ab", "a", false},
                     {"../x", ".", false},
                     {"a/../../x", ".", false},
                     {"../x/y", "../x", true},
                     {"../../x", "..", false}});
}

TEST_CASE("path text: lexical normalisation folds . and .. without leaving the root") {
  CHECK(lexically_normal("/a/./b/../c") == "/a/c");
  CHECK(lexically_normal("/tmp/../run/x.sock") == "/run/x.sock");
  CHECK(lexically_normal("/../../etc") == "/etc");
  CHECK(lexically_normal("x.sock", "/home/u") == "/home/u/x.sock");
  CHECK(lexically_normal("../y", "/home/u") == "/home/y");
  CHECK(lexically_normal("../../../y", "home") == "/y");
  CHECK(lexically_normal("//a///b/") == "/a/b");
  CHECK(lexically_normal("/") == "/");
}
