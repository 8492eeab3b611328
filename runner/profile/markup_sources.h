#pragma once
// Registry URLs in XML and YAML configuration, read with real parsers (pugixml, yaml-cpp):
// a commented-out <url>, a CDATA section or an entity, a key inside a block scalar, are what
// the document says they are, not what a pattern over its text would find. A document that
// does not parse yields no URL and says where it broke.

#include <string>
#include <string_view>
#include <vector>

namespace safeinstall::runner {

struct MarkupUrls {
  std::vector<std::string> urls;
  std::string error;  // empty, or "line N: what is wrong" when the document did not parse
};

// Maven's pom.xml and settings.xml: each <url> under <mirrors>, <repositories> and
// <pluginRepositories> (never the project's own <url>, a homepage).
MarkupUrls maven_repository_urls(std::string_view xml);

// NuGet.Config: the value of each <add> under <packageSources>.
MarkupUrls nuget_source_urls(std::string_view xml);

// .yarnrc.yml: npmRegistryServer at the top and under each npmScopes entry.
MarkupUrls yarnrc_registry_urls(std::string_view yaml);

// .bundle/config: the values of BUNDLE_MIRROR__* keys.
MarkupUrls bundler_mirror_urls(std::string_view yaml);

// ~/.gemrc: the items of :sources: (or sources:).
MarkupUrls gemrc_source_urls(std::string_view yaml);

}  // namespace safeinstall::runner
