// Aliases and PATH shims: which calls of each tool run in the sandbox, decided from the shim
// file `safeinstall setup` writes out of the real profiles; and the shim files themselves.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "runner/profile/profile_layers.h"
#include "runner/setup/shims.h"
#include "runner/shim/shim_route.h"
#include "runner/shim/shim_table.h"

namespace {

using namespace safeinstall::runner;

LayerDirs source_profiles() {
  LayerDirs dirs;
  dirs.builtin = SAFEINSTALL_SOURCE_PROFILES;
  dirs.system = "/nonexistent/safeinstall-system";
  dirs.user = "/nonexistent/safeinstall-user";
  return dirs;
}

std::string shim_text_for(const std::string& tool) {
  auto spec = shim_spec(tool, source_profiles());
  REQUIRE(spec);
  return shim_file_text(*spec, "/opt/si/safeinstall-shim", "/opt/si/safeinstall");
}

Route route_for(const std::string& tool, const std::vector<std::string>& args) {
  std::string text = shim_text_for(tool);
  ShimTable table;
  REQUIRE(parse_shim_table(text, table));
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return route_of(table, argv);
}

struct Call {
  std::string tool;
  std::vector<std::string> args;
};

}  // namespace

TEST_CASE("shim route: the profiles' install subcommands run in the sandbox", "[shim]") {
  const std::vector<Call> installs = {
      {"npm", {"ci"}},
      {"npm", {"install"}},
      {"npm", {"i", "lodash"}},
      {"npm", {"install", "-D", "typescript"}},
      {"npm", {"add", "left-pad"}},
      {"npm", {"update"}},
      {"npm", {"exec", "cowsay"}},
      {"npm", {"x", "cowsay"}},
      {"npm", {"ci", "--ignore-scripts"}},
      {"npm", {"--prefix", "web", "ci"}},
      {"npm", {"--no-audit", "install"}},
      {"npx", {"cowsay", "hi"}},
      {"npx", {"-y", "create-vite"}},
      {"yarn", {}},
      {"yarn", {"--frozen-lockfile"}},
      {"yarn", {"add", "react"}},
      {"yarn", {"install"}},
      {"pnpm", {"install"}},
      {"pnpm", {"add", "zod"}},
      {"pip", {"install", "requests"}},
      {"pip3", {"install", "-r", "requirements.txt"}},
      {"pip", {"-q", "install", "x"}},
      {"uv", {"sync"}},
      {"uv", {"pip", "install", "x"}},
      {"poetry", {"install"}},
      {"gem", {"install", "rake"}},
      {"bundle", {}},
      {"bundle", {"install"}},
      {"cargo", {"build"}},
      {"cargo", {"fetch"}},
      {"go", {"mod", "download"}},
      {"go", {"build", "./..."}},
      {"composer", {"install"}},
      {"composer", {"update"}},
      {"composer", {"require", "monolog/monolog"}},
      // Behind global options, and their values (the profiles' value_options).
      {"npm", {"--prefix", ".", "install", "lodash"}},
      {"npm", {"--prefix", "web", "--workspace", "a", "ci"}},
      {"npm", {"-w", "a", "install", "zod"}},
      {"npm", {"--userconfig", "x", "--cache", "y", "ci"}},
      {"npm", {"--some-unknown-option", "value", "ci"}},
      {"pip", {"--disable-pip-version-check", "install", "x"}},
      {"pip", {"--cache-dir", "/tmp/c", "install", "x"}},
      {"cargo", {"+nightly", "build"}},
      {"cargo", {"--locked", "build"}},
      {"cargo", {"+nightly", "--config", "x.toml", "fetch"}},
      {"go", {"-C", "dir", "build"}},
      {"yarn", {"--cwd", "x", "add", "y"}},
      {"yarn", {"--cwd", "x"}},  // yarn alone installs
      {"composer", {"--no-interaction", "install"}},
      {"composer", {"-d", "web", "install"}},
      {"bundle", {"--verbose", "install"}},
      {"bundle", {"--retry", "3", "install"}},
      {"pnpm", {"-C", "web", "install"}},
  };
  for (const auto& call : installs) {
    INFO(call.tool << " " << Catch::Detail::stringify(call.args));
    CHECK(route_for(call.tool, call.args) == Route::sandbox);
  }
}

TEST_CASE("shim route: every other call runs the real tool untouched", "[shim]") {
  const std::vector<Call> others = {
      {"npm", {"--version"}},
      {"npm", {"-v"}},
      {"npm", {}},
      {"npm", {"whoami"}},
      {"npm", {"login"}},
      {"npm", {"publish"}},
      {"npm", {"start"}},
      {"npm", {"test"}},
      {"npm", {"run", "dev"}},
      {"npm", {"run", "install"}},
      {"npm", {"help", "install"}},
      {"npm", {"i", "-g", "typescript"}},
      {"npm", {"install", "--global", "typescript"}},
      {"npm", {"--", "install"}},
      {"npx", {"--version"}},
      {"yarn", {"--version"}},
      {"yarn", {"-v"}},
      {"yarn", {"run", "build"}},
      {"pnpm", {"run", "dev"}},
      {"pnpm", {"add", "-g", "zx"}},
      {"pip", {"list"}},
      {"pip", {"--version"}},
      {"pip", {"show", "requests"}},
      {"pip", {"install", "--user", "black"}},
      {"pip3", {"freeze"}},
      {"uv", {"run", "pytest"}},
      {"poetry", {"run", "pytest"}},
      {"gem", {"list"}},
      {"bundle", {"exec", "rake"}},
      {"bundle", {"--version"}},
      {"cargo", {"--version"}},
      {"cargo", {"run"}},
      {"cargo", {"test"}},
      {"go", {"version"}},
      {"go", {"test", "./..."}},
      {"go", {"env", "GOPATH"}},
      {"go", {"mod", "graph"}},
      {"composer", {"--version"}},
      {"composer", {"dump-autoload"}},
      {"npm", {"--prefix", "web", "run", "dev"}},
      {"npm", {"--prefix", "web", "--version"}},
      {"npm", {"--prefix", "web"}},
      {"cargo", {"+nightly", "fmt"}},
      {"cargo", {"+nightly", "--version"}},
      {"go", {"-C", "dir", "test", "./..."}},
      {"composer", {"-d", "web", "dump-autoload"}},
      {"pip", {"--cache-dir", "/tmp/c", "list"}},
  };
  for (const auto& call : others) {
    INFO(call.tool << " " << Catch::Detail::stringify(call.args));
    CHECK(route_for(call.tool, call.args) == Route::tool);
  }
}

TEST_CASE("shim file: the table comes back as written", "[shim]") {
  std::string text = shim_text_for("npm");
  ShimTable table;
  REQUIRE(parse_shim_table(text, table));
  CHECK(table.tool == "npm");
  CHECK(table.safeinstall == "/opt/si/safeinstall");
  CHECK(text.starts_with("#!/opt/si/safeinstall-shim\n"));
  CHECK(looks_like_shim(text));
  CHECK_FALSE(table.always);
  std::vector<std::string_view> globals(table.global.begin(),
                                        table.global.begin() + table.global_count);
  CHECK(globals == std::vector<std::string_view>{"-g", "--global", "--location=global"});
  std::vector<std::string_view> value_options(
      table.value_options.begin(), table.value_options.begin() + table.value_option_count);
  CHECK(std::ranges::find(value_options, "--workspace") != value_options.end());
  // The table's views point into the text: each text lives as long as its table is read.
  const std::string cargo = shim_text_for("cargo");
  REQUIRE(parse_shim_table(cargo, table));
  REQUIRE(table.option_prefix_count == 1);
  CHECK(table.option_prefixes[0] == "+");
  const std::string npx = shim_text_for("npx");
  REQUIRE(parse_shim_table(npx, table));
  CHECK(table.always);
}

TEST_CASE("shim file: anything else is refused", "[shim]") {
  ShimTable table;
  const std::string head = "#!/x/safeinstall-shim\n" + std::string(kShimMarker) + "\n";
  CHECK(parse_shim_table(head + "tool npm\nsafeinstall /x/safeinstall\n", table));
  CHECK_FALSE(parse_shim_table("#!/bin/sh\nexec npm \"$@\"\n", table));
  CHECK_FALSE(parse_shim_table("tool npm\nsafeinstall /x/safeinstall\n", table));
  CHECK_FALSE(parse_shim_table(head + "tool npm\n", table));
  CHECK_FALSE(parse_shim_table(head + "tool npm\nsafeinstall relative/safeinstall\n", table));
  CHECK_FALSE(parse_shim_table(head + "tool ../npm\nsafeinstall /x/safeinstall\n", table));
  CHECK_FALSE(parse_shim_table(head + "tool npm\nsafeinstall /x/s\nrun-anything sh\n", table));
  std::string many = head + "tool npm\nsafeinstall /x/safeinstall\n";
  for (std::size_t i = 0; i <= kMaxInstallForms; ++i)
    many += "install f" + std::to_string(i) + "\n";
  CHECK_FALSE(parse_shim_table(many, table));
}

TEST_CASE("shim file: the tools' lists come from every profile that names them", "[shim]") {
  auto yarn = shim_spec("yarn", source_profiles());
  REQUIRE(yarn);
  // yarn 1 and yarn berry both match `yarn`: the aliases know the forms of both.
  CHECK(std::ranges::find(yarn->install, "import") != yarn->install.end());
  CHECK(std::ranges::find(yarn->install, "dlx") != yarn->install.end());
  CHECK(yarn->bare);
  auto pip3 = shim_spec("pip3", source_profiles());
  REQUIRE(pip3);
  CHECK(std::ranges::find(pip3->install, "install") != pip3->install.end());
  for (const auto& tool : shimmed_tools()) {
    auto spec = shim_spec(tool, source_profiles());
    REQUIRE(spec);
    INFO(tool);
    CHECK((spec->always || !spec->install.empty()));
  }
}
