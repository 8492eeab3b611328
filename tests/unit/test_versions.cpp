// Version order per ecosystem and OSV range matching.
#include <catch2/catch.hpp>

#include "runner/packages/versions.h"

using namespace safeinstall::runner;

namespace {

AffectedRange range(bool semver, std::vector<std::pair<RangeEvent::Kind, std::string>> events) {
  AffectedRange r;
  r.semver = semver;
  for (auto& [kind, version] : events) r.events.push_back({kind, version});
  return r;
}

constexpr auto kIntroduced = RangeEvent::Kind::introduced;
constexpr auto kFixed = RangeEvent::Kind::fixed;
constexpr auto kLast = RangeEvent::Kind::last_affected;

}  // namespace

TEST_CASE("versions: semver precedence", "[versions]") {
  CHECK(compare_semver("1.0.0", "1.0.0") == 0);
  CHECK(compare_semver("1.0.0", "1.0.1") < 0);
  CHECK(compare_semver("1.10.0", "1.9.9") > 0);
  CHECK(compare_semver("1.0.0-alpha", "1.0.0") < 0);
  CHECK(compare_semver("1.0.0-alpha", "1.0.0-alpha.1") < 0);
  CHECK(compare_semver("1.0.0-alpha.1", "1.0.0-alpha.beta") < 0);
  CHECK(compare_semver("1.0.0-beta.2", "1.0.0-beta.11") < 0);
  CHECK(compare_semver("1.0.0-rc.1", "1.0.0") < 0);
  CHECK(compare_semver("1.0.0+build.5", "1.0.0") == 0);
  CHECK(compare_semver("v1.2.3", "1.2.3") == 0);  // Go's spelling
  CHECK(compare_semver("v0.0.0-20220412211240-33da011f77ad", "0.0.1") < 0);
  CHECK(compare_semver("1.2", "1.2.0") == 0);
  CHECK(compare_semver("99999999999999999999.0.0", "2.0.0") > 0);  // no overflow
}

TEST_CASE("versions: PEP 440", "[versions]") {
  CHECK(compare_pep440("1.0", "1.0.0") == 0);
  CHECK(compare_pep440("1.0.dev1", "1.0a1") < 0);
  CHECK(compare_pep440("1.0a1", "1.0a2") < 0);
  CHECK(compare_pep440("1.0a2", "1.0b1") < 0);
  CHECK(compare_pep440("1.0b1", "1.0rc1") < 0);
  CHECK(compare_pep440("1.0rc1", "1.0") < 0);
  CHECK(compare_pep440("1.0", "1.0.post1") < 0);
  CHECK(compare_pep440("1.0.post1", "1.1") < 0);
  CHECK(compare_pep440("1.0a1.dev1", "1.0a1") < 0);
  CHECK(compare_pep440("1!0.1", "2.0") > 0);
  CHECK(compare_pep440("2.0+local.1", "2.0") == 0);
  CHECK(compare_pep440("1.0-1", "1.0.post1") == 0);
  CHECK(compare_pep440("1.0RC1", "1.0rc1") == 0);
  CHECK(compare_pep440("2.31.0", "2.4.0") > 0);
}

TEST_CASE("versions: RubyGems", "[versions]") {
  CHECK(compare_rubygems("1.0", "1.0.0") == 0);
  CHECK(compare_rubygems("1.0.0.pre", "1.0.0") < 0);
  CHECK(compare_rubygems("1.0.0.rc1", "1.0.0.rc2") < 0);
  CHECK(compare_rubygems("1.0.a", "1.0.b") < 0);
  CHECK(compare_rubygems("1.16.2", "1.16.10") < 0);
  CHECK(compare_rubygems("1.15.4", "1.16.2") < 0);
}

TEST_CASE("versions: Composer", "[versions]") {
  CHECK(compare_composer("v1.2.3", "1.2.3") == 0);
  CHECK(compare_composer("1.0.0-dev", "1.0.0-alpha1") < 0);
  CHECK(compare_composer("1.0.0-alpha1", "1.0.0-beta1") < 0);
  CHECK(compare_composer("1.0.0-beta2", "1.0.0-RC1") < 0);
  CHECK(compare_composer("1.0.0-RC1", "1.0.0") < 0);
  CHECK(compare_composer("1.0.0", "1.0.0-patch1") < 0);
  CHECK(compare_composer("2.10.0", "2.9.0") > 0);
}

TEST_CASE("versions: the same version spelled twice", "[versions]") {
  CHECK(same_version(Ecosystem::go, "v1.2.3", "1.2.3"));
  CHECK(same_version(Ecosystem::pypi, "1.0", "1.0.0"));
  CHECK_FALSE(same_version(Ecosystem::npm, "1.0", "1.0.0"));
  CHECK(same_version(Ecosystem::packagist, "v3.5.0", "3.5.0"));
}

TEST_CASE("versions: OSV ranges", "[versions]") {
  auto fixed = range(true, {{kIntroduced, "0"}, {kFixed, "1.15.6"}});
  CHECK(in_range(Ecosystem::npm, "1.15.5", fixed));
  CHECK(in_range(Ecosystem::npm, "0.0.1", fixed));
  CHECK_FALSE(in_range(Ecosystem::npm, "1.15.6", fixed));
  CHECK_FALSE(in_range(Ecosystem::npm, "2.0.0", fixed));
  CHECK(in_range(Ecosystem::npm, "1.15.6-rc.1", fixed));

  auto window = range(false, {{kIntroduced, "1.3.2"}, {kFixed, "1.7.4"}});
  CHECK_FALSE(in_range(Ecosystem::npm, "1.3.1", window));
  CHECK(in_range(Ecosystem::npm, "1.3.2", window));
  CHECK(in_range(Ecosystem::npm, "1.7.3", window));
  CHECK_FALSE(in_range(Ecosystem::npm, "1.7.9", window));

  auto last = range(false, {{kIntroduced, "0.3"}, {kLast, "0.4.1"}});
  CHECK(in_range(Ecosystem::pypi, "0.4.1", last));
  CHECK(in_range(Ecosystem::pypi, "0.4", last));
  CHECK_FALSE(in_range(Ecosystem::pypi, "0.4.2", last));
  CHECK_FALSE(in_range(Ecosystem::pypi, "0.2.9", last));
  CHECK_FALSE(in_range(Ecosystem::pypi, "0.4.1.post1", last));

  // Two spans in one range, given out of order: [1.0, 1.2) and [2.0, 2.1).
  auto spans = range(
      true, {{kIntroduced, "2.0.0"}, {kFixed, "1.2.0"}, {kIntroduced, "1.0.0"}, {kFixed, "2.1.0"}});
  CHECK(in_range(Ecosystem::crates_io, "1.1.0", spans));
  CHECK_FALSE(in_range(Ecosystem::crates_io, "1.5.0", spans));
  CHECK(in_range(Ecosystem::crates_io, "2.0.5", spans));
  CHECK_FALSE(in_range(Ecosystem::crates_io, "2.1.0", spans));

  auto go = range(true, {{kIntroduced, "0"}, {kFixed, "0.9.2"}});
  CHECK(in_range(Ecosystem::go, "v0.9.1", go));
  CHECK_FALSE(in_range(Ecosystem::go, "v0.9.2", go));

  auto gem = range(false, {{kIntroduced, "0"}, {kFixed, "1.16.2"}});
  CHECK(in_range(Ecosystem::rubygems, "1.15.4", gem));
  CHECK(in_range(Ecosystem::rubygems, "1.16.2.rc1", gem));
  CHECK_FALSE(in_range(Ecosystem::rubygems, "1.16.2", gem));
}

TEST_CASE("versions: RubyGems prereleases and missing segments", "[versions]") {
  CHECK(compare_rubygems("1.0.0.pre", "1") < 0);
  CHECK(compare_rubygems("1.pre", "1.0.0.pre") == 0);
  CHECK(compare_rubygems("1", "1.0.1") < 0);
  CHECK(compare_rubygems("2.0.0.rc1", "1.9.9") > 0);
}
