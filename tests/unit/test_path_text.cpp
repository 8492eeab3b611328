#include <catch2/catch.hpp>

#include "runner/fs/path_text.h"

using namespace safeinstall::runner;

TEST_CASE("path text: containment needs a whole component, and / contains everything") {
  CHECK(is_within("/a/b", "/a"));
  CHECK(is_within("/a", "/a"));
  CHECK_FALSE(is_within("/ab", "/a"));
  CHECK_FALSE(is_within("/a", "/a/b"));
  CHECK(is_within("/x", "/"));
  CHECK(is_within("/", "/"));
  CHECK_FALSE(is_within("relative", "/"));
}

TEST_CASE("path text: lexical normalisation folds . and .. without leaving the root") {
  CHECK(lexically_normal("/a/./b/../c") == "/a/c");
  CHECK(lexically_normal("/tmp/../run/x.sock") == "/run/x.sock");
  CHECK(lexically_normal("/../../etc") == "/etc");
  CHECK(lexically_normal("x.sock", "/home/u") == "/home/u/x.sock");
  CHECK(lexically_normal("../y", "/home/u") == "/home/y");
  CHECK(lexically_normal("//a///b/") == "/a/b");
  CHECK(lexically_normal("/") == "/");
}
