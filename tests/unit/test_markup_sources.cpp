// Registry URLs in XML (pom.xml, settings.xml, NuGet.Config) and YAML (.yarnrc.yml,
// .bundle/config, .gemrc) read with real parsers: comments, CDATA, entities and block
// scalars mean what the document says; a broken document yields nothing and says where.
#include <catch2/catch.hpp>

#include "runner/profile/markup_sources.h"
#include "runner/profile/registry_discovery.h"
#include "tests/unit/profile_test_support.h"

using namespace safeinstall::runner;
using Urls = std::vector<std::string>;

TEST_CASE("markup sources: a commented-out maven url is not a repository") {
  auto found = maven_repository_urls(
      "<project xmlns=\"http://maven.apache.org/POM/4.0.0\">\n"
      "  <url>https://homepage.example</url>\n"
      "  <repositories>\n"
      "    <!-- <repository><url>https://commented.example/repo</url></repository> -->\n"
      "    <repository><id>r</id><url>\n      https://repo.example/maven\n    </url></repository>\n"
      "  </repositories>\n"
      "  <pluginRepositories><pluginRepository><url>https://plugins.example/</url>"
      "</pluginRepository></pluginRepositories>\n"
      "</project>\n");
  CHECK(found.error.empty());
  CHECK(found.urls == Urls{"https://repo.example/maven", "https://plugins.example/"});
}

TEST_CASE("markup sources: CDATA and entities come out as their text") {
  auto found = maven_repository_urls(
      "<settings><mirrors>"
      "<mirror><url><![CDATA[https://cdata.example/m2?a=1&b=2]]></url></mirror>"
      "<mirror><url>https://ent.example/m2?a=1&amp;b=2</url></mirror>"
      "<mirror><url>https://&#x6e;um.example/</url></mirror>"
      "</mirrors></settings>");
  CHECK(found.error.empty());
  CHECK(found.urls == Urls{"https://cdata.example/m2?a=1&b=2", "https://ent.example/m2?a=1&b=2",
                           "https://num.example/"});
}

TEST_CASE("markup sources: malformed XML yields nothing and names the line") {
  auto found = maven_repository_urls(
      "<project>\n<repositories>\n<repository><url>https://repo.example/</url>\n"
      "</repositories>\n</project>\n");
  CHECK(found.urls.empty());
  CHECK_THAT(found.error, Catch::StartsWith("line 4: malformed XML"));
}

TEST_CASE("markup sources: NuGet package sources only, comments skipped") {
  auto found = nuget_source_urls(
      "<?xml version=\"1.0\"?><configuration><packageSources>"
      "<add key=\"corp\" value=\"https://nuget.corp.example/v3/index.json\" />"
      "<!-- <add key=\"old\" value=\"https://old.example/\" /> -->"
      "</packageSources><config><add key=\"http_proxy\" value=\"http://proxy.example\" />"
      "</config></configuration>");
  CHECK(found.urls == Urls{"https://nuget.corp.example/v3/index.json"});
}

TEST_CASE("markup sources: .yarnrc.yml keys, not text that looks like them") {
  auto found = yarnrc_registry_urls(
      "# npmRegistryServer: https://commented.example\n"
      "npmRegistryServer: 'https://yarn.example'\n"
      "packageExtensions:\n  note: |\n    npmRegistryServer: https://in-a-block.example\n"
      "npmScopes:\n  acme:\n    npmRegistryServer: https://acme.example/\n"
      "  other:\n    npmAlwaysAuth: true\n");
  CHECK(found.error.empty());
  CHECK(found.urls == Urls{"https://yarn.example", "https://acme.example/"});
  auto broken = yarnrc_registry_urls("npmScopes:\n  acme: [unclosed\n");
  CHECK(broken.urls.empty());
  CHECK_THAT(broken.error, Catch::Contains("malformed YAML"));
  CHECK_THAT(broken.error, Catch::StartsWith("line "));
}

TEST_CASE("markup sources: bundler mirrors and gemrc sources") {
  CHECK(bundler_mirror_urls("---\nBUNDLE_MIRROR__HTTPS://RUBYGEMS__ORG/: \"https://m.example\"\n"
                            "BUNDLE_JOBS: \"4\"\n# BUNDLE_MIRROR__X: https://c.example\n")
            .urls == Urls{"https://m.example"});
  CHECK(gemrc_source_urls(":sources:\n- https://gemrc.example/\n# - https://c.example/\n").urls ==
        Urls{"https://gemrc.example/"});
}

TEST_CASE("registry discovery: a commented-out pom.xml url is not allowed, a broken one noted") {
  safeinstall::test::ScratchDir root;
  root.write("project/pom.xml",
             "<project><repositories><!-- <repository><url>https://evil.example/</url>"
             "</repository> --></repositories></project>\n");
  root.write("home/.m2/settings.xml", "<settings>\n<mirrors>\n<mirror><url>https://x.example/\n");
  std::vector<std::string> readers{"maven"}, argv{"mvn"}, env;
  DiscoveryInput in{
      readers, argv, &env, root.path() / "project", root.path() / "home", root.path() / "etc"};
  auto found = discover_registries(in);
  CHECK(found.hosts.empty());
  REQUIRE(found.notes.size() == 1);
  CHECK_THAT(found.notes[0], Catch::Contains("~/.m2/settings.xml: line "));
  CHECK_THAT(found.notes[0], Catch::Contains("malformed XML"));
}
