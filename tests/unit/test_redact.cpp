#include <catch2/catch.hpp>

#include "runner/redact.h"

using safeinstall::runner::redact;
using safeinstall::runner::redact_argv;

TEST_CASE("redact: passwords in URLs") {
  CHECK(redact("https://alice:s3cret@registry.example/simple") ==
        "https://alice:***@registry.example/simple");
  CHECK(redact("https://registry.example/simple") == "https://registry.example/simple");
}

TEST_CASE("redact: tokens recognisable by shape") {
  CHECK(redact("ghp_abcdefghijklmnopqrstuvwxyz0123") == "***");
  CHECK(redact("key AKIAABCDEFGHIJKLMNOP here") == "key *** here");
  CHECK(redact("npm_abcdefghijklmnopqrstuvwxyz0123") == "***");
}

TEST_CASE("redact: secret assignments and flags") {
  CHECK(redact("--token=abc123") == "--token=***");
  CHECK(redact("NPM_TOKEN=abc") == "NPM_TOKEN=***");
  CHECK(redact("//registry.npmjs.org/:_authToken=abc") == "//registry.npmjs.org/:_authToken=***");
  CHECK(redact_argv({"npm", "login", "--password", "hunter2", "--user", "bob"}) ==
        std::vector<std::string>{"npm", "login", "--password", "***", "--user", "bob"});
}

TEST_CASE("redact: ordinary arguments are left alone") {
  std::vector<std::string> argv{"npm", "ci", "--ignore-scripts", "node_modules/.bin/tsc"};
  CHECK(redact_argv(argv) == argv);
}
