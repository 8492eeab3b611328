// Pruning kept runs is the invoker's housekeeping: [runs] in the profile layers (never a
// project's), ages as users write them, and `runs prune` on the command line.
#include <catch2/catch.hpp>

#include "runner/cli/cli.h"
#include "runner/cli/run_commands.h"
#include "runner/profile/profile_layers.h"
#include "runner/profile/profile_schema.h"

using namespace safeinstall::runner;

namespace {

CommandLine parse(std::vector<const char*> args) {
  args.insert(args.begin(), "safeinstall");
  return parse_command_line(static_cast<int>(args.size()), args.data());
}

}  // namespace

TEST_CASE("runs config: [runs] keep and max_age in a profile layer, never in a project's") {
  auto layer = parse_profile_layer("[runs]\nkeep = 20\nmax_age = \"7d\"\n",
                                   "/home/u/.config/safeinstall/base.toml", LayerKind::Profile);
  REQUIRE(layer);
  REQUIRE(layer->runs_keep);
  CHECK(layer->runs_keep->value == 20);
  REQUIRE(layer->runs_max_age);
  CHECK(layer->runs_max_age->value == 7 * 86400);

  ResolvedProfile resolved;
  merge_layer(resolved.merged, *layer, true);
  CHECK(resolved.base().runs_keep == std::uint64_t{20});
  CHECK(resolved.base().runs_max_age == std::uint64_t{7 * 86400});

  auto bad_age =
      parse_profile_layer("[runs]\nmax_age = \"soon\"\n", "/u/base.toml", LayerKind::Profile);
  REQUIRE_FALSE(bad_age);
  CHECK_THAT(bad_age.error().message(), Catch::Contains("/u/base.toml:2"));
  CHECK_FALSE(parse_profile_layer("[runs]\nkeep = 0\n", "/u/base.toml", LayerKind::Profile));
  CHECK_FALSE(parse_profile_layer("[runs]\nkept = 3\n", "/u/base.toml", LayerKind::Profile));

  auto project =
      parse_profile_layer("[runs]\nkeep = 1\n", "/p/.safeinstall.toml", LayerKind::Project);
  REQUIRE_FALSE(project);
  CHECK_THAT(project.error().message(), Catch::Contains("[runs] cannot be set by a project"));
}

TEST_CASE("cli: runs prune with --older-than and --keep") {
  auto plain = parse({"runs", "prune"});
  CHECK(plain.action == CommandLine::Action::Runs);
  CHECK(plain.runs_prune);
  CHECK_FALSE(plain.runs_show);
  CHECK(plain.prune_keep == -1);
  CHECK(plain.prune_older_than.empty());
  auto both = parse({"runs", "prune", "--older-than", "12h", "--keep", "5"});
  CHECK(both.action == CommandLine::Action::Runs);
  CHECK(both.prune_older_than == "12h");
  CHECK(both.prune_keep == 5);
  CHECK(parse({"runs", "prune", "--keep", "-1"}).exit_code == 125);
  CHECK(parse({"runs", "prune", "extra"}).exit_code == 125);
}

TEST_CASE("runs config: SAFEINSTALL_RUNS_KEEP and SAFEINSTALL_RUNS_MAX_AGE replace [runs]") {
  BaseProfile base;
  base.runs_keep = 50;
  base.runs_max_age = 30 * 86400;
  ::unsetenv("SAFEINSTALL_RUNS_KEEP");
  ::unsetenv("SAFEINSTALL_RUNS_MAX_AGE");
  auto profile = prune_policy_of(base);
  CHECK(profile.keep == std::size_t{50});
  CHECK(profile.max_age == std::chrono::seconds(30 * 86400));
  ::setenv("SAFEINSTALL_RUNS_KEEP", "3", 1);
  ::setenv("SAFEINSTALL_RUNS_MAX_AGE", "12h", 1);
  auto env = prune_policy_of(base);
  CHECK(env.keep == std::size_t{3});
  CHECK(env.max_age == std::chrono::seconds(12 * 3600));
  ::setenv("SAFEINSTALL_RUNS_KEEP", "many", 1);
  ::setenv("SAFEINSTALL_RUNS_MAX_AGE", "soon", 1);
  auto bad = prune_policy_of(base);
  CHECK(bad.keep == std::size_t{50});
  CHECK(bad.max_age == std::chrono::seconds(30 * 86400));
  ::unsetenv("SAFEINSTALL_RUNS_KEEP");
  ::unsetenv("SAFEINSTALL_RUNS_MAX_AGE");
}
