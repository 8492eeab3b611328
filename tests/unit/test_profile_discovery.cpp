// Registry discovery from each configuration kind, and the user's configuration carried into
// the throwaway home without its secrets.
#include <catch2/catch.hpp>
#include <map>

#include "runner/profile/carryover/sanitize_config.h"
#include "runner/profile/registry_discovery.h"
#include "runner/profile/tool_config_carryover.h"
#include "tests/unit/profile_test_support.h"

using namespace safeinstall::runner;
using safeinstall::test::ScratchDir;

namespace {

struct Fixture {
  ScratchDir root;
  std::vector<std::string> env;
  std::vector<std::string> argv{"tool"};
  std::filesystem::path project() const { return root.path() / "project"; }
  std::filesystem::path home() const { return root.path() / "home"; }

  // pattern → source, for every host the readers found.
  std::map<std::string, std::string> discover(std::vector<std::string> readers,
                                              std::vector<std::string>* notes = nullptr) {
    std::filesystem::create_directories(project());
    std::filesystem::create_directories(home());
    DiscoveryInput in{readers, argv, &env, project(), home(), root.path() / "etc"};
    auto found = discover_registries(in);
    if (notes != nullptr) *notes = found.notes;
    std::map<std::string, std::string> out;
    for (const auto& h : found.hosts) out[h.pattern] = h.source;
    return out;
  }
};

using Found = std::map<std::string, std::string>;

}  // namespace

TEST_CASE("registry discovery: URLs become host patterns without credentials") {
  CHECK(host_pattern_of_url("https://npm.example.com/") == "npm.example.com");
  CHECK(host_pattern_of_url("https://u:p@npm.example.com:8443/x") == "npm.example.com:8443");
  CHECK(host_pattern_of_url("http://mirror.local/simple") == "mirror.local:80");
  CHECK(host_pattern_of_url("https://[2001:db8::1]:444/") == "[2001:db8::1]:444");
  CHECK(host_pattern_of_url("https://x.org:443/") == "x.org");
  CHECK(host_pattern_of_url("git@github.com:a/b") == "");
  CHECK(host_pattern_of_url("file:///srv/pypi") == "");
}

TEST_CASE("registry discovery: .npmrc registry= and @scope:registry=, project and user") {
  Fixture f;
  f.root.write("project/.npmrc",
               "registry=https://npm.corp.example/\n@acme:registry=https://acme.example/npm/\n"
               "//npm.corp.example/:_authToken=secret\n");
  f.root.write("home/.npmrc", "registry = https://user:pw@mirror.example:8443/\n");
  f.env = {"npm_config_registry=https://env.example/"};
  CHECK(f.discover({"npmrc"}) == Found{{"npm.corp.example", ".npmrc"},
                                       {"acme.example", ".npmrc"},
                                       {"mirror.example:8443", "~/.npmrc"},
                                       {"env.example", "npm_config_registry"}});
  CHECK(f.discover({"pip"}).empty());
}

TEST_CASE("registry discovery: .yarnrc.yml npmRegistryServer and npmScopes, .yarnrc") {
  Fixture f;
  f.root.write("project/.yarnrc.yml",
               "npmRegistryServer: \"https://yarn.corp.example\"\nnpmScopes:\n  acme:\n"
               "    npmRegistryServer: https://acme.example/\n    npmAuthToken: x\n");
  f.root.write("home/.yarnrc", "registry \"https://classic.example/\"\n");
  CHECK(f.discover({"yarnrc"}) == Found{{"yarn.corp.example", ".yarnrc.yml"},
                                        {"acme.example", ".yarnrc.yml"},
                                        {"classic.example", "~/.yarnrc"}});
}

TEST_CASE("registry discovery: pip.conf, PIP_*_URL, argv and requirements files") {
  Fixture f;
  f.root.write(
      "home/.config/pip/pip.conf",
      "[global]\nindex-url = https://pypi.corp.example/simple\nextra-index-url =\n"
      "    https://extra1.example/simple\n    https://extra2.example/simple\ntimeout = 5\n");
  f.env = {"PIP_INDEX_URL=https://env.example/simple",
           "PIP_EXTRA_INDEX_URL=https://e1.example/ https://e2.example/"};
  f.root.write("project/requirements.txt",
               "--extra-index-url https://req.example/simple\n-r more/dev.txt\nrequests==2\n");
  f.root.write("project/more/dev.txt", "-i https://nested.example/simple\npytest\n");
  f.argv = {"pip",
            "install",
            "-r",
            "requirements.txt",
            "--index-url=https://argv.example/simple",
            "-ihttps://short.example/"};
  auto found = f.discover({"pip"});
  CHECK(found == Found{{"pypi.corp.example", "~/.config/pip/pip.conf"},
                       {"extra1.example", "~/.config/pip/pip.conf"},
                       {"extra2.example", "~/.config/pip/pip.conf"},
                       {"env.example", "PIP_INDEX_URL"},
                       {"e1.example", "PIP_EXTRA_INDEX_URL"},
                       {"e2.example", "PIP_EXTRA_INDEX_URL"},
                       {"req.example", "requirements.txt"},
                       {"nested.example", "more/dev.txt"},
                       {"argv.example", "the command line"},
                       {"short.example", "the command line"}});
}

TEST_CASE("registry discovery: pyproject and Pipfile sources") {
  Fixture f;
  f.root.write("project/pyproject.toml",
               "[[tool.uv.index]]\nname = \"corp\"\nurl = \"https://uv.corp.example/simple\"\n"
               "[[tool.poetry.source]]\nname = \"p\"\nurl = \"https://poetry.example/simple\"\n");
  f.root.write("project/Pipfile",
               "[[source]]\nurl = \"https://pipenv.example/simple\"\nname = \"x\"\n");
  CHECK(f.discover({"pyproject"}) == Found{{"uv.corp.example", "pyproject.toml"},
                                           {"poetry.example", "pyproject.toml"},
                                           {"pipenv.example", "Pipfile"}});
}

TEST_CASE("registry discovery: bundler config, Gemfile source and .gemrc") {
  Fixture f;
  f.root.write("project/Gemfile", "source \"https://gems.corp.example\"\ngem 'rake'\n");
  f.root.write("project/.bundle/config",
               "---\nBUNDLE_MIRROR__HTTPS://RUBYGEMS__ORG/: \"https://mirror.gems.example\"\n"
               "BUNDLE_GEMS__CORP__EXAMPLE: \"user:token\"\n");
  f.root.write("home/.gemrc", ":sources:\n- https://gemrc.example/\n");
  CHECK(f.discover({"bundler"}) == Found{{"gems.corp.example", "Gemfile"},
                                         {"mirror.gems.example", ".bundle/config"},
                                         {"gemrc.example", "~/.gemrc"}});
}

TEST_CASE("registry discovery: cargo registries and source replacement") {
  Fixture f;
  f.root.write("project/.cargo/config.toml",
               "[registries.corp]\nindex = \"sparse+https://cargo.corp.example/index/\"\n"
               "[source.crates-io]\nreplace-with = \"mirror\"\n"
               "[source.mirror]\nregistry = \"https://mirror.cargo.example/git/index\"\n");
  CHECK(f.discover({"cargo"}) == Found{{"cargo.corp.example", ".cargo/config.toml"},
                                       {"mirror.cargo.example", ".cargo/config.toml"}});
}

TEST_CASE("registry discovery: GOPROXY and GOPRIVATE") {
  Fixture f;
  f.env = {"GOPROXY=https://goproxy.corp.example|https://proxy2.example,direct",
           "GOPRIVATE=*.internal.example,git.corp.example/team"};
  CHECK(f.discover({"go"}) == Found{{"goproxy.corp.example", "GOPROXY"},
                                    {"proxy2.example", "GOPROXY"},
                                    {"*.internal.example", "GOPRIVATE"},
                                    {"git.corp.example", "GOPRIVATE"}});
}

TEST_CASE("registry discovery: NuGet.Config, composer.json, settings.xml, gradle") {
  Fixture f;
  f.root.write("project/NuGet.Config",
               "<configuration><packageSources><add key=\"corp\" "
               "value=\"https://nuget.corp.example/v3/index.json\" />"
               "</packageSources></configuration>\n");
  f.root.write(
      "project/composer.json",
      R"({"repositories": [{"type": "composer", "url": "https://packagist.corp.example"}]})");
  f.root.write("home/.m2/settings.xml",
               "<settings><mirrors><mirror><id>m</id><url>https://maven.corp.example/repo</url>"
               "</mirror></mirrors></settings>\n");
  f.root.write(
      "project/pom.xml",
      "<project><url>https://homepage.example</url><repositories><repository>"
      "<url>https://repo.corp.example/maven</url></repository></repositories></project>\n");
  f.root.write(
      "project/settings.gradle.kts",
      "dependencyResolutionManagement { repositories { maven(\"https://gradle.corp.example/m2\")\n"
      "maven { url = uri(\"https://second.example/m2\") } } }\n");
  CHECK(f.discover({"nuget"}) == Found{{"nuget.corp.example", "NuGet.Config"}});
  CHECK(f.discover({"composer"}) == Found{{"packagist.corp.example", "composer.json"}});
  CHECK(f.discover({"maven"}) ==
        Found{{"repo.corp.example", "pom.xml"}, {"maven.corp.example", "~/.m2/settings.xml"}});
  CHECK(f.discover({"gradle"}) == Found{{"gradle.corp.example", "settings.gradle.kts"},
                                        {"second.example", "settings.gradle.kts"}});
}

TEST_CASE("registry discovery: a project may not open the way to private addresses") {
  Fixture f;
  f.root.write("project/.npmrc", "registry=http://169.254.169.254/\n");
  f.root.write("home/.npmrc", "registry=http://10.1.2.3:4873/\n");
  std::vector<std::string> notes;
  CHECK(f.discover({"npmrc"}, &notes) == Found{{"10.1.2.3:4873", "~/.npmrc"}});
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].find("169.254.169.254:80") != std::string::npos);
}

TEST_CASE("carry-over: secrets leave every configuration kind, settings stay") {
  auto npmrc = sanitize_config(
      "registry=https://npm.corp.example/\n//npm.corp.example/:_authToken=npm_SECRET1\n"
      "_auth=c2VjcmV0\n//npm.corp.example/:_password=SECRET2\n//npm.corp.example/:username=me\n"
      "strict-ssl=false\ncafile=~/certs/corp.pem\nproxy=http://me:SECRET3@proxy.corp:3128\n",
      ConfigDialect::Npmrc);
  INFO(npmrc.text);
  CHECK(npmrc.text.find("SECRET") == std::string::npos);
  CHECK(npmrc.text.find("c2VjcmV0") == std::string::npos);
  CHECK(npmrc.text.find("registry=https://npm.corp.example/") != std::string::npos);
  CHECK(npmrc.text.find("strict-ssl=false") != std::string::npos);
  CHECK(npmrc.text.find("username") == std::string::npos);  // not on the allow-list
  CHECK(npmrc.text.find("proxy=http://proxy.corp:3128") != std::string::npos);
  CHECK(npmrc.ca_files == std::vector<std::string>{"~/certs/corp.pem"});
  CHECK(npmrc.dropped.size() == 4);

  auto yarn = sanitize_config(
      "npmRegistryServer: \"https://y.example\"\nnpmAlwaysAuth: true\nnpmAuthToken: SECRET\n"
      "npmScopes:\n  acme:\n    npmAuthIdent: \"u:SECRET\"\n    npmRegistryServer: "
      "https://a.example\n",
      ConfigDialect::YarnBerry);
  CHECK(yarn.text.find("SECRET") == std::string::npos);
  CHECK(yarn.text.find("npmAlwaysAuth: true") != std::string::npos);
  CHECK(yarn.text.find("npmRegistryServer: https://a.example") != std::string::npos);

  auto pip = sanitize_config(
      "[global]\nindex-url = https://me:SECRET@pypi.corp.example/simple\ncert = /etc/corp-ca.pem\n"
      "[install]\npassword = SECRET\n",
      ConfigDialect::Pip);
  CHECK(pip.text.find("SECRET") == std::string::npos);
  CHECK(pip.text.find("index-url = https://pypi.corp.example/simple") != std::string::npos);
  CHECK(pip.ca_files == std::vector<std::string>{"/etc/corp-ca.pem"});

  auto gemrc = sanitize_config(
      ":sources:\n- https://gems.example/\n:rubygems_api_key: SECRET\n"
      ":ssl_ca_cert: /etc/ca.pem\n",
      ConfigDialect::Gemrc);
  CHECK(gemrc.text.find("SECRET") == std::string::npos);
  CHECK(gemrc.text.find("- https://gems.example/") != std::string::npos);
  CHECK(gemrc.ca_files == std::vector<std::string>{"/etc/ca.pem"});

  auto bundler = sanitize_config(
      "---\nBUNDLE_PATH: \"vendor/bundle\"\nBUNDLE_GEMS__CORP__EXAMPLE: \"me:SECRET\"\n"
      "BUNDLE_MIRROR__HTTPS://RUBYGEMS__ORG/: \"https://mirror.example\"\n",
      ConfigDialect::Bundler);
  CHECK(bundler.text.find("SECRET") == std::string::npos);
  CHECK(bundler.text.find("BUNDLE_PATH") != std::string::npos);
  CHECK(bundler.text.find("BUNDLE_MIRROR__HTTPS://RUBYGEMS__ORG/") != std::string::npos);

  auto cargo = sanitize_config(
      "[registries.corp]\nindex = \"sparse+https://c.example/\"\ntoken = \"SECRET\"\n"
      "[registry]\ntoken = \"SECRET\"\n[http]\ncainfo = \"/etc/ca.pem\"\n",
      ConfigDialect::Cargo);
  CHECK(cargo.text.find("SECRET") == std::string::npos);
  CHECK(cargo.text.find("index = 'sparse+https://c.example/'") != std::string::npos);
  CHECK(cargo.text.find("[http]") != std::string::npos);
  CHECK(cargo.ca_files == std::vector<std::string>{"/etc/ca.pem"});
}

TEST_CASE("carry-over: read-only copies in the sandbox home, credentials only on request") {
  ScratchDir root;
  auto home = root.path() / "home";
  root.write("home/.npmrc",
             "registry=https://r.example/\n//r.example/:_authToken=SECRET\ncafile=~/ca/corp.pem\n");
  root.write("home/ca/corp.pem", "-----BEGIN CERTIFICATE-----\n");
  root.write("home/.cargo/config.toml", "[registry]\ntoken = \"SECRET\"\n");
  auto carried = carry_over_tool_config(home, "/home/me", {});
  std::map<std::string, safeinstall::sandbox::MountSpec> by_target;
  for (const auto& m : carried.mounts) by_target[m.target] = m;
  REQUIRE(by_target.contains("/home/me/.npmrc"));
  CHECK(by_target["/home/me/.npmrc"].kind == safeinstall::sandbox::MountKind::FileContent);
  CHECK(by_target["/home/me/.npmrc"].content.find("SECRET") == std::string::npos);
  CHECK(by_target["/home/me/.npmrc"].content.find("registry=https://r.example/") !=
        std::string::npos);
  REQUIRE(by_target.contains("/home/me/.cargo/config.toml"));
  CHECK(by_target["/home/me/.cargo/config.toml"].content.find("SECRET") == std::string::npos);
  REQUIRE(by_target.contains("/home/me/ca/corp.pem"));
  CHECK(by_target["/home/me/ca/corp.pem"].kind == safeinstall::sandbox::MountKind::BindReadOnly);
  CHECK(carried.notes.size() == 2);

  auto with_credentials = carry_over_tool_config(home, "/home/me", {home / ".npmrc"});
  auto npmrc = std::ranges::find_if(with_credentials.mounts,
                                    [](const auto& m) { return m.target == "/home/me/.npmrc"; });
  REQUIRE(npmrc != with_credentials.mounts.end());
  CHECK(npmrc->kind == safeinstall::sandbox::MountKind::BindReadOnly);
  CHECK(npmrc->source == (home / ".npmrc").string());
}
