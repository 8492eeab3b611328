#include <catch2/catch.hpp>
#include <fstream>

#include "runner/profile/base_profile.h"
#include "runner/profile/byte_size.h"
#include "runner/profile/profile_layers.h"

using namespace safeinstall::runner;

namespace {

std::filesystem::path write_profile(const std::string& text) {
  static int counter = 0;
  auto path = std::filesystem::temp_directory_path() / ("si-profile-" + std::to_string(::getpid()) +
                                                        "-" + std::to_string(++counter) + ".toml");
  std::ofstream(path) << text;
  return path;
}

std::string error_of(const std::string& text) {
  auto path = write_profile(text);
  auto loaded = load_base_profile(path);
  std::filesystem::remove(path);
  REQUIRE_FALSE(loaded);
  return loaded.error().message();
}

}  // namespace

TEST_CASE("base profile: the shipped profile loads") {
  auto loaded = load_default_base_profile();
  REQUIRE(loaded);
  CHECK_FALSE(loaded->env_allow.empty());
  CHECK_FALSE(loaded->hide.empty());
  CHECK(loaded->home_size > 0);
  CHECK_FALSE(loaded->toolchains.empty());
}

TEST_CASE("base profile: malformed TOML names file:line:col") {
  auto message = error_of("[env]\nallow = [\"PATH\"\n");
  CHECK_THAT(message, Catch::Matches(".*si-profile-.*\\.toml:[0-9]+:[0-9]+: [\\s\\S]*"));
}

TEST_CASE("base profile: unknown keys name the place and what exists") {
  auto message = error_of("[env]\nallow = []\nalow = []\n");
  CHECK_THAT(message, Catch::Contains(":3:1: unknown key `alow` in [env]"));
  CHECK_THAT(message, Catch::Contains("expected one of: allow, secret"));
}

TEST_CASE("base profile: wrong types say what was expected") {
  CHECK_THAT(error_of("[env]\nallow = \"PATH\"\n"),
             Catch::Contains(":2:9: `env.allow` must be an array of strings"));
  CHECK_THAT(error_of("[filesystem]\nhome_size = \"lots\"\n"),
             Catch::Contains("`home_size` must be a size"));
  CHECK_THAT(error_of("[[filesystem.toolchain]]\nname = \"x\"\ndirs = [\"/abs\"]\n"),
             Catch::Contains("must be a path relative to the home directory"));
}

TEST_CASE("base profile: sizes") {
  CHECK(parse_size("1G").value() == (1ULL << 30));
  CHECK(parse_size("512M").value() == 512ULL * 1024 * 1024);
  CHECK(parse_size("4096").value() == 4096);
  CHECK_FALSE(parse_size("0"));
  CHECK_FALSE(parse_size("12X"));
  CHECK_FALSE(parse_size("G"));
  CHECK_FALSE(parse_size("99999999999999999999G"));
}
