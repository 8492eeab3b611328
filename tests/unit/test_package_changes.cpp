// What a run changed in the locked packages, and the project's lockfiles read as staged.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>

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

TEST_CASE("package changes: nested lockfiles of workspaces are read, dependency trees are not",
          "[package-changes]") {
  namespace fs = std::filesystem;
  safeinstall::staging_test::ScratchDir project("si-pkg-nested");
  safeinstall::staging_test::ScratchDir upper("si-pkg-nested-upper");
  const std::string cargo_lock =
      "version = 3\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.200\"\n"
      "source = \"registry+https://github.com/rust-lang/crates.io-index\"\n";
  auto put = [](const std::string& path, const std::string& text) {
    fs::create_directories(fs::path(path).parent_path());
    write(path, text);
  };
  put(project.path() + "/crates/a/Cargo.lock", cargo_lock);
  put(project.path() + "/services/api/go.sum", "example.test/m v1.0.0 h1:abc=\n");
  put(project.path() + "/services/api/go.mod",
      "module example.test/api\n\nrequire example.test/m v1.0.0\n");
  put(project.path() + "/php/site/composer.lock",
      R"({"packages":[{"name":"monolog/monolog","version":"3.5.0"}],"packages-dev":[]})");
  // Inside dependency trees, hidden directories and deeper than the depth: not the project's.
  put(project.path() + "/node_modules/x/Cargo.lock", cargo_lock);
  put(project.path() + "/vendor/y/composer.lock",
      R"({"packages":[{"name":"evil/x","version":"1.0.0"}]})");
  put(project.path() + "/target/z/Cargo.lock", cargo_lock);
  put(project.path() + "/.git/a/go.sum", "example.test/hidden v1.0.0 h1:abc=\n");
  put(project.path() + "/a/b/c/d/go.sum", "example.test/deep v1.0.0 h1:abc=\n");
  fs::create_directory_symlink(project.path() + "/services", project.path() + "/link");

  auto before = read_project_packages(project.path());
  CHECK(before.errors.empty());
  std::set<std::string> found;
  for (const auto& p : before.packages) found.insert(p.source + " " + p.name);
  CHECK(found == std::set<std::string>{"crates/a/Cargo.lock serde",
                                       "php/site/composer.lock monolog/monolog",
                                       "services/api/go.sum example.test/m"});
  auto api = std::ranges::find(before.packages, "example.test/m", &PackageVersion::name);
  REQUIRE(api != before.packages.end());
  CHECK(api->direct);  // from the go.mod beside it
  CHECK(read_project_packages(project.path(), 0).packages.empty());

  // A run that added a member's lockfile and deleted another member whole.
  put(upper.path() + "/crates/b/Cargo.lock",
      "version = 3\n\n[[package]]\nname = \"evil\"\nversion = \"6.6.6\"\n"
      "source = \"registry+https://github.com/rust-lang/crates.io-index\"\n");
  fs::create_directories(upper.path() + "/php");
  if (!safeinstall::staging_test::make_whiteout(upper.path() + "/php/site")) {
    WARN("skipped: mknod of a whiteout is refused here");
    return;
  }
  auto changes = diff_packages(before, read_staged_packages(upper.path(), project.path()));
  REQUIRE(changes.added.size() == 1);
  CHECK(changes.added[0].name == "evil");
  CHECK(changes.added[0].source == "crates/b/Cargo.lock");
  REQUIRE(changes.removed.size() == 1);
  CHECK(changes.removed[0].name == "monolog/monolog");
}

TEST_CASE(
    "package changes: a lockfile the run left as it was is taken from the set read as "
    "the run began",
    "[package-changes]") {
  safeinstall::staging_test::ScratchDir project("si-pkg-kept");
  safeinstall::staging_test::ScratchDir upper("si-pkg-kept-upper");
  // lockfileVersion 1: which packages are direct comes from package.json beside it.
  write(project.path() + "/package-lock.json",
        R"({"lockfileVersion": 1, "dependencies": {"left": {"version": "1.0.0"}}})");
  write(project.path() + "/package.json", R"({"dependencies": {}})");
  write(project.path() + "/Cargo.lock", "not [ toml");
  auto before = read_project_packages(project.path());
  REQUIRE(before.packages.size() == 1);
  CHECK_FALSE(before.packages[0].direct);
  REQUIRE(before.errors.size() == 1);

  // The project's copy changes after `before` was read; the run itself wrote neither file.
  write(project.path() + "/package-lock.json",
        R"({"lockfileVersion": 1, "dependencies": {"left": {"version": "9.9.9"}}})");
  auto after = read_staged_packages(upper.path(), project.path(), &before);
  CHECK(diff_packages(before, after).empty());
  CHECK(after.errors == before.errors);
  // Without `before`, every lockfile is read again.
  CHECK(diff_packages(before, read_staged_packages(upper.path(), project.path())).changed.size() ==
        1);

  // A run that changed only the manifest: the lockfile is read again, with the new manifest.
  write(upper.path() + "/package.json", R"({"dependencies": {"left": "^9"}})");
  after = read_staged_packages(upper.path(), project.path(), &before);
  REQUIRE(after.packages.size() == 1);
  CHECK(after.packages[0].version == "9.9.9");
  CHECK(after.packages[0].direct);
  CHECK(after.errors == before.errors);  // Cargo.lock: left as it was, its error with it
}
