// Tool configuration carried into the sandbox by allow-list: every leak found so far
// (commented tokens, multi-line keys, passwords with '/', continuation lines, project files)
// and the shapes around them.
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>

#include "runner/profile/carryover/config_text.h"
#include "runner/profile/carryover/sanitize_config.h"
#include "runner/profile/carryover/url_userinfo.h"
#include "runner/profile/tool_config_carryover.h"
#include "tests/unit/profile_test_support.h"

using namespace safeinstall::runner;
using safeinstall::sandbox::MountKind;
using safeinstall::test::ScratchDir;

namespace {

bool has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

bool dropped(const SanitizedConfig& c, const std::string& key) {
  return std::ranges::find(c.dropped, key) != c.dropped.end();
}

void check_none_of(const std::string& text, std::initializer_list<const char*> secrets) {
  for (const char* secret : secrets) {
    INFO(secret);
    CHECK_FALSE(has(text, secret));
  }
}

// No dropped name may carry any of the secret's text.
void check_names_clean(const SanitizedConfig& c, const std::string& secret) {
  for (const auto& key : c.dropped) {
    INFO(key);
    CHECK_FALSE(has(key, secret));
  }
}

}  // namespace

TEST_CASE("url_without_userinfo: the userinfo ends at the last '@' of the authority") {
  CHECK(url_without_userinfo("https://u:p@host/simple") == "https://host/simple");
  CHECK(url_without_userinfo("https://u:p@ss@host:8443/x") == "https://host:8443/x");
  CHECK(url_without_userinfo("https://u:p:q@host") == "https://host");
  CHECK(url_without_userinfo("https://host") == "https://host");
  CHECK(url_without_userinfo("sparse+https://tok@c.example/index/") ==
        "sparse+https://c.example/index/");
  CHECK(url_without_userinfo("http://[::1]:8080/") == "http://[::1]:8080/");
  CHECK(url_without_userinfo("file:///srv/wheels") == "file:///srv/wheels");
  // A password with '/', '?', '#' or '\' makes the host ambiguous: refused, never guessed.
  CHECK_FALSE(url_without_userinfo("https://u:p/ss@host/simple"));
  CHECK_FALSE(url_without_userinfo("https://u:12/ss@host/simple"));
  CHECK_FALSE(url_without_userinfo("https://u:p?x@host/"));
  CHECK_FALSE(url_without_userinfo("https://u:p#x@host/"));
  CHECK_FALSE(url_without_userinfo("https://u:p\\x@host/"));
  CHECK_FALSE(url_without_userinfo("https://host/simple?token=abc"));
  CHECK_FALSE(url_without_userinfo("https://host/@scope"));
  CHECK_FALSE(url_without_userinfo("https://"));
  CHECK_FALSE(url_without_userinfo("https://ho st/"));
  CHECK_FALSE(url_without_userinfo("not a url"));
  CHECK_FALSE(url_without_userinfo("1http://host/"));

  CHECK(text_without_url_userinfo("https://u:p/ss@host/simple https://a@b.example") ==
        "https://host/simple https://b.example");
  CHECK(text_without_url_userinfo("https://u:p@proxy.example,direct") ==
        "https://proxy.example,direct");
  CHECK(text_without_url_userinfo("no urls here") == "no urls here");
}

TEST_CASE(".npmrc: only allowed settings, comments and credentials gone") {
  auto c = sanitize_config(
      "# //registry.npmjs.org/:_authToken=npm_COMMENTED\n"
      "; _auth=SEMICOLON_COMMENTED\n"
      "registry=https://registry.example/\n"
      "@corp:registry=https://npm.corp.example/\n"
      "//registry.example/:_authToken=npm_TOKEN1\n"
      "_auth=QkFTRTY0\n"
      "_password=UEFTUw==\n"
      "//registry.example/:_password=PASS2\n"
      "email=me@example.com\n"
      "username=me\n"
      "//registry.example/:certfile=/home/me/client.crt\n"
      "//registry.example/:keyfile=/home/me/client.key\n"
      "init-author-name=Me Myself\n"
      "strict-ssl=false\n"
      "fetch-retries=5\n"
      "ignore-scripts=true\n"
      "proxy=http://me:PROXYPASS@proxy.corp:3128/\n"
      "unknown-setting=UNKNOWN_VALUE\n",
      ConfigDialect::Npmrc);
  INFO(c.text);
  check_none_of(c.text, {"npm_COMMENTED", "SEMICOLON_COMMENTED", "npm_TOKEN1", "QkFTRTY0", "UEFTUw",
                         "PASS2", "me@example.com", "username", "client.crt", "client.key",
                         "Myself", "PROXYPASS", "UNKNOWN_VALUE"});
  CHECK(has(c.text, "registry=https://registry.example/\n"));
  CHECK(has(c.text, "@corp:registry=https://npm.corp.example/\n"));
  CHECK(has(c.text, "strict-ssl=false\n"));
  CHECK(has(c.text, "fetch-retries=5\n"));
  CHECK(has(c.text, "ignore-scripts=true\n"));
  CHECK(has(c.text, "proxy=http://proxy.corp:3128/\n"));
  CHECK(dropped(c, "//registry.example/:_authToken"));
  CHECK(dropped(c, "_auth"));
  CHECK(dropped(c, "_password"));
  CHECK(dropped(c, "email"));
  CHECK(dropped(c, "unknown-setting"));
  check_names_clean(c, "npm_TOKEN1");
}

TEST_CASE(".npmrc: a multi-line private key goes whole, and its lines are named by no one") {
  const std::string body =
      "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n"
      "MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n"
      "Zm9v==\n";
  auto quoted = sanitize_config("key=\"-----BEGIN PRIVATE KEY-----\n" + body +
                                    "-----END PRIVATE KEY-----\"\nregistry=https://r.example/\n",
                                ConfigDialect::Npmrc);
  INFO(quoted.text);
  CHECK_FALSE(has(quoted.text, "PRIVATE"));
  CHECK_FALSE(has(quoted.text, "MIIEvQ"));
  CHECK_FALSE(has(quoted.text, "Zm9v"));
  CHECK(has(quoted.text, "registry=https://r.example/\n"));
  CHECK(dropped(quoted, "key"));

  auto bare =
      sanitize_config("cert=-----BEGIN CERTIFICATE-----\nkey=-----BEGIN PRIVATE KEY-----\n" + body +
                          "-----END PRIVATE KEY-----\nregistry=https://r.example/\n",
                      ConfigDialect::Npmrc);
  INFO(bare.text);
  CHECK_FALSE(has(bare.text, "MIIEvQ"));
  CHECK_FALSE(has(bare.text, "MzEfYy"));
  CHECK_FALSE(has(bare.text, "PRIVATE"));
  CHECK(has(bare.text, "registry=https://r.example/\n"));
  check_names_clean(bare, "MIIEvQ");
  check_names_clean(bare, "MzEfYy");

  // certfile/keyfile given inline as PEM, nerf-darted or not.
  auto inline_pem = sanitize_config(
      "//r.example/:certfile=\"-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\"\n"
      "keyfile=\"-----BEGIN RSA PRIVATE KEY-----\\nSECRETKEY\\n-----END RSA PRIVATE KEY-----\"\n"
      "ca=\"-----BEGIN CERTIFICATE-----\\nPUBLICCA\\n-----END CERTIFICATE-----\"\n"
      "ca[]=\"-----BEGIN CERTIFICATE-----\\nX\\n-----END CERTIFICATE-----\\n-----BEGIN PRIVATE "
      "KEY-----\\nSNEAKY\\n-----END PRIVATE KEY-----\"\n",
      ConfigDialect::Npmrc);
  INFO(inline_pem.text);
  CHECK_FALSE(has(inline_pem.text, "SECRETKEY"));
  CHECK_FALSE(has(inline_pem.text, "SNEAKY"));
  CHECK_FALSE(has(inline_pem.text, "certfile"));
  CHECK(has(inline_pem.text, "PUBLICCA"));  // a CA certificate is no secret
}

TEST_CASE(".npmrc: a password holding '/' never survives in part") {
  auto c = sanitize_config(
      "registry=https://user:PA/SS@npm.corp.example/\n"
      "@a:registry=https://user:PA%2FSS@npm.corp.example/\n"
      "@b:registry=https://user:P@SS@npm.corp.example/\n",
      ConfigDialect::Npmrc);
  INFO(c.text);
  CHECK_FALSE(has(c.text, "PA/SS"));
  CHECK_FALSE(has(c.text, "SS@"));
  CHECK_FALSE(has(c.text, "PA%2FSS"));
  CHECK_FALSE(has(c.text, "user"));
  CHECK(dropped(c, "registry"));
  CHECK(has(c.text, "@a:registry=https://npm.corp.example/\n"));
  CHECK(has(c.text, "@b:registry=https://npm.corp.example/\n"));
}

TEST_CASE(".npmrc: sections, CRLF, a byte order mark and very long lines") {
  auto crlf = sanitize_config(
      "\xEF\xBB\xBFregistry=https://r.example/\r\n_authToken=CRLFSECRET\r\n"
      "strict-ssl=true\r\n[section]\r\nregistry=https://other.example/\r\n",
      ConfigDialect::Npmrc);
  INFO(crlf.text);
  CHECK(crlf.text == "registry=https://r.example/\nstrict-ssl=true\n");
  CHECK(dropped(crlf, "[section]"));

  std::string long_value(kMaxConfigLineBytes + 1, 'A');
  auto long_lines =
      sanitize_config("registry=https://r.example/" + long_value + "\nfetch-retries=2\n" +
                          std::string(3 * kMaxConfigLineBytes, 'B') + "\n",
                      ConfigDialect::Npmrc);
  CHECK(long_lines.text == "fetch-retries=2\n");
  CHECK(dropped(long_lines, "registry"));
}

TEST_CASE("pip.conf: allowed keys in pip's sections, continuation lines judged whole") {
  auto c = sanitize_config(
      "[global]\n"
      "index-url = https://me:SECRET1@pypi.corp.example/simple\n"
      "extra-index-url =\n"
      "    https://a.example/simple\n"
      "\n"
      "    https://me:SECRET2@b.example/simple\n"
      "trusted-host = pypi.corp.example b.example\n"
      "timeout = 30\n"
      "retries: 4\n"
      "password =\n"
      "    CONTINUED_SECRET\n"
      "    # a comment between\n"
      "    MORE_SECRET\n"
      "client-cert = /home/me/client.pem\n"
      "Index_URL = https://me:SECRET3@shouting.example/simple\n"
      "[install]\n"
      "find-links = https://u:p/SLASHSECRET@files.example/wheels\n"
      "no-binary = :none:\n"
      "[corp]\n"
      "token = CORP_SECRET\n",
      ConfigDialect::Pip);
  INFO(c.text);
  check_none_of(c.text, {"SECRET1", "SECRET2", "SECRET3", "CONTINUED_SECRET", "MORE_SECRET",
                         "client.pem", "SLASHSECRET", "CORP_SECRET", "me:"});
  CHECK(has(c.text, "[global]\nindex-url = https://pypi.corp.example/simple\n"));
  CHECK(has(c.text,
            "extra-index-url = \n    https://a.example/simple\n    https://b.example/simple\n"));
  CHECK(has(c.text, "trusted-host = pypi.corp.example b.example\n"));
  CHECK(has(c.text, "timeout = 30\n"));
  CHECK(has(c.text, "retries = 4\n"));
  CHECK(has(c.text, "Index_URL = https://shouting.example/simple\n"));
  CHECK(has(c.text, "[install]\n"));
  CHECK(has(c.text, "no-binary = :none:\n"));
  CHECK_FALSE(has(c.text, "[corp]"));
  CHECK(dropped(c, "password"));
  CHECK(dropped(c, "client-cert"));
  CHECK(dropped(c, "find-links"));
  CHECK(dropped(c, "[corp]"));
  check_names_clean(c, "CONTINUED_SECRET");

  // A continued URL list with one bad line goes whole; a key before any section too.
  auto bad = sanitize_config(
      "index-url = https://before-section.example/\n[global]\nextra-index-url = "
      "https://ok.example/\n    https://u:p/ss@evil.example/\n",
      ConfigDialect::Pip);
  INFO(bad.text);
  CHECK(bad.text == "[global]\n");
  CHECK(dropped(bad, "extra-index-url"));
  CHECK(dropped(bad, "index-url"));
}

TEST_CASE("pip.conf: the leak of index-url = https://u:p/ss@host/simple") {
  auto c =
      sanitize_config("[global]\nindex-url = https://u:p/ss@host/simple\n", ConfigDialect::Pip);
  CHECK(c.text == "[global]\n");
  CHECK(dropped(c, "index-url"));
}

TEST_CASE(".yarnrc: yarn 1's key value lines") {
  auto c = sanitize_config(
      "registry \"https://u:YARNPASS@registry.corp.example/\"\n"
      "\"@corp:registry\" \"https://npm.corp.example/\"\n"
      "_authToken YARN_TOKEN\n"
      "email me@example.com\n"
      "network-timeout 600000\n"
      "--install.ignore-scripts true\n"
      "nested:\n  token NESTED_SECRET\n",
      ConfigDialect::YarnClassic);
  INFO(c.text);
  check_none_of(c.text, {"YARNPASS", "YARN_TOKEN", "me@example.com", "NESTED_SECRET"});
  CHECK(has(c.text, "registry \"https://registry.corp.example/\"\n"));
  CHECK(has(c.text, "\"@corp:registry\" \"https://npm.corp.example/\"\n"));
  CHECK(has(c.text, "network-timeout 600000\n"));
  CHECK(has(c.text, "--install.ignore-scripts true\n"));
}

TEST_CASE(".yarnrc.yml: scopes walked, tokens and multi-line values dropped") {
  auto c = sanitize_config(
      "# npmAuthToken: COMMENTED\n"
      "npmRegistryServer: \"https://u:BERRYPASS@y.example\"\n"
      "npmAuthToken: BERRY_TOKEN\n"
      "npmAuthIdent: |\n"
      "  BLOCK_SECRET\n"
      "yarnPath: .yarn/releases/yarn-4.1.0.cjs\n"
      "nodeLinker: node-modules  # inline comment\n"
      "npmScopes:\n"
      "  acme:\n"
      "    npmAlwaysAuth: true\n"
      "    npmAuthToken: SCOPE_TOKEN\n"
      "    npmRegistryServer: https://acme.example\n"
      "  only-secret:\n"
      "    npmAuthIdent: \"u:IDENT_SECRET\"\n"
      "npmRegistries:\n"
      "  \"//r.example\":\n"
      "    npmAuthToken: REGISTRIES_TOKEN\n"
      "flow: {npmAuthToken: FLOW_SECRET}\n"
      "packageExtensions:\n"
      "  \"debug@*\":\n"
      "    peerDependenciesMeta:\n"
      "      supports-color:\n"
      "        optional: true\n",
      ConfigDialect::YarnBerry);
  INFO(c.text);
  check_none_of(
      c.text, {"COMMENTED", "BERRYPASS", "BERRY_TOKEN", "BLOCK_SECRET", "SCOPE_TOKEN",
               "IDENT_SECRET", "REGISTRIES_TOKEN", "FLOW_SECRET", "only-secret", "inline comment"});
  CHECK(has(c.text, "npmRegistryServer: \"https://y.example\"\n"));
  CHECK(has(c.text, "yarnPath: .yarn/releases/yarn-4.1.0.cjs\n"));
  CHECK(has(c.text, "nodeLinker: node-modules\n"));
  CHECK(has(c.text,
            "npmScopes:\n  acme:\n    npmAlwaysAuth: true\n    npmRegistryServer: "
            "https://acme.example\n"));
  CHECK(has(c.text, "        optional: true\n"));
  CHECK(dropped(c, "npmAuthToken"));
  CHECK(dropped(c, "npmAuthIdent"));
  CHECK(dropped(c, "npmScopes.acme.npmAuthToken"));
  CHECK(dropped(c, "npmRegistries"));
}

TEST_CASE(".gemrc and .bundle/config") {
  auto gemrc = sanitize_config(
      "---\n:sources:\n- https://rubygems.org/\n- https://me:GEMPASS@gems.corp.example/\n"
      ":rubygems_api_key: GEM_API_KEY\n:ssl_client_cert: /home/me/client.pem\n"
      "gem: --no-document\n",
      ConfigDialect::Gemrc);
  INFO(gemrc.text);
  CHECK_FALSE(has(gemrc.text, "GEMPASS"));
  CHECK_FALSE(has(gemrc.text, "GEM_API_KEY"));
  CHECK_FALSE(has(gemrc.text, "client.pem"));
  CHECK(has(gemrc.text, ":sources:\n- https://rubygems.org/\n- https://gems.corp.example/\n"));
  CHECK(has(gemrc.text, "gem: --no-document\n"));

  auto bundler = sanitize_config(
      "---\nBUNDLE_PATH: \"vendor/bundle\"\nBUNDLE_GEMS__CORP__EXAMPLE: \"me:BUNDLE_SECRET\"\n"
      "BUNDLE_HTTPS://GEMS__CORP__EXAMPLE/: \"me:URL_KEY_SECRET\"\n"
      "BUNDLE_MIRROR__HTTPS://RUBYGEMS__ORG/: \"https://u:MIRRORPASS@mirror.example\"\n",
      ConfigDialect::Bundler);
  INFO(bundler.text);
  CHECK_FALSE(has(bundler.text, "BUNDLE_SECRET"));
  CHECK_FALSE(has(bundler.text, "URL_KEY_SECRET"));
  CHECK_FALSE(has(bundler.text, "MIRRORPASS"));
  CHECK(has(bundler.text, "BUNDLE_PATH: \"vendor/bundle\"\n"));
  CHECK(has(bundler.text, "BUNDLE_MIRROR__HTTPS://RUBYGEMS__ORG/: \"https://mirror.example\"\n"));
  CHECK(dropped(bundler, "BUNDLE_GEMS__CORP__EXAMPLE"));
}

TEST_CASE(".cargo/config.toml through TOML++: index URLs and build settings, no tokens") {
  auto c = sanitize_config(
      "# token = \"COMMENTED\"\n"
      "[registries.corp]\nindex = \"sparse+https://u:CARGOPASS@c.example/index/\"\n"
      "token = \"CARGO_TOKEN\"\ncredential-provider = \"cargo:token\"\n"
      "[registry]\ntoken = \"\"\"\nMULTI_LINE_TOKEN\n\"\"\"\ndefault = \"corp\"\n"
      "[source.crates-io]\nreplace-with = \"vendored\"\n"
      "[source.vendored]\ndirectory = \"vendor\"\n"
      "[net]\nretry = 3\n"
      "[build]\nrustflags = [\"-C\", \"target-cpu=native\"]\n"
      "[env]\nAPI_SECRET = \"ENV_SECRET\"\n"
      "[cargo-new]\nname = \"Me Myself\"\n",
      ConfigDialect::Cargo);
  INFO(c.text);
  check_none_of(c.text, {"COMMENTED", "CARGOPASS", "CARGO_TOKEN", "MULTI_LINE_TOKEN", "ENV_SECRET",
                         "Myself", "cargo:token"});
  CHECK(has(c.text, "sparse+https://c.example/index/"));
  CHECK(has(c.text, "replace-with = 'vendored'"));
  CHECK(has(c.text, "target-cpu=native"));
  CHECK(has(c.text, "retry = 3"));
  CHECK(dropped(c, "registries.corp.token"));
  CHECK(dropped(c, "registry.token"));
  CHECK(dropped(c, "env"));

  auto broken = sanitize_config("[registry\ntoken = \"BROKEN_SECRET\"\n", ConfigDialect::Cargo);
  CHECK(broken.text.empty());
  CHECK_FALSE(broken.dropped.empty());
}

TEST_CASE("go env file and composer auth.json") {
  auto go = sanitize_config(
      "GOPROXY=https://u:GOPASS@proxy.corp.example,direct\nGOPRIVATE=*.corp.example\n"
      "GOAUTH=netrc\nGOFLAGS=-mod=mod\n",
      ConfigDialect::GoEnv);
  INFO(go.text);
  CHECK(go.text ==
        "GOPROXY=https://proxy.corp.example,direct\nGOPRIVATE=*.corp.example\nGOFLAGS=-mod=mod\n");
  CHECK(dropped(go, "GOAUTH"));

  auto auth = sanitize_config("{\"http-basic\": {\"repo.example\": {\"password\": \"COMPOSER\"}}}",
                              ConfigDialect::ComposerAuth);
  CHECK(auth.text == "{}\n");
  CHECK(dropped(auth, "http-basic"));
}

TEST_CASE("the project's own configuration is covered by sanitized copies") {
  ScratchDir root;
  auto project = std::filesystem::canonical(root.path()) / "project";
  root.write("project/.npmrc",
             "registry=https://r.example/\n//r.example/:_authToken=PROJECT_TOKEN\n");
  root.write("project/.cargo/config.toml", "[registry]\ntoken = \"CARGO_TOKEN\"\n");
  root.write("project/auth.json", "{\"github-oauth\": {}}\n");  // no composer.json: not composer's
  root.write("outside/.yarnrc.yml", "npmAuthToken: OUTSIDE\n");
  std::filesystem::create_symlink("../outside/.yarnrc.yml", project / ".yarnrc.yml");
  root.write("project/config/pip.conf", "[global]\npassword = PIP_SECRET\n");
  std::filesystem::create_symlink("config/pip.conf", project / "pip.conf");

  auto covered = cover_project_configs(project, {});
  std::map<std::string, safeinstall::sandbox::MountSpec> by_target;
  for (const auto& m : covered.mounts) by_target[m.target] = m;
  REQUIRE(by_target.contains((project / ".npmrc").string()));
  const auto& npmrc = by_target[(project / ".npmrc").string()];
  CHECK(npmrc.kind == MountKind::FileContent);
  CHECK(npmrc.content == "registry=https://r.example/\n");
  CHECK(by_target.contains((project / ".cargo/config.toml").string()));
  // A symlink is covered where it leads, when that is inside the project.
  CHECK(by_target.contains((project / "config/pip.conf").string()));
  CHECK_FALSE(by_target.contains((project / "pip.conf").string()));
  CHECK_FALSE(by_target.contains((project / ".yarnrc.yml").string()));
  CHECK_FALSE(by_target.contains((project / "auth.json").string()));
  REQUIRE_FALSE(covered.withheld.empty());
  CHECK(covered.withheld.front().file == ".npmrc (in the project)");
  CHECK(covered.withheld.front().keys == std::vector<std::string>{"//r.example/:_authToken"});

  root.write("project/composer.json", "{}\n");
  auto with_composer = cover_project_configs(project, {});
  CHECK(std::ranges::any_of(with_composer.mounts, [&](const auto& m) {
    return m.target == (project / "auth.json").string() && m.content == "{}\n";
  }));

  auto opted_in = cover_project_configs(project, {project / ".npmrc"});
  auto kept = std::ranges::find_if(
      opted_in.mounts, [&](const auto& m) { return m.target == (project / ".npmrc").string(); });
  REQUIRE(kept != opted_in.mounts.end());
  CHECK(kept->kind == MountKind::BindReadOnly);
}

TEST_CASE("a cafile that holds a private key is not bound into the sandbox") {
  ScratchDir root;
  auto home = root.path() / "home";
  root.write("home/.npmrc", "cafile=~/.ssh/id_rsa\n");
  root.write("home/.ssh/id_rsa", "-----BEGIN CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\n");
  auto carried = carry_over_tool_config(home, "/home/me", {});
  for (const auto& m : carried.mounts) CHECK(m.target != "/home/me/.ssh/id_rsa");
}

TEST_CASE(".yarnrc.yml, .gemrc, .bundle/config: a file yaml-cpp refuses is not carried at all") {
  for (auto dialect : {ConfigDialect::YarnBerry, ConfigDialect::Gemrc, ConfigDialect::Bundler}) {
    auto c = sanitize_config(
        "npmRegistryServer: https://y.example\nyarnPath: [unclosed\n:sources:\n- "
        "https://g.example\n",
        dialect);
    CHECK(c.text.empty());
    CHECK_FALSE(c.dropped.empty());
  }
  // The same settings in a document that parses are kept.
  auto ok = sanitize_config("npmRegistryServer: https://y.example\n", ConfigDialect::YarnBerry);
  CHECK(has(ok.text, "npmRegistryServer: https://y.example\n"));
}
