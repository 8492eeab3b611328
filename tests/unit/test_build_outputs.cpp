// Build commands declare what they write: `[match] build` forms and `[files] outputs`, with
// `${-o}` standing for the path the command names.
#include <catch2/catch.hpp>

#include "runner/profile/build_outputs.h"
#include "runner/profile/profile_layers.h"
#include "runner/profile/profile_schema.h"

using namespace safeinstall::runner;

namespace {

std::vector<std::string> words(std::initializer_list<const char*> list) {
  return {list.begin(), list.end()};
}

}  // namespace

TEST_CASE("build outputs: an option's value, as -o PATH or -o=PATH, the last one given") {
  CHECK(option_value(words({"go", "build", "-o", "bin/app", "./cmd"}), "-o") == "bin/app");
  CHECK(option_value(words({"go", "build", "-o=bin/x"}), "-o") == "bin/x");
  CHECK(option_value(words({"go", "build", "-o", "a", "-o", "b"}), "-o") == "b");
  CHECK_FALSE(option_value(words({"go", "build", "./cmd"}), "-o"));
  CHECK_FALSE(option_value(words({"go", "build", "-o"}), "-o"));
  CHECK_FALSE(option_value(words({"go", "build", "-ob"}), "-o"));
  // After `--` the words are the program's, not the tool's.
  CHECK_FALSE(option_value(words({"go", "run", ".", "--", "-o", "x"}), "-o"));
}

TEST_CASE("build outputs: globs pass as they are, ${-o} becomes the project path it names") {
  std::vector<std::string> entries{"dist/**", "${-o}"};
  auto globs = [&](std::initializer_list<const char*> argv, const std::string& cwd = "/p") {
    return build_output_globs(entries, words(argv), "/p", cwd);
  };
  CHECK(globs({"go", "build"}) == words({"dist/**"}));
  // The directories it makes on the way are its outputs too.
  CHECK(globs({"go", "build", "-o", "bin/app"}) == words({"dist/**", "bin", "bin/app"}));
  CHECK(globs({"go", "build", "-o", "app"}) == words({"dist/**", "app"}));
  CHECK(globs({"go", "build", "-o", "bin/"}) == words({"dist/**", "bin/**"}));
  CHECK(globs({"go", "build", "-o", "/p/out/x/app"}) ==
        words({"dist/**", "out", "out/x", "out/x/app"}));
  CHECK(globs({"go", "build", "-o", "../x/app"}, "/p/cmd") == words({"dist/**", "x", "x/app"}));
  // Outside the project, the project itself, or a glob: nothing is expected for it.
  CHECK(globs({"go", "build", "-o", "/usr/local/bin/app"}) == words({"dist/**"}));
  CHECK(globs({"go", "build", "-o", "../app"}) == words({"dist/**"}));
  CHECK(globs({"go", "build", "-o", "."}) == words({"dist/**"}));
  CHECK(globs({"go", "build", "-o", "bin/*"}) == words({"dist/**"}));
}

TEST_CASE("build outputs: the schema takes globs and ${-OPTION}, nothing else") {
  auto layer = parse_profile_layer(
      "[match]\nbuild = [\"run build\"]\n[files]\noutputs = [\"dist/**\", \"${-o}\"]\n",
      "/p/x.toml", LayerKind::Profile);
  REQUIRE(layer);
  REQUIRE(layer->build.size() == 1);
  CHECK(layer->build[0].value == "run build");
  REQUIRE(layer->outputs.size() == 2);
  CHECK(layer->outputs[1].value == "${-o}");
  CHECK(layer->outputs[1].origin.text() == "/p/x.toml:4:23");

  for (const char* bad : {"${HOME}/x", "${-o", "${-o x}", "dist/[**"}) {
    INFO(bad);
    auto wrong = parse_profile_layer(std::string("[files]\noutputs = [\"") + bad + "\"]\n",
                                     "/p/x.toml", LayerKind::Profile);
    REQUIRE_FALSE(wrong);
    CHECK(wrong.error().message().starts_with("/p/x.toml:2:"));
  }
}

TEST_CASE("build outputs: the shipped profiles name their build commands, not their installs") {
  LayerDirs dirs;
  dirs.builtin = SAFEINSTALL_SOURCE_PROFILES;
  auto profile = [&](std::vector<std::string> argv) {
    auto r = resolve_profile(argv, FlagLayer{}, dirs);
    REQUIRE(r);
    return *r;
  };
  auto npm = profile(words({"npm", "run", "build"}));
  CHECK(npm.is_build(words({"npm", "run", "build"})));
  CHECK(npm.is_build(words({"npm", "run-script", "build", "--", "--watch"})));
  CHECK_FALSE(npm.is_build(words({"npm", "install", "lodash"})));
  CHECK_FALSE(npm.is_build(words({"npm", "run", "lint"})));
  std::vector<std::string> outputs;
  for (const auto& o : npm.merged.outputs) outputs.push_back(o.value);
  CHECK(outputs == words({"dist/**", "build/**", "out/**"}));
  for (const char* js : {"yarn", "pnpm"}) {
    INFO(js);
    CHECK(profile(words({js, "build"})).is_build(words({js, "build"})));
    CHECK_FALSE(profile(words({js, "install"})).is_build(words({js, "install"})));
  }
  auto cargo = profile(words({"cargo", "test"}));
  CHECK(cargo.is_build(words({"cargo", "test"})));
  CHECK(cargo.is_build(words({"cargo", "build", "--release"})));
  CHECK_FALSE(cargo.is_build(words({"cargo", "fetch"})));
  auto go = profile(words({"go", "build"}));
  CHECK(go.is_build(words({"go", "build", "-o", "bin/app"})));
  CHECK_FALSE(go.is_build(words({"go", "mod", "download"})));
}
