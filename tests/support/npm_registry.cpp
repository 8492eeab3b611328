#include "tests/support/npm_registry.h"

#include <charconv>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "tests/support/registry_files.h"
#include "tests/support/temp_dir.h"

namespace safeinstall::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace registry_files;

// "1.10.0-beta" -> {1, 10, 0} and whether it is a pre-release, for picking dist-tags.latest.
struct VersionKey {
  std::vector<unsigned long> numbers;
  bool release = true;
  auto operator<=>(const VersionKey&) const = default;
};

VersionKey version_key(std::string_view version) {
  VersionKey key;
  std::string_view core = version.substr(0, version.find_first_of("-+"));
  key.release = core.size() == version.size() || version[core.size()] == '+';
  while (!core.empty()) {
    unsigned long number = 0;
    std::from_chars(core.data(), core.data() + core.size(), number);
    key.numbers.push_back(number);
    std::size_t dot = core.find('.');
    core = dot == std::string_view::npos ? std::string_view() : core.substr(dot + 1);
  }
  return key;
}

std::string basename_of(const std::string& name) {
  return name.starts_with('@') ? name.substr(name.find('/') + 1) : name;
}

void check(const NpmPackage& package) {
  auto fail = [&package](const std::string& why) {
    throw std::runtime_error("npm registry: package '" + package.name + "@" + package.version +
                             "': " + why);
  };
  if (package.name.empty() || package.version.empty()) fail("name and version are required");
  if (package.name.starts_with('@') && package.name.find('/') == std::string::npos)
    fail("a scoped name is @scope/name");
  if (package.files.contains("package.json"))
    fail("package.json is generated from the fields; do not give it in files");
  for (const auto& [command, path] : package.bin) {
    if (!package.files.contains(path)) fail("bin '" + command + "' names a missing file " + path);
  }
}

json manifest_of(const NpmPackage& package) {
  json manifest = {{"name", package.name}, {"version", package.version}};
  if (!package.dependencies.empty()) manifest["dependencies"] = package.dependencies;
  if (!package.scripts.empty()) manifest["scripts"] = package.scripts;
  if (!package.bin.empty()) manifest["bin"] = package.bin;
  return manifest;
}

// package/package.json and package/<files> packed as npm pack would; returns the tarball.
std::string pack(const NpmPackage& package, const json& manifest, const fs::path& tarball) {
  TempDir staging("si-npm-pack");
  fs::path dir = fs::path(staging.path()) / "package";
  write_file(dir / "package.json", manifest.dump(2) + "\n");
  for (const auto& [path, content] : package.files) {
    bool executable = false;
    for (const auto& [command, bin_path] : package.bin) executable |= bin_path == path;
    write_file(dir / path, content, executable);
  }
  make_tar_gz(staging.path(), {"package"}, tarball,
              "npm registry: packing " + package.name + "@" + package.version);
  return read_file(tarball);
}

bool has_install_script(const NpmPackage& package) {
  for (const char* hook : {"preinstall", "install", "postinstall"}) {
    if (package.scripts.contains(hook)) return true;
  }
  return false;
}

void add_version(const fs::path& root, const std::string& base_url, const NpmPackage& package) {
  check(package);
  const std::string file = basename_of(package.name) + "-" + package.version + ".tgz";
  const std::string relative = package.name + "/-/" + file;
  json manifest = manifest_of(package);
  std::string tarball = pack(package, manifest, root / relative);

  manifest["_id"] = package.name + "@" + package.version;
  if (has_install_script(package)) manifest["hasInstallScript"] = true;
  if (!package.maintainers.empty()) {
    json people = json::array();
    for (const auto& name : package.maintainers) people.push_back({{"name", name}});
    manifest["maintainers"] = people;
    manifest["_npmUser"] = {{"name", package.maintainers.front()}};
  }
  manifest["dist"] = {{"tarball", base_url + relative},
                      {"integrity", "sha512-" + digest_base64(Digest::Sha512, tarball)},
                      {"shasum", digest_hex(Digest::Sha1, tarball)}};

  fs::path packument_path = root / package.name / "index.json";
  json packument;
  if (fs::exists(packument_path)) {
    try {
      packument = json::parse(read_file(packument_path));
    } catch (const json::exception& e) {
      throw std::runtime_error("npm registry: " + packument_path.string() + ": " + e.what());
    }
  } else {
    packument = {{"name", package.name}, {"versions", json::object()}};
  }
  packument["versions"][package.version] = manifest;
  const std::string published = package.published.empty() ? kLongAgo : package.published;
  if (!packument.contains("time")) packument["time"] = {{"created", published}};
  packument["time"][package.version] = published;
  std::string modified = published;
  for (const auto& [key, when] : packument["time"].items()) {
    if (key != "created" && key != "modified")
      modified = std::max(modified, when.get<std::string>());
  }
  packument["time"]["modified"] = modified;
  std::string latest;
  for (const auto& [version, ignored] : packument["versions"].items()) {
    // The highest release, as `npm publish` tags it; a pre-release only if there is nothing else.
    auto rank = [](const std::string& v) {
      VersionKey key = version_key(v);
      return std::pair(key.release, key);
    };
    if (latest.empty() || rank(latest) < rank(version)) latest = version;
  }
  packument["dist-tags"] = {{"latest", latest}};
  write_file(packument_path, packument.dump(2) + "\n");
}

}  // namespace

std::string npm_published_ago(long seconds) {
  auto when = std::chrono::system_clock::now() - std::chrono::seconds(seconds);
  std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  ::gmtime_r(&t, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S.000Z", &utc);
  return text;
}

void write_npm_registry(const std::string& root, const std::string& base_url,
                        const std::vector<NpmPackage>& packages) {
  std::string base = base_url.ends_with('/') ? base_url : base_url + "/";
  for (const auto& package : packages) add_version(root, base, package);
}

}  // namespace safeinstall::test
