// The registry's static files and the npm registry built on them: a real npm must install
// from it, or every npm test built on it proves nothing.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/support/fake_internet.h"
#include "tests/support/npm_registry.h"
#include "tests/support/registry_files.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_skips.h"

using namespace safeinstall::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using registry_files::read_file;
using registry_files::write_file;

namespace {

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++count;
  return count;
}

// `curl -sS` in the world: body, then "<status> <content type>" on the last line.
RunResult curl_in_world(const FakeInternet& net, std::vector<std::string> args) {
  std::vector<std::string> argv{
      "curl", "-sS", "--max-time", "10", "--path-as-is", "-w", "\n%{http_code} %{content_type}"};
  argv.insert(argv.end(), args.begin(), args.end());
  RunOptions options;
  options.timeout = 20s;
  auto result = run(net.in_world(argv), options);
  UNSCOPED_INFO("curl " << args.back() << ": " << result.out << result.err);
  return result;
}

}  // namespace

TEST_CASE("the registry serves its root directory as static files", "[fake-internet][root]") {
  SKIP_UNLESS_FAKE_INTERNET();
  SKIP_UNLESS_INSTALLED("curl");
  FakeInternet net(SI_SINK_PATH);
  const fs::path root = net.registry_root();
  CHECK((fs::status(root).permissions() & fs::perms::others_exec) != fs::perms::none);
  // Written after the registry started: it reads files per request.
  write_file(root / "plain/index.json", "{\"name\":\"plain\"}\n");
  write_file(root / "@scope/name/index.json", "{\"name\":\"@scope/name\"}\n");
  write_file(root / "site/index.html", "<html>site</html>\n");
  write_file(root / "site/both/index.json", "{}\n");
  write_file(root / "site/both/index.html", "<html>not this</html>\n");
  write_file(root / "plain/-/plain-1.0.0.tgz", "TGZ");
  write_file(root / "go/mod/@v/list", "v1.0.0\n");
  const std::string base = "http://registry.test";

  CHECK(curl_in_world(net, {base + "/plain"}).out ==
        "{\"name\":\"plain\"}\n\n200 application/json");
  CHECK(curl_in_world(net, {base + "/@scope%2fname"}).out ==
        "{\"name\":\"@scope/name\"}\n\n200 application/json");
  CHECK(curl_in_world(net, {base + "/@scope%2Fname?write=true"}).out ==
        "{\"name\":\"@scope/name\"}\n\n200 application/json");
  CHECK(curl_in_world(net, {base + "/site/"}).out == "<html>site</html>\n\n200 text/html");
  CHECK(curl_in_world(net, {base + "/site/both"}).out == "{}\n\n200 application/json");
  CHECK(curl_in_world(net, {base + "/plain/-/plain-1.0.0.tgz"}).out ==
        "TGZ\n200 application/octet-stream");
  CHECK(curl_in_world(net, {base + "/go/mod/@v/list"}).out == "v1.0.0\n\n200 text/plain");

  CHECK(curl_in_world(net, {base + "/nosuch"}).out.ends_with("\n404 application/octet-stream"));
  CHECK(curl_in_world(net, {base + "/plain/-"}).out.ends_with("\n404 application/octet-stream"));
  // Nothing outside the root, however the dots are spelled.
  write_file(fs::path(root).parent_path() / (fs::path(root).filename().string() + "-secret"),
             "secret");
  for (const std::string& path : std::vector<std::string>{
           "/../" + fs::path(root).filename().string() + "-secret", "/plain/../../etc/passwd",
           "/%2e%2e/etc/passwd", "/plain/%2E%2E%2f..%2fetc%2fpasswd"}) {
    auto escaped = curl_in_world(net, {base + path});
    CHECK(escaped.out.ends_with("\n403 application/octet-stream"));
    CHECK(escaped.out.find("secret") == std::string::npos);
    CHECK(escaped.out.find("root:") == std::string::npos);
  }
  CHECK(curl_in_world(net, {base + "/bad%zz"}).out.ends_with("\n400 application/octet-stream"));
  fs::remove(fs::path(root).parent_path() / (fs::path(root).filename().string() + "-secret"));

  // HEAD: the GET's head, no body; and keep-alive across requests on one connection.
  auto head = curl_in_world(net, {"-I", base + "/plain", base + "/plain"});
  CHECK(count_of(head.out, "HTTP/1.1 200 OK\r\n") == 2);
  CHECK(count_of(head.out, "Content-Length: 17\r\n") == 2);
  CHECK(head.out.find("plain\"") == std::string::npos);
  REQUIRE(net.wait_for_log(FakeInternet::Log::Registry, "HEAD /plain in="));
  auto log = net.log(FakeInternet::Log::Registry);
  CHECK(log.find("http 198.51.100.2 80 GET /@scope%2fname in=") != std::string::npos);
  CHECK(log.find("http 198.51.100.2 80 GET /plain/-/plain-1.0.0.tgz in=") != std::string::npos);
  CHECK(count_of(log, "HEAD /plain in=") == 2);
}

TEST_CASE("npm tarballs and packuments are deterministic and carry their hashes", "[npm]") {
  TempDir first("si-npm"), second("si-npm");
  NpmPackage package{.name = "@si/pad",
                     .version = "1.2.3",
                     .dependencies = {},
                     .scripts = {},
                     .files = {{"index.js", "module.exports = 1;\n"}, {"lib/x.js", "x\n"}},
                     .bin = {}};
  write_npm_registry(first.path(), "http://registry.test", {package});
  write_npm_registry(second.path(), "http://registry.test/", {package});
  const std::string tarball = "@si/pad/-/pad-1.2.3.tgz";
  CHECK(read_file(fs::path(first.path()) / tarball) ==
        read_file(fs::path(second.path()) / tarball));
  auto packument = read_file(fs::path(first.path()) / "@si/pad/index.json");
  CHECK(packument == read_file(fs::path(second.path()) / "@si/pad/index.json"));
  auto bytes = read_file(fs::path(first.path()) / tarball);
  CHECK(packument.find("\"tarball\": \"http://registry.test/" + tarball + "\"") !=
        std::string::npos);
  CHECK(packument.find("sha512-" + registry_files::digest_base64(registry_files::Digest::Sha512,
                                                                 bytes)) != std::string::npos);
  // The real sha1sum agrees with the shasum written.
  auto sha1 = run({"sha1sum", (fs::path(first.path()) / tarball).string()});
  CHECK(packument.find("\"shasum\": \"" + sha1.out.substr(0, 40) + "\"") != std::string::npos);
  auto listing = run({"tar", "-tzvf", (fs::path(first.path()) / tarball).string()});
  CHECK(listing.out.find("package/package.json") != std::string::npos);
  CHECK(listing.out.find("package/lib/x.js") != std::string::npos);

  // A second version merges into the packument and becomes latest; a pre-release does not.
  package.version = "1.10.0";
  write_npm_registry(first.path(), "http://registry.test/", {package});
  package.version = "2.0.0-beta.1";
  write_npm_registry(first.path(), "http://registry.test/", {package});
  packument = read_file(fs::path(first.path()) / "@si/pad/index.json");
  CHECK(packument.find("\"1.2.3\": {") != std::string::npos);
  CHECK(packument.find("\"2.0.0-beta.1\": {") != std::string::npos);
  CHECK(packument.find("\"latest\": \"1.10.0\"") != std::string::npos);

  package.files["package.json"] = "{}";
  CHECK_THROWS_WITH(write_npm_registry(first.path(), "http://registry.test/", {package}),
                    Catch::Contains("@si/pad@2.0.0-beta.1") && Catch::Contains("generated"));
}

TEST_CASE("npm packuments carry each version's publish time and maintainers", "[npm]") {
  TempDir root("si-npm");
  const std::string fresh = npm_published_ago(3600);
  write_npm_registry(root.path(), "http://registry.test/",
                     {{.name = "pad", .version = "1.0.0", .files = {{"index.js", "1\n"}}},
                      {.name = "pad",
                       .version = "1.1.0",
                       .files = {{"index.js", "2\n"}},
                       .published = fresh,
                       .maintainers = {"alice", "bob"}}});
  auto packument = nlohmann::json::parse(read_file(fs::path(root.path()) / "pad/index.json"));
  CHECK(packument.at("time").at("1.0.0") == kLongAgo);
  CHECK(packument.at("time").at("1.1.0") == fresh);
  CHECK(packument.at("time").at("modified") == fresh);
  CHECK(packument.at("time").at("created") == kLongAgo);
  const auto& v = packument.at("versions").at("1.1.0");
  CHECK(v.at("maintainers").at(1).at("name") == "bob");
  CHECK(v.at("_npmUser").at("name") == "alice");
  CHECK(fresh.size() == 24);
  CHECK(fresh.ends_with(".000Z"));
}

TEST_CASE("npm installs from the fake registry, runs install scripts, and npm ci replays it",
          "[fake-internet][root][npm]") {
  SKIP_UNLESS_FAKE_INTERNET();
  SKIP_UNLESS_INSTALLED("npm");
  FakeInternet net(SI_SINK_PATH);
  const std::string registry = "http://registry.test/";
  write_npm_registry(
      net.registry_root(), registry,
      {{.name = "si-left",
        .version = "1.0.0",
        .dependencies = {},
        .scripts = {},
        .files = {{"index.js", "module.exports = 'old';\n"}},
        .bin = {}},
       {.name = "si-left",
        .version = "1.1.0",
        .dependencies = {},
        .scripts = {},
        .files = {{"index.js", "module.exports = 'left 1.1';\n"},
                  {"cli.js", "#!/usr/bin/env node\nconsole.log('cli');\n"}},
        .bin = {{"si-left", "cli.js"}}},
       {.name = "@si/hooked",
        .version = "2.0.0",
        .dependencies = {{"si-left", "^1.0.0"}},
        .scripts = {{"postinstall", "node hook.js"}},
        .files = {{"hook.js",
                   "require('fs').writeFileSync(process.env.INIT_CWD + '/hook-ran',\n"
                   "  require('si-left'));\n"}},
        .bin = {}}});

  TempDir scratch("si-npm-install");
  const fs::path project = fs::path(scratch.path()) / "project";
  fs::create_directories(project);
  auto npm = [&](std::vector<std::string> args, const std::string& cache) {
    std::vector<std::string> argv{"npm",        "--registry", registry,
                                  "--no-audit", "--no-fund",  "--no-update-notifier"};
    argv.insert(argv.end(), args.begin(), args.end());
    RunOptions options;
    options.cwd = project;
    options.timeout = 60s;
    options.env_overrides = {"HOME=" + scratch.path(), "npm_config_cache=" + cache};
    auto result = run(net.in_world(argv), options);
    UNSCOPED_INFO("npm " << args[0] << ": exit " << result.exit_code << "\n"
                         << result.out << result.err);
    return result;
  };

  auto installed = npm({"install", "@si/hooked"}, scratch.path() + "/cache-1");
  REQUIRE(installed.exit_code == 0);
  CHECK(read_file(project / "node_modules/si-left/index.js") == "module.exports = 'left 1.1';\n");
  CHECK(fs::exists(project / "node_modules/@si/hooked/hook.js"));
  CHECK(fs::exists(project / "node_modules/.bin/si-left"));
  CHECK(read_file(project / "hook-ran") == "left 1.1");
  auto lock = read_file(project / "package-lock.json");
  CHECK(lock.find("\"resolved\": \"http://registry.test/si-left/-/si-left-1.1.0.tgz\"") !=
        std::string::npos);
  CHECK(lock.find("\"resolved\": \"http://registry.test/@si/hooked/-/hooked-2.0.0.tgz\"") !=
        std::string::npos);
  CHECK(lock.find("\"hasInstallScript\": true") != std::string::npos);
  auto log = net.log(FakeInternet::Log::Registry);
  CHECK(log.find("GET /@si%2fhooked in=") != std::string::npos);
  CHECK(count_of(log, "GET /si-left/-/si-left-1.1.0.tgz in=") == 1);
  CHECK(count_of(log, "-1.0.0.tgz") == 0);

  // npm ci from the lockfile alone, with an empty cache: the same tree, fetched again.
  fs::remove_all(project / "node_modules");
  fs::remove(project / "hook-ran");
  auto ci = npm({"ci"}, scratch.path() + "/cache-2");
  REQUIRE(ci.exit_code == 0);
  CHECK(read_file(project / "node_modules/si-left/index.js") == "module.exports = 'left 1.1';\n");
  CHECK(read_file(project / "hook-ran") == "left 1.1");
  log = net.log(FakeInternet::Log::Registry);
  CHECK(count_of(log, "GET /si-left/-/si-left-1.1.0.tgz in=") == 2);
  CHECK(count_of(log, "GET /@si/hooked/-/hooked-2.0.0.tgz in=") == 2);
  CHECK(net.sink_log().empty());
}
