#include <catch2/catch.hpp>

#include "runner/plan/environment.h"

using namespace safeinstall::runner;

namespace {

const EnvironmentPolicy kPolicy{{"PATH", "LANG", "LC_*", "CI", "AWS_REGION"},
                                {"*TOKEN*", "*SECRET*", "AWS_*", "GITHUB_*", "*PASSWORD*"},
                                {}};

bool kept(const ScrubbedEnvironment& env, const std::string& entry) {
  return std::find(env.kept.begin(), env.kept.end(), entry) != env.kept.end();
}

}  // namespace

TEST_CASE("environment: only allowed names pass, everything else is listed by name") {
  auto env = scrub_environment({"PATH=/usr/bin", "LC_ALL=C", "EDITOR=vim", "CI=true"}, kPolicy);
  CHECK(kept(env, "PATH=/usr/bin"));
  CHECK(kept(env, "LC_ALL=C"));
  CHECK(kept(env, "CI=true"));
  CHECK_FALSE(kept(env, "EDITOR=vim"));
  CHECK(env.dropped == std::vector<std::string>{"EDITOR"});
}

TEST_CASE("environment: a secret is withheld even when its name is allowed") {
  auto env =
      scrub_environment({"AWS_REGION=eu-west-1", "GITHUB_TOKEN=ghp_x", "DB_PASSWORD=x"}, kPolicy);
  CHECK(env.kept.empty());
  CHECK(env.dropped == std::vector<std::string>{"AWS_REGION", "DB_PASSWORD", "GITHUB_TOKEN"});
}

TEST_CASE("environment: --pass-env lets a named secret through, and only that one") {
  EnvironmentPolicy policy = kPolicy;
  policy.pass = {"NPM_TOKEN"};
  auto env = scrub_environment({"NPM_TOKEN=npm_abc", "GITHUB_TOKEN=ghp_x"}, policy);
  CHECK(kept(env, "NPM_TOKEN=npm_abc"));
  CHECK_FALSE(kept(env, "GITHUB_TOKEN=ghp_x"));
}

TEST_CASE("environment: set_variable replaces or appends") {
  std::vector<std::string> env{"HOME=/root", "PATH=/bin"};
  set_variable(env, "HOME", "/home/u");
  set_variable(env, "TMPDIR", "/tmp");
  CHECK(env == std::vector<std::string>{"HOME=/home/u", "PATH=/bin", "TMPDIR=/tmp"});
}
