#include "runner/policy/registry_metadata.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

namespace safeinstall::runner {
namespace {

using nlohmann::json;

Result<json> parse_json(std::string_view text, const std::string& what) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return plain_error(what + " is not JSON");
  return doc;
}

std::optional<int> number_at(std::string_view text, std::size_t at, std::size_t digits) {
  if (at + digits > text.size()) return std::nullopt;
  int value = 0;
  auto [end, ec] = std::from_chars(text.data() + at, text.data() + at + digits, value);
  if (ec != std::errc() || end != text.data() + at + digits) return std::nullopt;
  return value;
}

std::optional<TimePoint> time_of(const json& node) {
  if (!node.is_string()) return std::nullopt;
  return parse_timestamp(node.get_ref<const std::string&>());
}

void add_maintainer(std::vector<std::string>& into, const json& person) {
  if (!person.is_object()) return;
  auto name = person.find("name");
  if (name == person.end() || !name->is_string()) return;
  const auto& text = name->get_ref<const std::string&>();
  if (std::ranges::find(into, text) == into.end()) into.push_back(text);
}

std::optional<TimePoint> earliest_upload(const json& files) {
  std::optional<TimePoint> earliest;
  if (!files.is_array()) return earliest;
  for (const auto& file : files) {
    if (!file.is_object()) continue;
    auto at = file.find("upload_time_iso_8601");
    if (at == file.end()) continue;
    if (auto t = time_of(*at); t && (!earliest || *t < *earliest)) earliest = t;
  }
  return earliest;
}

}  // namespace

std::optional<TimePoint> parse_timestamp(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS, then optional .fraction, then Z, +HH:MM, -HH:MM or nothing.
  if (text.size() < 19 || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != ' ') || text[13] != ':' || text[16] != ':')
    return std::nullopt;
  auto year = number_at(text, 0, 4), month = number_at(text, 5, 2), day = number_at(text, 8, 2);
  auto hour = number_at(text, 11, 2), minute = number_at(text, 14, 2),
       second = number_at(text, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  std::chrono::year_month_day date{std::chrono::year(*year),
                                   std::chrono::month(static_cast<unsigned>(*month)),
                                   std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok() || *hour > 23 || *minute > 59 || *second > 60) return std::nullopt;
  std::size_t at = 19;
  if (at < text.size() && text[at] == '.') {
    ++at;
    while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]))) ++at;
  }
  std::chrono::seconds offset{0};
  if (at < text.size()) {
    char sign = text[at];
    if (sign == 'Z' && at + 1 == text.size()) {
    } else if ((sign == '+' || sign == '-') && text.size() == at + 6 && text[at + 3] == ':') {
      auto oh = number_at(text, at + 1, 2), om = number_at(text, at + 4, 2);
      if (!oh || !om) return std::nullopt;
      offset = std::chrono::hours(*oh) + std::chrono::minutes(*om);
      if (sign == '-') offset = -offset;
    } else {
      return std::nullopt;
    }
  }
  auto local = std::chrono::sys_days(date) + std::chrono::hours(*hour) +
               std::chrono::minutes(*minute) + std::chrono::seconds(*second);
  return std::chrono::time_point_cast<std::chrono::seconds>(local - offset);
}

Result<VersionMetadata> npm_version_metadata(std::string_view packument, std::string_view version) {
  auto doc = parse_json(packument, "the npm packument");
  if (!doc) return propagate(doc);
  if (!doc->is_object()) return plain_error("the npm packument is not a JSON object");
  const std::string key(version);
  VersionMetadata out;
  if (auto time = doc->find("time"); time != doc->end() && time->is_object()) {
    if (auto at = time->find(key); at != time->end()) out.published = time_of(*at);
  }
  auto versions = doc->find("versions");
  bool known = versions != doc->end() && versions->is_object() && versions->contains(key);
  if (!known && !out.published)
    return plain_error("the npm packument does not list version " + key);
  if (known) {
    const json& manifest = (*versions)[key];
    if (auto m = manifest.find("maintainers"); m != manifest.end() && m->is_array()) {
      for (const auto& person : *m) add_maintainer(out.maintainers, person);
    }
    if (auto user = manifest.find("_npmUser"); user != manifest.end())
      add_maintainer(out.maintainers, *user);
  }
  return out;
}

Result<VersionMetadata> pypi_version_metadata(std::string_view release, std::string_view version) {
  auto doc = parse_json(release, "the PyPI release JSON");
  if (!doc) return propagate(doc);
  if (!doc->is_object()) return plain_error("the PyPI release JSON is not an object");
  VersionMetadata out;
  if (auto urls = doc->find("urls"); urls != doc->end()) out.published = earliest_upload(*urls);
  if (!out.published) {
    if (auto releases = doc->find("releases"); releases != doc->end() && releases->is_object()) {
      if (auto files = releases->find(std::string(version)); files != releases->end())
        out.published = earliest_upload(*files);
    }
  }
  if (!out.published)
    return plain_error("the PyPI release JSON has no upload time for version " +
                       std::string(version));
  return out;
}

Result<VersionMetadata> crates_version_metadata(std::string_view document) {
  auto doc = parse_json(document, "the crates.io version JSON");
  if (!doc) return propagate(doc);
  VersionMetadata out;
  if (doc->is_object()) {
    if (auto v = doc->find("version"); v != doc->end() && v->is_object()) {
      if (auto created = v->find("created_at"); created != v->end())
        out.published = time_of(*created);
    }
  }
  if (!out.published) return plain_error("the crates.io version JSON has no version.created_at");
  return out;
}

Result<VersionMetadata> rubygems_version_metadata(std::string_view versions,
                                                  std::string_view version) {
  auto doc = parse_json(versions, "the RubyGems versions JSON");
  if (!doc) return propagate(doc);
  if (!doc->is_array()) return plain_error("the RubyGems versions JSON is not an array");
  VersionMetadata out;
  // A version may be pushed for several platforms; the first push is when it appeared.
  for (const auto& entry : *doc) {
    if (!entry.is_object()) continue;
    auto number = entry.find("number");
    if (number == entry.end() || !number->is_string() ||
        number->get_ref<const std::string&>() != version)
      continue;
    if (auto created = entry.find("created_at"); created != entry.end()) {
      if (auto t = time_of(*created); t && (!out.published || *t < *out.published))
        out.published = t;
    }
  }
  if (!out.published)
    return plain_error("the RubyGems versions JSON does not list version " + std::string(version));
  return out;
}

}  // namespace safeinstall::runner
