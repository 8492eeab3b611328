// The persistent npm cache end to end: the real npm in the real sandbox against a registry
// in the tests' own fake internet, as root and as an unprivileged user. A second run is served
// from the cache; a package that tampers with the cache gets nothing merged and is recorded.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "runner/cache/cacache.h"
#include "runner/fs/digest.h"
#include "tests/integration/harness.h"
#include "tests/integration/project_checks.h"
#include "tests/integration/skip.h"
#include "tests/support/fake_internet.h"
#include "tests/support/npm_registry.h"

using namespace safeinstall::test;
using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string npm_cache(const Scenario& s) {
  return s.home() + "/.cache/safeinstall/caches/npm";
}

// Content blobs of the persistent cache, relative to it.
std::vector<std::string> blobs(const Scenario& s) {
  std::vector<std::string> found;
  std::error_code ec;
  std::string root = npm_cache(s);
  for (auto it = fs::recursive_directory_iterator(root + "/content-v2", ec);
       it != fs::recursive_directory_iterator(); ++it) {
    if (it->is_regular_file()) found.push_back(fs::relative(it->path(), root).string());
  }
  std::ranges::sort(found);
  return found;
}

// Every blob's digest matches its name.
bool blobs_intact(const Scenario& s) {
  for (const auto& blob : blobs(s)) {
    auto info = safeinstall::runner::cacache::classify(blob);
    std::string bytes = read_file(npm_cache(s) + "/" + blob);
    if (safeinstall::runner::hex_digest(info.content.algorithm, bytes) != info.content.hex)
      return false;
  }
  return true;
}

std::vector<std::string> cache_violations(const SandboxRun& run) {
  std::vector<std::string> details;
  for (const auto& v : run.report.value("violations", json::array())) {
    if (v.value("kind", "") == "cache") details.push_back(v.value("detail", ""));
  }
  return details;
}

bool any_contains(const std::vector<std::string>& texts, const std::string& a,
                  const std::string& b) {
  return std::ranges::any_of(texts, [&](const std::string& t) {
    return t.find(a) != std::string::npos && t.find(b) != std::string::npos;
  });
}

std::size_t tarball_downloads(const std::string& log) {
  std::size_t count = 0;
  for (auto pos = log.find(".tgz"); pos != std::string::npos; pos = log.find(".tgz", pos + 1))
    ++count;
  return count;
}

}  // namespace

TEST_CASE("a second npm run is served from the persistent cache", "[cache][npm]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_INSTALL_TEST(who, "npm");
  FakeInternet net(SI_SINK_PATH);
  write_npm_registry(net.registry_root(), "http://registry.test/",
                     {{.name = "cached-dep",
                       .version = "1.0.0",
                       .files = {{"index.js", "module.exports = 'dep';\n"}}},
                      {.name = "cached-app",
                       .version = "1.2.0",
                       .dependencies = {{"cached-dep", "^1.0.0"}},
                       .files = {{"index.js", "module.exports = require('cached-dep');\n"}}}});
  Scenario s(who);
  s.run_behind(net.in_world({}));
  host_write(s, "package.json",
             R"({"name":"demo","version":"1.0.0","dependencies":{"cached-app":"1.2.0"}})");

  auto first = run_npm(s, {"install"});
  REQUIRE(first.exit_code() == 0);
  REQUIRE(first.report.at("verdict") == "promoted");
  CHECK(cache_violations(first).empty());
  REQUIRE(net.wait_for_log(FakeInternet::Log::Registry, "GET /cached-dep/-/cached-dep-1.0.0.tgz"));
  // The cache is the invoker's own, private, and now holds both tarballs, intact.
  struct stat st {};
  REQUIRE(::stat(npm_cache(s).c_str(), &st) == 0);
  CHECK(st.st_uid == s.uid());
  CHECK((st.st_mode & 0777) == 0700);
  CHECK(blobs(s).size() >= 2);
  CHECK(blobs_intact(s));

  fs::remove_all(s.project() + "/node_modules");
  std::size_t before = net.log(FakeInternet::Log::Registry).size();
  // --prefer-offline: npm takes what its cache holds instead of revalidating it (plain npm ci
  // re-downloads tarballs whose stored response carries no freshness, cache or not).
  auto second = run_npm(s, {"ci", "--prefer-offline"});
  CHECK(second.exit_code() == 0);
  CHECK(second.report.at("verdict") == "promoted");
  CHECK(read_file(s.project() + "/node_modules/cached-dep/index.js") ==
        "module.exports = 'dep';\n");
  std::string later = net.log(FakeInternet::Log::Registry).substr(before);
  INFO("registry log of the second run:\n" << later);
  CHECK(tarball_downloads(later) == 0);
  CHECK(cache_violations(second).empty());
}

TEST_CASE("a package that rewrites and deletes cache entries gets nothing merged, and is recorded",
          "[cache][npm]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_INSTALL_TEST(who, "npm");
  FakeInternet net(SI_SINK_PATH);
  write_npm_registry(net.registry_root(), "http://registry.test/",
                     {{.name = "plain-dep",
                       .version = "1.0.0",
                       .files = {{"index.js", "module.exports = 1;\n"}}}});
  Scenario s(who);
  s.run_behind(net.in_world({}));
  host_write(s, "package.json",
             R"({"name":"demo","version":"1.0.0","dependencies":{"plain-dep":"1.0.0"}})");
  auto warm = run_npm(s, {"install"});
  REQUIRE(warm.exit_code() == 0);
  auto existing = blobs(s);
  REQUIRE(existing.size() >= 2);

  // The hook overwrites one blob of the warm cache and deletes another.
  std::string hook =
      "const fs = require('fs'), path = require('path'), os = require('os');\n"
      "const cache = path.join(os.homedir(), '.npm', '_cacache');\n"
      "fs.writeFileSync(path.join(cache, '" +
      existing[0] +
      "'), 'poison');\n"
      "fs.unlinkSync(path.join(cache, '" +
      existing[1] +
      "'));\n"
      "console.log('hook: cache poisoned');\n";
  write_npm_registry(net.registry_root(), "http://registry.test/",
                     {{.name = "poisoner",
                       .version = "1.0.0",
                       .scripts = {{"postinstall", "node hook.js"}},
                       .files = {{"index.js", "module.exports = 2;\n"}, {"hook.js", hook}}}});
  host_write(
      s, "package.json",
      R"({"name":"demo","version":"1.0.0","dependencies":{"plain-dep":"1.0.0","poisoner":"1.0.0"}})");

  auto run = run_npm(s, {"install", "--foreground-scripts"}, {"--scripts", "all"});
  CHECK((run.result.out + run.result.err).find("hook: cache poisoned") != std::string::npos);
  REQUIRE(run.report.is_object());
  // The project's changes alone would be promoted; tampering with the cache holds the run.
  CHECK(run.report.at("verdict") == "held");
  CHECK(run.exit_code() == 122);
  CHECK_FALSE(fs::exists(fs::path(s.project()) / "node_modules" / "poisoner"));
  auto violations = cache_violations(run);
  CHECK(any_contains(violations, existing[0], "rewritten"));
  CHECK(any_contains(violations, existing[1], "deleted"));
  CHECK(any_contains(violations, "nothing it wrote to the cache was kept", ""));
  // The cache is as it was: both entries back intact, and poisoner's tarball not merged.
  CHECK(blobs(s) == existing);
  CHECK(blobs_intact(s));

  // The tampering waits in the run dir for inspection until the run is discarded.
  std::string id = run.report.at("run_id").get<std::string>();
  std::string staged_cache = s.home() + "/.local/state/safeinstall/runs/" + id + "/caches/npm";
  CHECK(fs::exists(staged_cache + "/upper"));
  CHECK(subcommand(s, {"discard", id}).exit_code == 0);
  CHECK_FALSE(fs::exists(staged_cache));
}

TEST_CASE("a held npm install adds to the cache when promoted later, and nothing when discarded",
          "[cache][npm]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_INSTALL_TEST(who, "npm");
  FakeInternet net(SI_SINK_PATH);
  // Its install script writes into the project, outside what npm's profile expects: held.
  write_npm_registry(
      net.registry_root(), "http://registry.test/",
      {{.name = "held-dep", .version = "1.0.0", .files = {{"index.js", "module.exports = 1;\n"}}},
       {.name = "held-app",
        .version = "2.0.0",
        .dependencies = {{"held-dep", "^1.0.0"}},
        .scripts = {{"postinstall",
                     "node -e \"require('fs').writeFileSync(process.env.INIT_CWD + "
                     "'/generated.txt', 'x')\""}},
        .files = {{"index.js", "module.exports = require('held-dep');\n"}}}});
  Scenario s(who);
  s.run_behind(net.in_world({}));
  host_write(s, "package.json",
             R"({"name":"demo","version":"1.0.0","dependencies":{"held-app":"2.0.0"}})");

  SECTION("promoted: the cache gains the run's tarballs, verified, and serves the next install") {
    auto held = run_npm(s, {"install"});
    REQUIRE(held.exit_code() == kExitHeld);
    REQUIRE(held.report.at("verdict") == "held");
    CHECK(blobs(s).empty());  // nothing merged while held
    std::string id = held.report.at("run_id");
    std::string staged_cache = s.home() + "/.local/state/safeinstall/runs/" + id + "/caches/npm";
    CHECK(fs::exists(staged_cache + "/upper"));

    auto promoted = subcommand(s, {"promote", id});
    INFO("promote: " << promoted.err);
    REQUIRE(promoted.exit_code == 0);
    CHECK(contains(promoted.err, "the npm cache:"));
    CHECK(blobs(s).size() >= 2);
    CHECK(blobs_intact(s));
    CHECK_FALSE(fs::exists(staged_cache));

    // Served offline from the cache now: no tarball fetched again.
    fs::remove_all(s.project() + "/node_modules");
    std::size_t before = net.log(FakeInternet::Log::Registry).size();
    auto offline = run_npm(s, {"ci", "--offline"}, {"--expect", "generated.txt"});
    CHECK(offline.exit_code() == 0);
    CHECK(read_file(s.project() + "/node_modules/held-dep/index.js") == "module.exports = 1;\n");
    CHECK(tarball_downloads(net.log(FakeInternet::Log::Registry).substr(before)) == 0);
  }
  SECTION("discarded: the run's cache additions go with it") {
    auto held = run_npm(s, {"install"});
    REQUIRE(held.exit_code() == kExitHeld);
    std::string id = held.report.at("run_id");
    std::string staged_cache = s.home() + "/.local/state/safeinstall/runs/" + id + "/caches/npm";
    CHECK(fs::exists(staged_cache + "/upper"));
    REQUIRE(subcommand(s, {"discard", id}).exit_code == 0);
    CHECK_FALSE(fs::exists(staged_cache));
    CHECK(blobs(s).empty());
  }
}
