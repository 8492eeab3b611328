#include <toml++/toml.h>
#include <catch2/catch.hpp>

#include "runner/fs/toml_input.h"

using safeinstall::runner::toml_input;

TEST_CASE("toml input: non-ASCII outside strings becomes '?', strings keep their bytes") {
  CHECK(toml_input("a = \"d\xc3\xafst/**\"\n") == "a = \"d\xc3\xafst/**\"\n");
  CHECK(toml_input("a = 'x\xc2\xa1'\n") == "a = 'x\xc2\xa1'\n");
  CHECK(toml_input("a = \"\"\"\n\xc2\xa1 \\\"\"\" \"\"\"\n") ==
        "a = \"\"\"\n\xc2\xa1 \\\"\"\" \"\"\"\n");
  CHECK(toml_input("a = '''\n\xc2\xa1'''\n\xc2\xa1") == "a = '''\n\xc2\xa1'''\n??");
  CHECK(toml_input("# caf\xc3\xa9\nb = 1 \xc2\xa1\n") == "# caf??\nb = 1 ??\n");
  CHECK(toml_input("s = \"a\\\"\xc2\xa1\"\n") == "s = \"a\\\"\xc2\xa1\"\n");
  // An unterminated string ends at its line: what follows is outside again.
  CHECK(toml_input("s = \"open\n\xc2\xa1") == "s = \"open\n??");
}

TEST_CASE("toml input: the parser reports what TOML++ would have choked on, at its place") {
  // U+00A1 between a key and its value: once undefined behaviour, now a parse error.
  std::string text = "a =\xc2\xa1 1\n";
  bool failed = false;
  try {
    (void)toml::parse(toml_input(text));
  } catch (const toml::parse_error& e) {
    failed = true;
    CHECK(e.source().begin.line == 1);
  }
  CHECK(failed);
  auto table = toml::parse(toml_input("name = \"Jos\xc3\xa9\" # \xc3\xa9t\xc3\xa9\n"));
  CHECK(table["name"].value_or(std::string()) == "Jos\xc3\xa9");
}
