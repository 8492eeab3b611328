#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "runner/plan/broad_hosts.h"

using namespace safeinstall::runner;

namespace {

std::string write_list(const std::string& text) {
  char path[] = "/tmp/si-psl-XXXXXX";
  int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  ::close(fd);
  std::ofstream(path) << text;
  return path;
}

bool broad(const std::string& pattern, const std::string& list) {
  auto parsed = safeinstall::sandbox::parse_host_pattern(pattern);
  REQUIRE(parsed.has_value());
  auto suffixes = public_suffixes_among({parsed->host}, list);
  return too_broad(*parsed, !suffixes.empty()).has_value();
}

}  // namespace

TEST_CASE("broad hosts: a wildcard over a public suffix is too broad, a registry's is not") {
  std::string list = write_list(
      "// comment\ncom\nuk\nco.uk\n*.ck\n!www.ck\ngithub.io\n// ===END ICANN DOMAINS===\n");
  CHECK(broad("*.com", list));
  CHECK(broad("*.co.uk", list));
  CHECK(broad("*.github.io", list));
  CHECK(broad("*.anything.ck", list));   // through the *.ck rule
  CHECK_FALSE(broad("*.www.ck", list));  // the ! exception
  CHECK_FALSE(broad("*.pythonhosted.org", list));
  CHECK_FALSE(broad("*.example.co.uk", list));
  CHECK(broad("*.org", list));  // one label is a suffix even when unlisted
  // Exact hosts are never broad, whatever they name.
  CHECK_FALSE(broad("com", list));
  CHECK_FALSE(broad("github.io", list));
  ::unlink(list.c_str());
}

TEST_CASE("broad hosts: without a list only single labels are suffixes") {
  auto found = public_suffixes_among({"com", "co.uk", "pythonhosted.org"}, "/nonexistent/psl.dat");
  CHECK(found == std::vector<std::string>{"com"});
}

TEST_CASE("broad hosts: Debian's Public Suffix List knows the common suffixes") {
  INFO(kPublicSuffixList << " comes with Debian's publicsuffix (scripts/setup.sh installs it)");
  REQUIRE(::access(kPublicSuffixList, R_OK) == 0);
  auto found = public_suffixes_among({"co.uk", "github.io", "npmjs.org", "com.au"});
  CHECK(found == std::vector<std::string>{"co.uk", "github.io", "com.au"});
}
