// What a run changed in the locked packages, and the project's lockfiles read as staged.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "runner/packages/project_packages.h"
#include "tests/unit/staging_test_support.h"

using namespace safeinstall::runner;

namespace {

PackageVersion npm(std::string name, std::string version, bool direct = false) {
  return {Ecosystem::npm, std::move(name), std::move(version), direct, "package-lock.json"};
}

void write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

}  // namespace

TEST_CASE("package changes: added, removed and changed by name", "[package-changes]") {
  PackageSet before{{npm("left", "1.0.0", true), npm("gone", "0.1.0"), npm("same", "2.0.0")}};
  PackageSet after{{npm("left", "1.1.0", true),
                    npm("same", "2.0.0"),
                    npm("new", "3.0.0"),
                    {Ecosystem::pypi, "left", "1.0.0", false, "requirements.txt"}}};
  auto changes = diff_packages(before, after);
  REQUIRE(changes.added.size() == 2);
  CHECK(changes.added[0].name == "new");
  CHECK(changes.added[1].name == "left");  // the PyPI one: another ecosystem, another package
  CHECK(changes.added[1].ecosystem == Ecosystem::pypi);
  REQUIRE(changes.removed.size() == 1);
  CHECK(changes.removed[0].name == "gone");
  REQUIRE(changes.changed.size() == 1);
  CHECK(changes.changed[0].from.version == "1.0.0");
  CHECK(changes.changed[0].to.version == "1.1.0");
  CHECK(new_versions(changes).size() == 3);
  CHECK(diff_packages(after, after).empty());
}

TEST_CASE("package changes: a name at several versions pairs only what moved",
          "[package-changes]") {
  PackageSet before{{npm("dup", "1.0.0"), npm("dup", "2.0.0")}};
  PackageSet after{{npm("dup", "1.0.0"), npm("dup", "2.1.0"), npm("dup", "3.0.0")}};
  auto changes = diff_packages(before, after);
  REQUIRE(changes.changed.size() == 1);
  CHECK(changes.changed[0].from.version == "2.0.0");
  CHECK(changes.changed[0].to.version == "2.1.0");
  REQUIRE(changes.added.size() == 1);
  CHECK(changes.added[0].version == "3.0.0");
  CHECK(changes.removed.empty());
}

TEST_CASE("package changes: staged lockfiles come from the upper dir, whiteouts hide them",
          "[package-changes]") {
  safeinstall::staging_test::ScratchDir project("si-pkg-project");
  safeinstall::staging_test::ScratchDir upper("si-pkg-upper");
  write(project.path() + "/package-lock.json",
        R"({"lockfileVersion": 3, "packages": {"": {"dependencies": {"left": "1"}},
            "node_modules/left": {"version": "1.0.0"}}})");
  write(project.path() + "/requirements.txt", "requests==2.31.0\n");
  write(project.path() + "/Cargo.lock", "not [ toml");
  auto before = read_project_packages(project.path());
  CHECK(before.packages.size() == 2);
  REQUIRE(before.errors.size() == 1);
  CHECK(before.errors[0].starts_with("Cargo.lock:1:"));

  // The run rewrote package-lock.json, deleted requirements.txt and added a go.sum.
  write(upper.path() + "/package-lock.json",
        R"({"lockfileVersion": 3, "packages": {"": {"dependencies": {"left": "1"}},
            "node_modules/left": {"version": "1.0.1"}, "node_modules/evil": {"version": "6.6.6"}}})");
  if (!safeinstall::staging_test::make_whiteout(upper.path() + "/requirements.txt")) {
    WARN("skipped: mknod of a whiteout is refused here");
    return;
  }
  write(upper.path() + "/go.sum", "example.test/m v1.0.0 h1:abc=\n");
  auto after = read_staged_packages(upper.path(), project.path());
  auto changes = diff_packages(before, after);
  REQUIRE(changes.changed.size() == 1);
  CHECK(changes.changed[0].to.version == "1.0.1");
  CHECK(changes.changed[0].to.direct);
  REQUIRE(changes.added.size() == 2);
  CHECK(changes.added[0].name == "evil");
  CHECK(changes.added[1].name == "example.test/m");
  REQUIRE(changes.removed.size() == 1);
  CHECK(changes.removed[0].name == "requests");
}
