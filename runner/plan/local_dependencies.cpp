#include "runner/plan/local_dependencies.h"

#include <toml++/toml.h>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sandbox/base/path_text.h"

namespace safeinstall::runner {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Manifests are small; a larger one is not read for paths.
constexpr std::uintmax_t kManifestLimit = 4 * 1024 * 1024;

std::string read_manifest(const fs::path& file) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec) || fs::file_size(file, ec) > kManifestLimit || ec) return {};
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string resolved(const fs::path& base, const std::string& path) {
  std::string normal =
      (fs::path(path).is_absolute() ? fs::path(path) : base / path).lexically_normal().string();
  if (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return normal;
}

void from_package_json(const fs::path& project, std::vector<std::string>& out) {
  std::string text = read_manifest(project / "package.json");
  if (text.empty()) return;
  json manifest = json::parse(text, nullptr, false);
  if (!manifest.is_object()) return;
  for (const char* section :
       {"dependencies", "devDependencies", "optionalDependencies", "peerDependencies"}) {
    auto deps = manifest.find(section);
    if (deps == manifest.end() || !deps->is_object()) continue;
    for (const auto& [name, spec] : deps->items()) {
      if (!spec.is_string()) continue;
      std::string value = spec.get<std::string>();
      for (std::string_view scheme : {"file:", "link:"}) {
        if (value.rfind(scheme, 0) != 0) continue;
        std::string path = value.substr(scheme.size());
        // A tarball (file:../x.tgz) is a file, shown the same way.
        if (!path.empty()) out.push_back(resolved(project, path));
      }
    }
  }
}

void from_cargo_toml(const fs::path& project, std::vector<std::string>& out) {
  std::string text = read_manifest(project / "Cargo.toml");
  if (text.empty()) return;
  toml::table manifest;
  try {
    manifest = toml::parse(text);
  } catch (const toml::parse_error&) {
    return;
  }
  auto collect = [&](const toml::table* deps) {
    if (deps == nullptr) return;
    for (const auto& [name, spec] : *deps) {
      if (const auto* table = spec.as_table())
        if (auto path = (*table)["path"].value<std::string>())
          out.push_back(resolved(project, *path));
    }
  };
  for (const char* section : {"dependencies", "dev-dependencies", "build-dependencies"})
    collect(manifest[section].as_table());
  collect(manifest["workspace"]["dependencies"].as_table());
}

void from_composer_json(const fs::path& project, std::vector<std::string>& out) {
  std::string text = read_manifest(project / "composer.json");
  if (text.empty()) return;
  json manifest = json::parse(text, nullptr, false);
  if (!manifest.is_object() || !manifest.contains("repositories")) return;
  const json& repositories = manifest["repositories"];
  if (!repositories.is_array()) return;
  for (const auto& repo : repositories) {
    if (!repo.is_object() || repo.value("type", "") != "path") continue;
    auto url = repo.find("url");
    // A glob (../packages/*) names its directory's children: the directory is shown.
    if (url == repo.end() || !url->is_string()) continue;
    std::string path = url->get<std::string>();
    if (auto star = path.find('*'); star != std::string::npos)
      path = fs::path(path.substr(0, star)).parent_path().string();
    if (!path.empty()) out.push_back(resolved(project, path));
  }
}

// `-e ../x` and `--editable ../x`: a path, not a VCS URL or a name.
void from_requirements(const fs::path& project, std::vector<std::string>& out) {
  std::istringstream lines(read_manifest(project / "requirements.txt"));
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string flag, path;
    words >> flag >> path;
    if (flag != "-e" && flag != "--editable") continue;
    if (path.rfind("./", 0) == 0 || path.rfind("../", 0) == 0 || path.rfind('/', 0) == 0)
      out.push_back(resolved(project, path));
  }
}

std::unexpected<Error> refusal(const std::string& declared, const std::string& why) {
  return plain_error("a manifest names " + declared + " as a local dependency, but " + why,
                     "only a directory beside the project is shown (read-only); move it there");
}

}  // namespace

std::vector<std::string> declared_local_dependencies(const std::string& project) {
  std::vector<std::string> out;
  fs::path root(project);
  from_package_json(root, out);
  from_cargo_toml(root, out);
  from_composer_json(root, out);
  from_requirements(root, out);
  return out;
}

Result<std::vector<std::string>> local_dependency_dirs(const std::vector<std::string>& declared,
                                                       const std::string& project,
                                                       const std::string& home,
                                                       const std::vector<std::string>& secrets) {
  std::vector<std::string> dirs;
  for (const auto& path : declared) {
    std::error_code ec;
    std::string real = fs::canonical(path, ec).string();
    if (ec) continue;  // missing: the package manager says so itself
    if (is_within(real, project)) continue;
    if (!home.empty() && is_within(home, real))
      return refusal(path, "it is the home directory or holds it");
    if (real == "/" || is_within(project, real)) return refusal(path, "it holds the project");
    for (const auto& secret : secrets)
      if (is_within(real, secret) || is_within(secret, real))
        return refusal(path, "it is or holds a hidden path (" + secret + ")");
    if (std::ranges::find(dirs, real) == dirs.end()) dirs.push_back(real);
  }
  return dirs;
}

}  // namespace safeinstall::runner
