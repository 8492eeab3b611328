#include <fnmatch.h>

#include <catch2/catch.hpp>

#include "runner/fs/path_globs.h"

using namespace safeinstall::runner;

namespace {

GlobSet globs(std::initializer_list<std::string> patterns) {
  std::vector<std::string> list(patterns);
  auto set = GlobSet::from(list);
  REQUIRE(set);
  return *set;
}

}  // namespace

TEST_CASE("globs: a trailing /** is the directory and everything below it") {
  auto set = globs({"node_modules/**"});
  CHECK(set.matches("node_modules"));
  CHECK(set.matches("node_modules/x"));
  CHECK(set.matches("node_modules/@scope/x/lib/index.js"));
  CHECK_FALSE(set.matches("node_modules2"));
  CHECK_FALSE(set.matches("node_modules2/x"));
  CHECK_FALSE(set.matches("packages/a/node_modules/x"));
}

TEST_CASE("globs: * and ? never cross a slash") {
  auto set = globs({"*.lock", "src/?.js"});
  CHECK(set.matches("yarn.lock"));
  CHECK_FALSE(set.matches("sub/yarn.lock"));
  CHECK(set.matches("src/a.js"));
  CHECK_FALSE(set.matches("src/ab.js"));
  CHECK_FALSE(set.matches("src/a/b.js"));
}

TEST_CASE("globs: ** elsewhere, absolute, .. and empty patterns are refused with a reason") {
  GlobSet set;
  auto inner = set.add("**/node_modules/**");
  REQUIRE_FALSE(inner);
  CHECK(inner.error().step.find("'**' is only supported as a trailing '/**'") != std::string::npos);
  CHECK_FALSE(set.add("a/**/b"));
  CHECK_FALSE(set.add("**"));
  CHECK_FALSE(set.add("/etc/passwd"));
  CHECK_FALSE(set.add("../x"));
  CHECK_FALSE(set.add("a/../../x"));
  CHECK_FALSE(set.add(""));
  CHECK(set.empty());
}

TEST_CASE("globs: a trailing slash and a leading ./ are normalised") {
  auto set = globs({"dist/", "./coverage/**"});
  CHECK(set.patterns() == std::vector<std::string>{"dist/**", "coverage/**"});
  CHECK(set.matches("dist/app.js"));
  CHECK(set.matches("coverage"));
}

TEST_CASE("globs: matching_pattern names the glob for reasons") {
  auto set = globs({"*.lock", "vendor/**"});
  CHECK(set.matching_pattern("vendor/a/b.rb") == "vendor/**");
  CHECK(set.matching_pattern("Gemfile.lock") == "*.lock");
  CHECK(set.matching_pattern("README.md").empty());
}

TEST_CASE("globs: subtree and below-directory questions") {
  auto set = globs({"gradle/wrapper/**", ".git/**", "build", "*.egg-info/**"});
  CHECK(set.may_match_below("gradle"));
  CHECK(set.may_match_below(".git"));
  CHECK(set.may_match_below(".git/hooks"));
  CHECK_FALSE(set.may_match_below("build"));  // only `build` itself, nothing below
  CHECK_FALSE(set.may_match_below("src"));
  CHECK(set.may_match_below("x.egg-info"));

  CHECK(set.matches_subtree(".git"));
  CHECK(set.matches_subtree(".git/objects"));
  CHECK_FALSE(set.matches_subtree("build"));
  CHECK_FALSE(set.matches_subtree("gradle"));
}

TEST_CASE("globs: protected paths") {
  const auto& p = protected_paths();
  for (const char* path : {".git",
                           ".git/hooks/pre-commit",
                           ".github/workflows/x.yml",
                           ".gitlab-ci.yml",
                           ".circleci/config.yml",
                           ".vscode/tasks.json",
                           ".idea/workspace.xml",
                           ".devcontainer/devcontainer.json",
                           ".envrc",
                           ".npmrc",
                           ".yarnrc",
                           ".yarnrc.yml",
                           ".pypirc",
                           "Makefile",
                           ".husky/pre-commit",
                           ".gitmodules",
                           "Jenkinsfile",
                           "Dockerfile",
                           "docker-compose.override.yml",
                           "gradle/wrapper/gradle-wrapper.jar",
                           ".safeinstall.toml",
                           ".bashrc"}) {
    INFO(path);
    CHECK(p.matches(path));
  }
  for (const char* path : {"src/index.js", "node_modules/x/Makefile", "node_modules/.bin/x",
                           "package.json", "docs/.github", "README.md"}) {
    INFO(path);
    CHECK_FALSE(p.matches(path));
  }
}

TEST_CASE("globs: expected writes follow the package manager's name") {
  auto npm = expected_writes_for("/usr/local/bin/npm");
  CHECK(npm.matches("node_modules/x/index.js"));
  CHECK(npm.matches("package-lock.json"));
  CHECK_FALSE(npm.matches("package.json"));
  CHECK_FALSE(npm.matches(".venv/bin/python"));
  CHECK(expected_writes_for("pnpm").matches("pnpm-lock.yaml"));
  CHECK(expected_writes_for("yarn").matches(".yarn/cache/x.zip"));

  for (const char* python :
       {"pip", "pip3", "pip3.11", "python", "python3", "python3.11", "uv", "poetry", "pipenv"}) {
    INFO(python);
    auto set = expected_writes_for(python);
    CHECK(set.matches(".venv/lib/x.py"));
    CHECK(set.matches("foo.egg-info/PKG-INFO"));
  }
  CHECK(expected_writes_for("bundle").matches("vendor/bundle/x"));
  CHECK(expected_writes_for("gem").matches("Gemfile.lock"));
  CHECK(expected_writes_for("cargo").matches("target/debug/x"));
  CHECK(expected_writes_for("go").matches("go.sum"));
  CHECK(expected_writes_for("composer").matches("composer.lock"));
  CHECK(expected_writes_for("dotnet").matches("obj/project.assets.json"));
  CHECK(expected_writes_for("make").empty());
  CHECK(expected_writes_for("pythonista").empty());
}

TEST_CASE("globs: --expect adds to the package manager's set - a bad one names the flag") {
  std::vector<std::string> command{"npm", "ci"};
  std::vector<std::string> extra{"dist/**"};
  auto set = with_expect_flags(expected_writes_for(command.front()), extra);
  REQUIRE(set);
  CHECK(set->matches("dist/index.js"));
  CHECK(set->matches("node_modules/x"));

  std::vector<std::string> bad{"**/x"};
  auto refused = with_expect_flags(expected_writes_for(command.front()), bad);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().step.starts_with("--expect **/x"));
}

TEST_CASE("globs: persistence points in a home") {
  const auto& p = persistence_paths();
  for (const char* path : {".bashrc", ".profile", ".zshrc", ".config/autostart/x.desktop",
                           ".config/systemd/user/evil.service", ".ssh/authorized_keys", ".npmrc",
                           ".pypirc", ".gem/credentials", ".gitconfig", ".config/git/config",
                           ".local/bin/node", "repo/.git/hooks/pre-commit", ".crontab"}) {
    INFO(path);
    CHECK(p.matches(path));
  }
  for (const char* path : {".cache/npm/x", ".npm/_cacache/index", "work/file.txt"}) {
    INFO(path);
    CHECK_FALSE(p.matches(path));
  }
}

TEST_CASE("globs: patterns without wildcards match exactly as fnmatch does") {
  const std::vector<std::string> patterns = {"node_modules/**", "package-lock.json", ".git/**",
                                             "a/b"};
  const std::vector<std::string> paths = {"node_modules",
                                          "node_modules/a",
                                          "node_modules/a/b.js",
                                          "node_modulesx",
                                          "node_modules2/a",
                                          "package-lock.json",
                                          "package-lock.jsonx",
                                          "x/package-lock.json",
                                          ".git",
                                          ".gitignore",
                                          ".git/hooks/pre-commit",
                                          "a/b",
                                          "a/b/c",
                                          "a",
                                          "a/bc"};
  for (const auto& pattern : patterns) {
    auto set = GlobSet::from(std::vector<std::string>{pattern});
    REQUIRE(set);
    bool recursive = pattern.ends_with("/**");
    std::string glob = recursive ? pattern.substr(0, pattern.size() - 3) : pattern;
    for (const auto& path : paths) {
      int flags = FNM_PATHNAME | (recursive ? FNM_LEADING_DIR : 0);
      INFO(pattern << " vs " << path);
      CHECK(set->matches(path) == (::fnmatch(glob.c_str(), path.c_str(), flags) == 0));
      CHECK(set->matches_subtree(path) ==
            (recursive && ::fnmatch(glob.c_str(), path.c_str(), flags) == 0));
    }
  }
}
