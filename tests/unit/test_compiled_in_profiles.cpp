// The profiles compiled into the binary: byte for byte the files of profiles/, the built-in
// layer when no file on disk replaces them, and named "built-in:NAME.toml" in messages.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "runner/cli/profiles_command.h"
#include "runner/profile/compiled_in_profiles.h"
#include "runner/profile/profile_files.h"
#include "runner/profile/profile_layers.h"
#include "tests/unit/profile_test_support.h"

using namespace safeinstall::runner;
using safeinstall::test::ScratchDir;

namespace {

namespace fs = std::filesystem;

std::string file_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> source_profile_names() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(SAFEINSTALL_SOURCE_PROFILES)) {
    if (entry.path().extension() == ".toml") names.push_back(entry.path().stem().string());
  }
  std::ranges::sort(names);
  return names;
}

LayerDirs compiled_in_only() {
  LayerDirs dirs;
  dirs.compiled_in = true;
  return dirs;
}

}  // namespace

TEST_CASE("compiled-in profiles: the same files, byte for byte, as profiles/") {
  std::vector<std::string> compiled;
  for (const auto& profile : compiled_in_profiles()) compiled.emplace_back(profile.name);
  CHECK(compiled == source_profile_names());
  for (const auto& name : source_profile_names()) {
    INFO(name);
    const CompiledInProfile* profile = compiled_in_profile(name);
    REQUIRE(profile != nullptr);
    CHECK(profile->text == file_text(fs::path(SAFEINSTALL_SOURCE_PROFILES) / (name + ".toml")));
  }
  CHECK(compiled_in_profile("no-such-profile") == nullptr);
}

TEST_CASE("compiled-in profiles: every one resolves with no file on disk") {
  auto dirs = compiled_in_only();
  CHECK(available_profiles(dirs) == source_profile_names());
  for (const auto& name : source_profile_names()) {
    INFO(name);
    auto resolved = resolve_named_profile(name, FlagLayer{}, dirs);
    REQUIRE(resolved);
    CHECK(resolved->files.back() == fs::path("built-in:" + name + ".toml"));
  }
  std::vector<std::string> npm_ci{"npm", "ci"};
  auto matched = resolve_profile(npm_ci, FlagLayer{}, dirs);
  REQUIRE(matched);
  CHECK(matched->name == "npm");
  CHECK(matched->files == std::vector<fs::path>{"built-in:base.toml", "built-in:npm.toml"});
}

TEST_CASE("compiled-in profiles: values name built-in:NAME.toml:line:col") {
  auto resolved = resolve_named_profile("npm", FlagLayer{}, compiled_in_only());
  REQUIRE(resolved);
  REQUIRE_FALSE(resolved->merged.hosts.empty());
  CHECK_THAT(resolved->merged.hosts.front().origin.text(),
             Catch::Matches("built-in:npm\\.toml:[0-9]+:[0-9]+"));
  auto shown = render_profile(*resolved);
  CHECK_THAT(shown, Catch::Contains("#   built-in:base.toml\n#   built-in:npm.toml\n"));
}

TEST_CASE("compiled-in profiles: a TOML error names built-in:NAME.toml:line:col") {
  ProfileFile broken{"built-in:broken.toml", true, "[network]\nallow = [\"a.org\"\n"};
  auto layer = load_profile_file(broken, LayerKind::Profile);
  REQUIRE_FALSE(layer);
  CHECK_THAT(layer.error().message(), Catch::Matches("built-in:broken\\.toml:2:[0-9]+: [\\s\\S]*"));
  ProfileFile unknown{"built-in:odd.toml", true, "[network]\nallow = []\nalow = []\n"};
  auto odd = load_profile_file(unknown, LayerKind::Profile);
  REQUIRE_FALSE(odd);
  CHECK_THAT(odd.error().message(), Catch::StartsWith("built-in:odd.toml:3:1: unknown key"));
}

TEST_CASE("compiled-in profiles: a file on disk replaces the compiled-in copy") {
  ScratchDir root;
  auto dirs = compiled_in_only();
  dirs.builtin = root.path() / "override";
  dirs.installed = root.path() / "installed";
  dirs.user = root.path() / "user";
  root.write("override/npm.toml",
             "description = \"patched npm\"\n[match]\ncommands = [\"npm\"]\n[network]\nallow = "
             "[\"npm.corp.example\"]\n");
  root.write("installed/pip.toml", "description = \"installed pip\"\n");
  root.write("installed/npm.toml", "description = \"installed npm\"\n");
  root.write("user/npm.toml", "[network]\nallow = [\"mirror.example\"]\n");

  auto npm = resolve_named_profile("npm", FlagLayer{}, dirs);
  REQUIRE(npm);
  CHECK(npm->merged.description->value == "patched npm");
  std::vector<std::string> hosts;
  for (const auto& h : npm->merged.hosts) hosts.push_back(h.value);
  // Replaced, not added to: the compiled-in registry.npmjs.org is gone; the user layer adds.
  CHECK(hosts == std::vector<std::string>{"npm.corp.example", "mirror.example"});
  CHECK(npm->files.front() == fs::path("built-in:base.toml"));

  auto pip = resolve_named_profile("pip", FlagLayer{}, dirs);
  REQUIRE(pip);
  CHECK(pip->merged.description->value == "installed pip");

  auto listing = render_profile_list(dirs);
  INFO(listing);
  CHECK_THAT(listing, Catch::Contains("    from:    " + (dirs.builtin / "npm.toml").string() +
                                      ", " + (dirs.user / "npm.toml").string() + "\n"));
  CHECK_THAT(listing, Catch::Contains("    from:    " + (dirs.installed / "pip.toml").string()));
  CHECK_THAT(listing, Catch::Contains("cargo — "));
  CHECK_THAT(listing,
             Catch::Matches("[\\s\\S]*\ncargo — [^\n]*\n[^\n]*\n    from:    built-in\n[\\s\\S]*"));
}

TEST_CASE("compiled-in profiles: the default base profile needs no file on disk") {
  auto loaded = load_default_base_profile();
  REQUIRE(loaded);
  CHECK_FALSE(loaded->env_allow.empty());
}
