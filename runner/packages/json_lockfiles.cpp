// composer.lock (package-lock.json is read as it is parsed: npm_lockfile.cpp).
#include <string>

#include <nlohmann/json.hpp>

#include "runner/packages/lockfile.h"
#include "runner/packages/lockfile_text.h"

namespace safeinstall::runner {
namespace {

using nlohmann::json;

Result<json> parse_json(std::string_view text, const std::string& source) {
  try {
    auto parsed = json::parse(text);
    if (!parsed.is_object()) return lockfile_error(source, 1, 1, "expected a JSON object");
    return parsed;
  } catch (const json::parse_error& e) {
    auto [line, column] = line_column_at(text, e.byte > 0 ? e.byte - 1 : 0);
    return lockfile_error(source, line, column, "not valid JSON");
  } catch (const json::exception& e) {
    // A number too large for any type, and the like.
    return lockfile_error(source, 0, 0, std::string("not usable JSON: ") + e.what());
  }
}

std::string string_at(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Result<std::vector<PackageVersion>> parse_composer_lock(std::string_view text,
                                                        const std::string& source,
                                                        std::string_view composer_json) {
  auto lock = parse_json(text, source);
  if (!lock) return propagate(lock);
  auto direct = json_manifest_names(composer_json, {"require", "require-dev"});
  std::vector<PackageVersion> out;
  for (const char* section : {"packages", "packages-dev"}) {
    auto list = lock->find(section);
    if (list == lock->end() || list->is_null()) continue;
    if (!list->is_array())
      return lockfile_error(source, 0, 0, "\"" + std::string(section) + "\" must be an array");
    for (const auto& entry : *list) {
      if (!entry.is_object()) continue;
      std::string name = string_at(entry, "name");
      std::string version = string_at(entry, "version");
      if (name.empty() || version.empty()) continue;
      out.push_back({Ecosystem::packagist, name, version, direct.contains(name), source});
    }
  }
  return out;
}

}  // namespace safeinstall::runner
