// Finding the real tool behind a shim: never the shim itself, whatever PATH looks like.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "runner/shim/shim_table.h"
#include "runner/shim/tool_lookup.h"
#include "tests/unit/staging_test_support.h"

namespace {

using namespace safeinstall::runner;
using safeinstall::staging_test::ScratchDir;
using safeinstall::staging_test::write_file;

std::string shim_text() {
  return "#!/x/safeinstall-shim\n" + std::string(kShimMarker) +
         " for npm\ntool npm\nsafeinstall /x/safeinstall\n";
}

struct stat identity(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st;
}

std::string lookup(const std::string& path_list, const struct stat& self) {
  char found[PATH_MAX];
  return find_real_tool(path_list, "npm", self, found) ? std::string(found) : std::string();
}

}  // namespace

TEST_CASE("shim lookup: the real tool is the first one on PATH that is no shim", "[shim]") {
  ScratchDir d("si-shim-lookup");
  write_file(d / "shims/npm", shim_text(), 0755);
  write_file(d / "other-shims/npm", shim_text(), 0755);
  write_file(d / "not-executable/npm", "#!/bin/sh\n", 0644);
  write_file(d / "real/npm", "#!/bin/sh\necho real\n", 0755);
  REQUIRE(::symlink((d / "shims").c_str(), (d / "link-to-shims").c_str()) == 0);
  auto self = identity(d / "shims/npm");

  CHECK(lookup(d / "shims:" + d / "real", self) == d / "real/npm");
  // The shim's directory again, through a symlink, another shim dir, a file that cannot run.
  CHECK(lookup(d / "shims:" + d / "link-to-shims:" + d / "other-shims:" + d / "not-executable:" +
                   d / "real",
               self) == d / "real/npm");
  // Nothing but shims: not found, never the shim itself.
  CHECK(lookup(d / "shims:" + d / "shims:" + d / "link-to-shims", self).empty());
  CHECK(lookup("", self).empty());
}

TEST_CASE("shim lookup: the sandbox's PATH keeps no directory holding a shim", "[shim]") {
  ScratchDir d("si-shim-path");
  write_file(d / "shims/npm", shim_text(), 0755);
  write_file(d / "other-shims/npm", shim_text(), 0755);
  write_file(d / "real/npm", "#!/bin/sh\n", 0755);
  REQUIRE(::symlink((d / "shims").c_str(), (d / "link-to-shims").c_str()) == 0);
  auto self = identity(d / "shims/npm");
  CHECK(path_without_shims(
            d / "shims:/usr/bin:" + d / "link-to-shims:" + d / "other-shims:" + d / "real:/bin",
            "npm", self) == "/usr/bin:" + d / "real:/bin");
  CHECK(path_without_shims("/usr/bin:/bin", "npm", self) == "/usr/bin:/bin");
}

TEST_CASE("shim lookup: a shim file is known by its first two lines", "[shim]") {
  ScratchDir d("si-shim-file");
  write_file(d / "shim", shim_text(), 0755);
  write_file(d / "script", "#!/bin/sh\n# safeinstall\n", 0755);
  CHECK(is_shim_file((d / "shim").c_str()));
  CHECK_FALSE(is_shim_file((d / "script").c_str()));
  CHECK_FALSE(is_shim_file((d / "missing").c_str()));
}
