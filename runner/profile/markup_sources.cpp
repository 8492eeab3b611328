#include "runner/profile/markup_sources.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <optional>
#include <pugixml.hpp>

namespace safeinstall::runner {
namespace {

std::string trimmed(std::string_view text) {
  auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  auto end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

std::size_t line_at(std::string_view text, std::ptrdiff_t offset) {
  auto end = static_cast<std::size_t>(
      std::clamp<std::ptrdiff_t>(offset, 0, static_cast<std::ptrdiff_t>(text.size())));
  return 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + end, '\n'));
}

// Comments and the doctype are skipped (pugixml's defaults); CDATA and the predefined and
// numeric entities come out as text. An entity the DTD would define is left unexpanded.
bool parse_xml(std::string_view xml, pugi::xml_document& doc, MarkupUrls& out) {
  auto result = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
  if (result) return true;
  out.error = "line " + std::to_string(line_at(xml, result.offset)) +
              ": malformed XML: " + result.description();
  return false;
}

void add(MarkupUrls& out, std::string_view value) {
  std::string url = trimmed(value);
  if (!url.empty()) out.urls.push_back(std::move(url));
}

std::optional<YAML::Node> parse_yaml(std::string_view yaml, MarkupUrls& out) {
  try {
    YAML::Node doc = YAML::Load(std::string(yaml));
    return doc;
  } catch (const YAML::Exception& e) {
    out.error = "line " + std::to_string(e.mark.line + 1) + ": malformed YAML: " + e.msg;
    return std::nullopt;
  }
}

void add_scalar(MarkupUrls& out, const YAML::Node& node) {
  if (node && node.IsScalar()) add(out, node.Scalar());
}

}  // namespace

MarkupUrls maven_repository_urls(std::string_view xml) {
  MarkupUrls out;
  pugi::xml_document doc;
  if (!parse_xml(xml, doc, out)) return out;
  for (const auto& hit :
       doc.select_nodes("//mirrors//url | //repositories//url | //pluginRepositories//url"))
    add(out, hit.node().text().get());
  return out;
}

MarkupUrls nuget_source_urls(std::string_view xml) {
  MarkupUrls out;
  pugi::xml_document doc;
  if (!parse_xml(xml, doc, out)) return out;
  for (const auto& hit : doc.select_nodes("//packageSources/add[@value]"))
    add(out, hit.node().attribute("value").value());
  return out;
}

MarkupUrls yarnrc_registry_urls(std::string_view yaml) {
  MarkupUrls out;
  auto doc = parse_yaml(yaml, out);
  if (!doc || !doc->IsMap()) return out;
  const YAML::Node root = *doc;
  add_scalar(out, root["npmRegistryServer"]);
  const YAML::Node scopes = root["npmScopes"];
  if (scopes && scopes.IsMap()) {
    for (const auto& scope : scopes)
      if (scope.second.IsMap()) add_scalar(out, scope.second["npmRegistryServer"]);
  }
  return out;
}

MarkupUrls bundler_mirror_urls(std::string_view yaml) {
  MarkupUrls out;
  auto doc = parse_yaml(yaml, out);
  if (!doc || !doc->IsMap()) return out;
  for (const auto& entry : *doc) {
    if (!entry.first.IsScalar() || !entry.first.Scalar().starts_with("BUNDLE_MIRROR__")) continue;
    add_scalar(out, entry.second);
  }
  return out;
}

MarkupUrls gemrc_source_urls(std::string_view yaml) {
  MarkupUrls out;
  auto doc = parse_yaml(yaml, out);
  if (!doc || !doc->IsMap()) return out;
  const YAML::Node root = *doc;
  for (const char* key : {":sources", "sources"}) {
    const YAML::Node sources = root[key];
    if (!sources || !sources.IsSequence()) continue;
    for (const auto& item : sources) add_scalar(out, item);
  }
  return out;
}

}  // namespace safeinstall::runner
