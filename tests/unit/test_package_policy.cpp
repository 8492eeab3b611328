// The package policy as pure functions: typosquat checks, ages, package patterns, release-age
// and allow-list decisions with given times, install scripts, registry metadata parsing, the
// npm lockfile changes, and the [policy] / [scripts] schema.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "runner/cli/profiles_command.h"
#include "runner/packages/lockfile.h"
#include "runner/policy/package_policy.h"
#include "runner/policy/registry_client.h"
#include "runner/policy/registry_metadata.h"
#include "runner/policy/typosquat.h"
#include "runner/profile/package_pattern.h"
#include "runner/profile/profile_layers.h"
#include "runner/profile/profile_schema.h"
#include "runner/profile/release_age.h"

using namespace safeinstall::runner;
using namespace std::chrono_literals;
using safeinstall::Result;

namespace {

PackageVersion npm(const std::string& name, const std::string& version, bool direct = true) {
  return {Ecosystem::npm, name, version, direct, "package-lock.json"};
}

TimePoint at(const char* text) {
  return *parse_timestamp(text);
}

PolicySettings settings_from(const std::string& toml, const std::string& scripts = "all") {
  auto layer = parse_profile_layer(toml, "/p/.safeinstall.toml", LayerKind::Project);
  INFO((layer ? std::string() : layer.error().message()));
  REQUIRE(layer);
  auto settings = policy_settings(layer->policy, layer->scripts ? layer->scripts->value : scripts);
  REQUIRE(settings);
  return *settings;
}

std::string schema_error(const std::string& toml) {
  auto layer = parse_profile_layer(toml, "/p/.safeinstall.toml", LayerKind::Project);
  REQUIRE_FALSE(layer);
  return layer.error().message();
}

Result<VersionMetadata> published(const char* when) {
  VersionMetadata m;
  m.published = at(when);
  return m;
}

}  // namespace

TEST_CASE("typosquat: edit distance counts swaps as one edit and stops past its limit") {
  CHECK(edit_distance("lodash", "lodash", 2) == 0);
  CHECK(edit_distance("lodahs", "lodash", 2) == 1);   // swapped neighbours
  CHECK(edit_distance("lodas", "lodash", 2) == 1);    // omitted
  CHECK(edit_distance("lodashh", "lodash", 2) == 1);  // added
  CHECK(edit_distance("lodesh", "lodash", 2) == 1);   // substituted
  CHECK(edit_distance("expresss-x", "express", 2) == 3);
  CHECK(edit_distance("abcdefgh", "zzzzzzzz", 2) == 3);  // limit + 1, early
}

TEST_CASE("typosquat: separators and look-alike characters fold away") {
  CHECK(without_separators("lodash.merge") == "lodashmerge");
  CHECK(without_separators("@babel/core") == "babelcore");
  CHECK(homoglyph_folded("l0dash") == homoglyph_folded("lodash"));
  CHECK(homoglyph_folded("coffee-scrlpt") == homoglyph_folded("coffee-script"));
  CHECK(homoglyph_folded("rnocha") == homoglyph_folded("mocha"));
  CHECK(homoglyph_folded("vvebpack") == homoglyph_folded("webpack"));
}

TEST_CASE("typosquat: names like popular npm packages are caught, naming the package") {
  const auto& popular = PopularNames::of("npm");
  REQUIRE(popular.size() >= 2000);
  auto check = [&](const char* name, const char* like) {
    auto r = popular.resembled_by(name);
    INFO(name);
    REQUIRE(r);
    CHECK(r->popular == like);
  };
  check("lodahs", "lodash");
  check("expres", "express");
  check("cross_env", "cross-env");  // separator swapped
  check("crossenv", "cross-env");   // separator dropped
  check("l0dash", "lodash");        // homoglyph
  check("webpack-cIi", "webpack-cli");
  check("typescritp", "typescript");
  check("testing-library-react", "@testing-library/react");  // scope moved into the name
}

TEST_CASE("typosquat: no finding for popular names themselves, @types packages or short names") {
  const auto& popular = PopularNames::of("npm");
  // Every popular name is left alone, even where it is one edit from another popular one.
  std::size_t flagged = 0;
  for (const char* name : {"lodash", "lodash-es", "react", "react-dom", "express", "debug", "ms",
                           "qs", "chalk", "@types/node", "@babel/core", "semver", "glob", "globby"})
    flagged += popular.resembled_by(name) ? 1 : 0;
  CHECK(flagged == 0);
  CHECK_FALSE(popular.resembled_by("@types/lodash"));
  // A scope has one owner: names beside popular ones in the same scope are theirs.
  CHECK_FALSE(popular.resembled_by("@aws-sdk/client-sqs"));
  CHECK(popular.resembled_by("@aws-sdkk/client-s3"));
  // Short names are one edit from too many others to say anything.
  CHECK_FALSE(popular.resembled_by("mz2"));
  CHECK_FALSE(popular.resembled_by("qz"));
  CHECK_FALSE(popular.resembled_by("chak"));
  // Far from everything popular.
  CHECK_FALSE(popular.resembled_by("my-internal-billing-tool"));
}

TEST_CASE("typosquat: PyPI compares names as PyPI does, and the other lists load") {
  const auto& pypi = PopularNames::of("pypi");
  REQUIRE(pypi.size() >= 2000);
  CHECK_FALSE(pypi.resembled_by("Python_Dateutil"));  // the same project, spelled another way
  auto r = pypi.resembled_by("reqeusts");
  REQUIRE(r);
  CHECK(r->popular == "requests");
  CHECK(PopularNames::of("crates").resembled_by("serde_jsno")->popular == "serde_json");
  CHECK(PopularNames::of("rubygems").resembled_by("nokogri")->popular == "nokogiri");
  CHECK(PopularNames::of("go").size() == 0);
}

TEST_CASE("release age: ages parse in minutes, hours, days and weeks and read back") {
  CHECK(*parse_age("30m") == 30min);
  CHECK(*parse_age("12h") == 12h);
  CHECK(*parse_age("3d") == 72h);
  CHECK(*parse_age("2w") == 336h);
  CHECK(*parse_age("0d") == 0s);
  for (const char* bad : {"", "3", "d", "3s", "-1d", "1.5d", "3 d", "99999999w"}) {
    INFO(bad);
    CHECK_FALSE(parse_age(bad));
  }
  CHECK(describe_age(125s) == "2 min");
  CHECK(describe_age(2h + 5min) == "2 h");
  CHECK(describe_age(50h) == "2 d");
}

TEST_CASE("package patterns: names, globs and versions") {
  auto p = [](const char* text) { return *parse_package_pattern(text); };
  CHECK(p("lodash").matches("lodash", "4.17.21"));
  CHECK(p("lodash").matches("Lodash", "1.0.0"));
  CHECK_FALSE(p("lodash").matches("lodash-es", "1.0.0"));
  CHECK(p("@myorg/*").matches("@myorg/tool", "1.0.0"));
  CHECK_FALSE(p("@myorg/*").matches("@other/tool", "1.0.0"));
  CHECK(p("react@^18").matches("react", "18.2.0"));
  CHECK_FALSE(p("react@^18").matches("react", "17.0.2"));
  CHECK_FALSE(p("react@^18.3").matches("react", "18.2.0"));
  CHECK(p("sharp@0.33").matches("sharp", "0.33.5"));
  CHECK_FALSE(p("sharp@0.33").matches("sharp", "0.330.0"));
  CHECK_FALSE(p("sharp@0.33").matches("sharp", "0.34.0"));
  CHECK(p("tool@~1.2").matches("tool", "1.2.9"));
  CHECK_FALSE(p("tool@~1.2").matches("tool", "1.3.0"));
  CHECK(p("@scope/x@1.2.3").matches("@scope/x", "1.2.3"));
  for (const char* bad : {"", "@", "a@", "a b", "a@^", "a@~1", "a@@1"}) {
    INFO(bad);
    CHECK_FALSE(parse_package_pattern(bad));
  }
}

TEST_CASE(
    "release age: a version younger than the limit is held, naming package, version and age") {
  auto s = settings_from("[policy]\nmin_release_age = \"3d\"\n");
  const auto* rule = s.release_age_for(Ecosystem::npm);
  REQUIRE(rule);
  auto now = at("2025-06-10T12:00:00Z");
  auto young = release_age_finding(npm("left-pad", "1.3.1"), *rule, false,
                                   published("2025-06-10T10:00:00.000Z"), now);
  REQUIRE(young);
  CHECK(young->kind == FindingKind::too_new);
  CHECK(young->severity == Severity::medium);
  CHECK(young->package == "left-pad@1.3.1");
  CHECK(young->detail == "left-pad@1.3.1 was published 2 h ago; min_release_age is 3d");
  CHECK_FALSE(release_age_finding(npm("left-pad", "1.3.0"), *rule, false,
                                  published("2025-06-07T11:59:59Z"), now));
  // A publish time in the future (a skewed clock) counts as brand new.
  CHECK(
      release_age_finding(npm("a", "1.0.0"), *rule, false, published("2025-06-11T00:00:00Z"), now));
}

TEST_CASE("release age: per-ecosystem limits and excludes, unknown times low unless required") {
  auto s = settings_from(
      "[policy]\nmin_release_age = \"3d\"\nmin_release_age_exclude = [\"@myorg/*\"]\n"
      "[policy.npm]\nmin_release_age = \"1d\"\nmin_release_age_exclude = [\"lodash\"]\n");
  auto now = at("2025-06-10T12:00:00Z");
  const auto* npm_rule = s.release_age_for(Ecosystem::npm);
  const auto* pypi_rule = s.release_age_for(Ecosystem::pypi);
  REQUIRE(npm_rule);
  REQUIRE(pypi_rule);
  CHECK(npm_rule->text == "1d");
  CHECK(pypi_rule->text == "3d");
  auto two_days = published("2025-06-08T11:00:00Z");
  CHECK_FALSE(release_age_finding(npm("a", "1.0.0"), *npm_rule, false, two_days, now));
  PackageVersion py{Ecosystem::pypi, "requests", "2.0.0", true, "requirements.txt"};
  CHECK(release_age_finding(py, *pypi_rule, false, two_days, now));
  auto fresh = published("2025-06-10T11:00:00Z");
  CHECK_FALSE(release_age_finding(npm("lodash", "4.0.0"), *npm_rule, false, fresh, now));
  CHECK_FALSE(release_age_finding(npm("@myorg/tool", "1.0.0"), *npm_rule, false, fresh, now));

  Result<VersionMetadata> unknown = safeinstall::plain_error("registry.test: HTTP 404");
  auto low = release_age_finding(npm("a", "1.0.0"), *npm_rule, false, unknown, now);
  REQUIRE(low);
  CHECK(low->severity == Severity::low);
  CHECK(low->detail.find("HTTP 404") != std::string::npos);
  auto held = release_age_finding(npm("a", "1.0.0"), *npm_rule, true, unknown, now);
  REQUIRE(held);
  CHECK(held->severity == Severity::medium);
  CHECK(held->detail.find("release_age_required") != std::string::npos);
  CHECK_FALSE(settings_from("").release_age_for(Ecosystem::npm));
}

TEST_CASE("allow-lists: a new direct dependency outside both lists is unapproved") {
  VersionMetadata by_alice;
  by_alice.maintainers = {"alice"};
  int asked = 0;
  MetadataLookup lookup = [&](const PackageVersion& p) -> Result<VersionMetadata> {
    ++asked;
    if (p.name == "alices-lib") return by_alice;
    return VersionMetadata{};
  };
  auto s = settings_from(
      "[policy]\nallow_packages = [\"lodash\", \"@myorg/*\", \"react@^18\"]\n"
      "allow_maintainers = [\"alice\"]\n");
  CHECK_FALSE(allow_list_finding(npm("lodash", "4.17.21"), s, lookup));
  CHECK_FALSE(allow_list_finding(npm("@myorg/x", "1.0.0"), s, lookup));
  CHECK_FALSE(allow_list_finding(npm("react", "18.3.1"), s, lookup));
  CHECK(asked == 0);
  CHECK_FALSE(allow_list_finding(npm("alices-lib", "1.0.0"), s, lookup));
  auto old_react = allow_list_finding(npm("react", "17.0.2"), s, lookup);
  REQUIRE(old_react);
  auto f = allow_list_finding(npm("left-pad", "1.3.0"), s, lookup);
  REQUIRE(f);
  CHECK(f->kind == FindingKind::unapproved_dependency);
  CHECK(f->severity == Severity::medium);
  CHECK(f->detail ==
        "left-pad@1.3.0 is a new direct dependency outside [policy] allow_packages "
        "and allow_maintainers");
  CHECK_FALSE(allow_list_finding(npm("left-pad", "1.3.0"), settings_from(""), lookup));
}

TEST_CASE("package policy: only new direct dependencies are judged by allow-lists and names") {
  auto s = settings_from("[policy]\nallow_packages = [\"lodash\"]\n");
  PackageChanges changes;
  changes.added = {npm("lodahs", "1.0.0"), npm("left-pad", "1.0.0", false), npm("lodash", "4.0.0")};
  PackagePolicyInput input;
  input.changes = &changes;
  input.metadata = [](const PackageVersion&) -> Result<VersionMetadata> {
    return VersionMetadata{};
  };
  auto findings = package_policy_findings(input, s);
  REQUIRE(findings.size() == 2);
  CHECK(findings[0].kind == FindingKind::unapproved_dependency);
  CHECK(findings[0].package == "lodahs@1.0.0");
  CHECK(findings[1].kind == FindingKind::typosquat);
  CHECK(findings[1].detail.find("popular package lodash") != std::string::npos);
  // typosquats = false turns the name check off.
  auto off = settings_from("[policy]\ntyposquats = false\n");
  CHECK(package_policy_findings(input, off).empty());
}

TEST_CASE("install scripts: named always, held only when the script policy does not allow them") {
  auto all = settings_from("");
  auto f = install_script_finding(npm("esbuild", "0.20.0"), all);
  CHECK(f.kind == FindingKind::unlisted_script);
  CHECK(f.severity == Severity::low);
  auto listed = settings_from("[scripts]\nallow = [\"esbuild\", \"sharp@0.33\"]\n");
  CHECK(listed.scripts.describe() == "allow:esbuild,sharp");
  CHECK(install_script_finding(npm("esbuild", "0.20.0"), listed).severity == Severity::info);
  CHECK(install_script_finding(npm("sharp", "0.33.2"), listed).severity == Severity::info);
  auto wrong_version = install_script_finding(npm("sharp", "0.34.0"), listed);
  CHECK(wrong_version.severity == Severity::medium);
  CHECK(wrong_version.detail.find("sharp@0.33") != std::string::npos);
  auto unlisted = install_script_finding(npm("evil", "1.0.0"), listed);
  CHECK(unlisted.severity == Severity::medium);
  CHECK(unlisted.detail ==
        "evil@1.0.0 has an install script, which --scripts allow:esbuild,sharp "
        "does not allow");
}

TEST_CASE("registry metadata: npm packument time, maintainers and publisher") {
  const char* packument = R"({"name":"left-pad","time":{"created":"2016-01-01T00:00:00.000Z",
    "1.3.1":"2025-06-10T10:00:00.000Z"},"versions":{"1.3.1":{"maintainers":[{"name":"bob"}],
    "_npmUser":{"name":"alice","email":"a@example.org"}},"1.3.0":{}}})";
  auto m = npm_version_metadata(packument, "1.3.1");
  REQUIRE(m);
  CHECK(m->published == at("2025-06-10T10:00:00Z"));
  CHECK(m->maintainers == std::vector<std::string>{"bob", "alice"});
  auto no_time = npm_version_metadata(packument, "1.3.0");
  REQUIRE(no_time);
  CHECK_FALSE(no_time->published);
  CHECK_FALSE(npm_version_metadata(packument, "9.9.9"));
  CHECK_FALSE(npm_version_metadata("not json", "1.0.0"));
}

TEST_CASE("registry metadata: PyPI, crates.io and RubyGems publish times") {
  auto pypi = pypi_version_metadata(
      R"({"info":{},"urls":[{"upload_time_iso_8601":"2025-06-01T10:00:05.123456Z"},
         {"upload_time_iso_8601":"2025-06-01T09:00:00.000000Z"}]})",
      "2.0.0");
  REQUIRE(pypi);
  CHECK(pypi->published == at("2025-06-01T09:00:00Z"));
  auto pypi_releases = pypi_version_metadata(
      R"({"urls":[],"releases":{"2.0.0":[{"upload_time_iso_8601":"2025-06-02T00:00:00Z"}]}})",
      "2.0.0");
  REQUIRE(pypi_releases);
  CHECK(pypi_releases->published == at("2025-06-02T00:00:00Z"));
  CHECK_FALSE(pypi_version_metadata(R"({"urls":[]})", "2.0.0"));

  auto crate = crates_version_metadata(
      R"({"version":{"num":"1.0.0","created_at":"2025-06-03T12:00:00.000000+00:00"}})");
  REQUIRE(crate);
  CHECK(crate->published == at("2025-06-03T12:00:00Z"));
  CHECK_FALSE(crates_version_metadata(R"({"errors":[{"detail":"not found"}]})"));

  auto gem = rubygems_version_metadata(
      R"([{"number":"1.1.0","created_at":"2025-06-05T00:00:00.000Z","platform":"ruby"},
          {"number":"1.0.0","created_at":"2025-06-04T08:00:00.000Z","platform":"java"},
          {"number":"1.0.0","created_at":"2025-06-04T07:00:00.000Z","platform":"ruby"}])",
      "1.0.0");
  REQUIRE(gem);
  CHECK(gem->published == at("2025-06-04T07:00:00Z"));
  CHECK_FALSE(rubygems_version_metadata("[]", "1.0.0"));
}

TEST_CASE("registry metadata: timestamps with fractions and offsets") {
  CHECK(parse_timestamp("2025-06-10T12:00:00+02:00") == at("2025-06-10T10:00:00Z"));
  CHECK(parse_timestamp("2025-06-10T12:00:00") == at("2025-06-10T12:00:00Z"));
  CHECK_FALSE(parse_timestamp("2025-02-30T12:00:00Z"));
  CHECK_FALSE(parse_timestamp("yesterday"));
  CHECK_FALSE(parse_timestamp("2025-06-10T12:00:00Zjunk"));
}

TEST_CASE("registry client: the registry a run used, and each metadata URL") {
  auto bases = registry_bases({"npm", "install", "--registry", "http://registry.test/"}, {}, "");
  CHECK(*metadata_url(bases, npm("@scope/left", "1.0.0")) == "http://registry.test/@scope%2fleft");
  CHECK(registry_bases({"npm", "ci"}, {"npm_config_registry=https://npm.example.org"}, "").npm ==
        "https://npm.example.org/");
  CHECK(registry_bases({"npm", "ci"}, {}, "; comment\nregistry = https://mirror.example/npm/\n")
            .npm == "https://mirror.example/npm/");
  RegistryBases defaults = registry_bases({"npm", "ci"}, {}, "@s:registry=https://x.example/\n");
  CHECK(defaults.npm == "https://registry.npmjs.org/");
  auto pip = registry_bases({"pip", "install", "-i", "https://pypi.example.org/simple/"}, {}, "");
  PackageVersion py{Ecosystem::pypi, "requests", "2.0.0", true, "requirements.txt"};
  CHECK(*metadata_url(pip, py) == "https://pypi.example.org/pypi/requests/2.0.0/json");
  PackageVersion crate{Ecosystem::crates_io, "serde", "1.0.0", true, "Cargo.lock"};
  CHECK(*metadata_url(defaults, crate) == "https://crates.io/api/v1/crates/serde/1.0.0");
  PackageVersion gem{Ecosystem::rubygems, "rails", "7.0.0", true, "Gemfile.lock"};
  CHECK(*metadata_url(defaults, gem) == "https://rubygems.org/api/v1/versions/rails.json");
}

TEST_CASE("registry client: a scoped package's metadata comes from its scope's registry") {
  auto from_npmrc = registry_bases(
      {"npm", "ci"}, {},
      "registry=https://mirror.example/\n@corp:registry = https://npm.corp.example/api/\n");
  CHECK(*metadata_url(from_npmrc, npm("@corp/tool", "1.0.0")) ==
        "https://npm.corp.example/api/@corp%2ftool");
  CHECK(*metadata_url(from_npmrc, npm("@other/tool", "1.0.0")) ==
        "https://mirror.example/@other%2ftool");
  CHECK(*metadata_url(from_npmrc, npm("corp", "1.0.0")) == "https://mirror.example/corp");
  // The environment outranks the project's file, a flag outranks both.
  auto from_env = registry_bases({"npm", "ci"}, {"NPM_CONFIG_@corp:REGISTRY=https://env.example"},
                                 "@corp:registry=https://npm.corp.example/\n");
  CHECK(from_env.npm_scopes.at("@corp") == "https://env.example/");
  auto from_flag = registry_bases({"npm", "ci", "--@corp:registry=https://flag.example/x"},
                                  {"npm_config_@corp:registry=https://env.example"}, "");
  CHECK(*metadata_url(from_flag, npm("@corp/tool", "2.0.0")) ==
        "https://flag.example/x/@corp%2ftool");
  auto spaced = registry_bases({"npm", "ci", "--@corp:registry", "https://f2.example"}, {}, "");
  CHECK(spaced.npm_scopes.at("@corp") == "https://f2.example/");
  // Keys that only look like one are not scopes.
  auto odd = registry_bases({"npm", "ci"}, {}, "@:registry=https://a/\n@a/b:registry=https://b/\n");
  CHECK(odd.npm_scopes.empty());
}

TEST_CASE("registry client: a host the profile does not allow is never asked") {
  auto allowed = safeinstall::sandbox::EgressPolicy::parse({"registry.test:80"});
  REQUIRE(allowed);
  auto refused = http_get("https://registry.npmjs.org/lodash", *allowed, {});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message().find("not among the hosts the profile allows") !=
        std::string::npos);
  CHECK_FALSE(parse_url("ftp://x/"));
  CHECK_FALSE(parse_url("https://user:pw@x/"));
  auto url = parse_url("http://[2001:db8::1]:8080/a?b");
  REQUIRE(url);
  CHECK(url->host == "2001:db8::1");
  CHECK(url->port == 8080);
  CHECK(url->target == "/a?b");
}

TEST_CASE("npm lockfile: direct dependencies, install scripts and what changed") {
  const char* before = R"({"lockfileVersion":3,"packages":{"":{"dependencies":{"a":"^1.0.0"}},
    "node_modules/a":{"version":"1.0.0"},"node_modules/gone":{"version":"1.0.0"}}})";
  const char* after = R"({"lockfileVersion":3,"packages":{
    "":{"dependencies":{"a":"^1.0.0","b":"^2.0.0"},"devDependencies":{"@s/c":"1"}},
    "node_modules/a":{"version":"1.1.0"},
    "node_modules/b":{"version":"2.0.0","hasInstallScript":true},
    "node_modules/b/node_modules/d":{"version":"3.0.0"},
    "node_modules/@s/c":{"version":"1.0.0"},
    "node_modules/x":{"version":"1.0.0","name":"real-x"},
    "packages/ws":{"version":"0.0.1"},"node_modules/ws":{"link":true,"resolved":"packages/ws"}}})";
  auto old_lock = parse_npm_lock(before, "package-lock.json", "");
  auto new_lock = parse_npm_lock(after, "package-lock.json", "");
  REQUIRE(old_lock);
  REQUIRE(new_lock);
  auto changes = diff_packages(PackageSet{*old_lock, {}}, PackageSet{*new_lock, {}});
  auto added = [&](const std::string& name) -> const PackageVersion* {
    for (const auto& p : changes.added)
      if (p.name == name) return &p;
    return nullptr;
  };
  REQUIRE(changes.added.size() == 4);
  REQUIRE(added("b") != nullptr);
  CHECK(added("b")->direct);
  CHECK(added("b")->install_script);
  REQUIRE(added("d") != nullptr);
  CHECK_FALSE(added("d")->direct);
  CHECK_FALSE(added("d")->install_script);
  REQUIRE(added("@s/c") != nullptr);
  CHECK(added("@s/c")->direct);
  CHECK(added("real-x") != nullptr);
  REQUIRE(changes.changed.size() == 1);
  CHECK(changes.changed[0].from.version == "1.0.0");
  CHECK(changes.changed[0].to.version == "1.1.0");
  REQUIRE(changes.removed.size() == 1);
  CHECK(changes.removed[0].name == "gone");
}

TEST_CASE("policy schema: keys, places and errors with file:line:col") {
  auto layer = parse_profile_layer(
      "[policy]\nmin_release_age = \"3d\"\nrelease_age_required = true\n"
      "allow_packages = [\"lodash\"]\nallow_maintainers = [\"alice\"]\n[policy.pypi]\n"
      "min_release_age = \"1w\"\n[scripts]\nallow = [\"esbuild\"]\n",
      "/p/.safeinstall.toml", LayerKind::Project);
  REQUIRE(layer);
  CHECK(layer->policy.release_age.min_release_age->value == "3d");
  CHECK(layer->policy.release_age.min_release_age->origin.text() == "/p/.safeinstall.toml:2:19");
  CHECK(layer->policy.ecosystems.at(0).first == "pypi");
  CHECK(layer->scripts->value == "allow:esbuild");
  CHECK(layer->policy.release_age_required->value);

  auto message = schema_error("[policy]\nmin_release_age = \"3 days\"\n");
  CHECK(message.starts_with("/p/.safeinstall.toml:2:19: `3 days` is not an age"));
  message = schema_error("[policy]\nmin_age = \"3d\"\n");
  CHECK(message.starts_with("/p/.safeinstall.toml:2:1: unknown key `min_age` in [policy]"));
  CHECK(message.find("min_release_age, min_release_age_exclude") != std::string::npos);
  message = schema_error("[policy.maven]\nmin_release_age = \"3d\"\n");
  CHECK(message.find("unknown ecosystem `maven`") != std::string::npos);
  CHECK(message.find("npm, pypi, crates, rubygems") != std::string::npos);
  message = schema_error("[policy.npm]\nallow_packages = []\n");
  CHECK(message.starts_with(
      "/p/.safeinstall.toml:2:1: unknown key `allow_packages` in [policy.npm]"));
  message = schema_error("[policy]\nallow_packages = [\"a b\"]\n");
  CHECK(message.starts_with("/p/.safeinstall.toml:2:19: package pattern `a b`"));
  message = schema_error("[policy]\nrelease_age_required = \"yes\"\n");
  CHECK(message.find("must be true or false") != std::string::npos);
  message = schema_error("[scripts]\nallow = [\"es*\"]\n");
  CHECK(message.starts_with("/p/.safeinstall.toml:2:10: [scripts] allow names packages exactly"));
  message = schema_error("[scripts]\nallowed = []\n");
  CHECK(message.find("unknown key `allowed` in [scripts]") != std::string::npos);
}

TEST_CASE("policy schema: layers merge lists and replace single values, per ecosystem too") {
  auto user = parse_profile_layer(
      "[policy]\nmin_release_age = \"3d\"\nallow_packages = [\"a\"]\n[policy.npm]\n"
      "min_release_age_exclude = [\"x\"]\n",
      "/u/npm.toml", LayerKind::Profile);
  auto project = parse_profile_layer(
      "[policy]\nmin_release_age = \"1d\"\nallow_packages = [\"b\"]\n[policy.npm]\n"
      "min_release_age_exclude = [\"y\"]\n",
      "/p/.safeinstall.toml", LayerKind::Project);
  REQUIRE(user);
  REQUIRE(project);
  ProfileLayer merged;
  merge_layer(merged, *user, true);
  merge_layer(merged, *project, false);
  CHECK(merged.policy.release_age.min_release_age->value == "1d");
  CHECK(merged.policy.allow_packages.size() == 2);
  REQUIRE(merged.policy.ecosystems.size() == 1);
  CHECK(merged.policy.ecosystems[0].second.exclude.size() == 2);
}

TEST_CASE("policy schema: profiles show prints each policy value with its place") {
  auto layer = parse_profile_layer(
      "[policy]\nmin_release_age = \"3d\"\ntyposquats = false\n[policy.npm]\n"
      "min_release_age = \"1d\"\n[scripts]\nallow = [\"esbuild\"]\n",
      "/p/.safeinstall.toml", LayerKind::Project);
  REQUIRE(layer);
  ResolvedProfile profile;
  profile.name = "npm";
  merge_layer(profile.merged, *layer, false);
  auto shown = render_profile(profile);
  INFO(shown);
  CHECK(shown.find("[policy]\nmin_release_age = \"3d\"  # /p/.safeinstall.toml:2:19\n") !=
        std::string::npos);
  CHECK(shown.find("typosquats = false  # /p/.safeinstall.toml:3:14") != std::string::npos);
  CHECK(shown.find("[policy.npm]\nmin_release_age = \"1d\"  # /p/.safeinstall.toml:5:19") !=
        std::string::npos);
  CHECK(shown.find("[scripts]\nallow = [\n  \"esbuild\",  # /p/.safeinstall.toml:7:10") !=
        std::string::npos);
  CHECK(shown.find("scripts = \"allow:esbuild\"  # /p/.safeinstall.toml:6:1") != std::string::npos);
}

TEST_CASE("package policy: a moved version is judged by its age, with one lookup per package") {
  auto s = settings_from("[policy]\nmin_release_age = \"2d\"\n");
  PackageChanges changes;
  changes.changed = {{npm("left-pad", "1.3.0"), npm("left-pad", "1.3.1")}};
  changes.added = {npm("dep", "1.0.0", false)};
  std::vector<std::string> asked;
  PackagePolicyInput input;
  input.changes = &changes;
  input.now = at("2025-06-10T12:00:00Z");
  input.metadata = [&](const PackageVersion& p) -> Result<VersionMetadata> {
    asked.push_back(package_id(p));
    return published(p.name == "left-pad" ? "2025-06-10T11:30:00Z" : "2025-01-01T00:00:00Z");
  };
  auto findings = package_policy_findings(input, s);
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].detail == "left-pad@1.3.1 was published 30 min ago; min_release_age is 2d");
  CHECK(asked == std::vector<std::string>{"dep@1.0.0", "left-pad@1.3.1"});
}
