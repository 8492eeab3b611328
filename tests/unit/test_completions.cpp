// The completion scripts are generated from the parser's own definitions: every option and
// subcommand the parser knows is offered by each shell's script.
#include <algorithm>
#include <catch2/catch.hpp>

#include "runner/cli/cli.h"
#include "runner/cli/completions.h"

using namespace safeinstall::runner;

namespace {

const OptionSpec* option_named(const CommandSpec& spec, const std::string& name) {
  for (const auto& o : spec.options)
    if (std::ranges::find(o.names, name) != o.names.end()) return &o;
  return nullptr;
}

}  // namespace

TEST_CASE("completions: the command specs are the parser's options") {
  auto specs = command_specs();
  REQUIRE_FALSE(specs.empty());
  const auto& main = specs.front();
  CHECK(main.name.empty());
  const auto* profile = option_named(main, "--profile");
  REQUIRE(profile != nullptr);
  CHECK(profile->value == "NAME");
  const auto* timeout = option_named(main, "--timeout");
  REQUIRE(timeout != nullptr);
  CHECK(timeout->value == "SECONDS");  // without the validator's ":POSITIVE"
  const auto* yes = option_named(main, "--yes");
  REQUIRE(yes != nullptr);
  CHECK(yes->names == std::vector<std::string>{"-y", "--yes"});
  CHECK(yes->value.empty());
  const auto* allow_host = option_named(main, "--allow-host");
  REQUIRE(allow_host != nullptr);
  CHECK(allow_host->repeatable);

  std::vector<std::string> names;
  for (const auto& spec : specs) names.push_back(spec.name);
  for (const char* sub : {"check", "runs", "promote", "discard", "gc", "profiles", "db", "scan"})
    CHECK(std::ranges::find(names, sub) != names.end());
  for (const auto& spec : specs) {
    if (spec.name == "gc") CHECK(option_named(spec, "--older-than") != nullptr);
    if (spec.name == "runs") CHECK(spec.words == std::vector<std::string>{"show", "prune"});
  }
}

TEST_CASE("completions: every option and subcommand is in each shell's script") {
  auto specs = command_specs();
  auto bash = bash_completion(specs);
  // Word lists are quoted: "-h --help --db"; a name is a word between spaces or quotes.
  auto bash_words = bash;
  std::ranges::replace(bash_words, '"', ' ');
  auto zsh = zsh_completion(specs);
  auto fish = fish_completion(specs);
  CHECK(bash.find("complete -F _safeinstall safeinstall\n") != std::string::npos);
  CHECK(zsh.starts_with("#compdef safeinstall\n"));
  for (const auto& spec : specs) {
    INFO(spec.name);
    if (!spec.name.empty()) {
      CHECK(bash.find("    " + spec.name + ")\n") != std::string::npos);
      CHECK(zsh.find("'" + spec.name + ":") != std::string::npos);
      CHECK(fish.find("-a '" + spec.name + "'") != std::string::npos);
    }
    for (const auto& option : spec.options) {
      for (const auto& name : option.names) {
        INFO(name);
        CHECK(bash_words.find(" " + name + " ") != std::string::npos);
        CHECK(zsh.find(name) != std::string::npos);
        std::string fish_name =
            name.starts_with("--") ? "-l " + name.substr(2) : "-s " + name.substr(1);
        CHECK(fish.find(fish_name) != std::string::npos);
      }
    }
  }
  // --profile completes profile names, asked of the binary.
  CHECK(bash.find("--profile) COMPREPLY=($(compgen -W \"$(_safeinstall_profiles)\"") !=
        std::string::npos);
  CHECK(zsh.find("--profile=[") != std::string::npos);
  CHECK(zsh.find(":NAME:_safeinstall_profiles'") != std::string::npos);
  CHECK(fish.find("-l profile -x -a '(__safeinstall_profiles)'") != std::string::npos);
}
