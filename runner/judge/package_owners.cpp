#include "runner/judge/package_owners.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

#include "runner/fs/fs_tree.h"

namespace safeinstall::runner {
namespace {

constexpr std::size_t kMaxManifestBytes = 4 << 20;

std::vector<std::string> components(const std::string& path) {
  std::vector<std::string> parts;
  std::stringstream in(path);
  for (std::string part; std::getline(in, part, '/');) parts.push_back(part);
  return parts;
}

std::string join(const std::vector<std::string>& parts, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count && i < parts.size(); ++i)
    out += (out.empty() ? "" : "/") + parts[i];
  return out;
}

// "foo_bar-1.0.dist-info" → "foo_bar@1.0".
std::string dist_of(const std::string& dist_info_dir) {
  std::string stem =
      dist_info_dir.substr(0, dist_info_dir.size() - std::string(".dist-info").size());
  auto dash = stem.find('-');
  return dash == std::string::npos ? stem : stem.substr(0, dash) + "@" + stem.substr(dash + 1);
}

// "si-native-2.0.0" → "si-native@2.0.0": the version starts after the last '-' followed
// by a digit.
std::string gem_of(const std::string& name_version) {
  for (auto dash = name_version.rfind('-'); dash != std::string::npos && dash > 0;
       dash = name_version.rfind('-', dash - 1)) {
    if (dash + 1 < name_version.size() &&
        std::isdigit(static_cast<unsigned char>(name_version[dash + 1])))
      return name_version.substr(0, dash) + "@" + name_version.substr(dash + 1);
  }
  return name_version;
}

// The first CSV field of a RECORD line (quoted when it holds a comma).
std::string first_csv_field(const std::string& line) {
  if (line.empty() || line.front() != '"') return line.substr(0, line.find(','));
  std::string field;
  for (std::size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '"') {
      if (i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
        continue;
      }
      break;
    }
    field += line[i];
  }
  return field;
}

std::string gem_owner(const std::vector<std::string>& parts) {
  for (std::size_t i = 0; i + 2 < parts.size(); ++i)
    if (parts[i] == "gems" && i > 0) return gem_of(parts[i + 1]);
  return {};
}

}  // namespace

std::optional<std::string> normalized(const std::string& path) {
  std::vector<std::string> out;
  for (const auto& part : components(path)) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (out.empty()) return std::nullopt;
      out.pop_back();
      continue;
    }
    out.push_back(part);
  }
  return join(out, out.size());
}

std::string npm_package_dir(const std::string& path) {
  auto parts = components(path);
  std::size_t last = parts.size();
  for (std::size_t i = 0; i + 1 < parts.size(); ++i)
    if (parts[i] == "node_modules") last = i;
  if (last == parts.size() || parts[last + 1].empty() || parts[last + 1].front() == '.') return {};
  std::size_t count = last + 2;
  if (parts[last + 1].front() == '@') {
    if (last + 2 >= parts.size()) return {};
    count = last + 3;
  }
  return join(parts, count);
}

StagedFiles::StagedFiles(std::string upper, std::string project)
    : upper_(std::move(upper)), project_(std::move(project)) {}

std::optional<std::string> StagedFiles::read(const std::string& path, std::size_t max_bytes) const {
  for (const auto* root : {&upper_, &project_}) {
    auto content = read_small_file(*root + "/" + path, max_bytes);
    if (!content) return std::nullopt;  // unreadable, too large, a FIFO: nothing to go on
    if (*content) return std::move(**content);
  }
  return std::nullopt;
}

PackageOwners::PackageOwners(const ChangeList& changes, const StagedFiles& files,
                             const std::vector<ProcessRecord>& processes)
    : changes_(changes), files_(files) {
  std::set<std::string> ran;
  for (const auto& p : processes)
    if (!p.package.empty() && !p.script.empty()) ran.insert(p.package);
  ran_.assign(ran.begin(), ran.end());
}

std::string PackageOwners::npm_package_at(const std::string& package_dir) {
  auto text = files_.read(package_dir + "/package.json", kMaxManifestBytes);
  if (!text) return {};
  auto json = nlohmann::json::parse(*text, nullptr, false);
  if (!json.is_object() || !json.contains("name") || !json["name"].is_string()) return {};
  std::string id = json["name"].get<std::string>();
  if (json.contains("version") && json["version"].is_string())
    id += "@" + json["version"].get<std::string>();
  return id;
}

void PackageOwners::load_records() {
  records_loaded_ = true;
  static const std::string kRecord = ".dist-info/RECORD";
  for (const auto& c : changes_.changes) {
    if (c.change == ChangeKind::deleted || !c.path.view().ends_with(kRecord)) continue;
    const std::string record = c.path.str();
    auto parts = components(record);
    if (parts.size() < 2) continue;
    std::string site = join(parts, parts.size() - 2);
    std::string dist = dist_of(parts[parts.size() - 2]);
    auto text = files_.read(record, kMaxManifestBytes);
    if (!text) continue;
    std::istringstream lines(*text);
    for (std::string line; std::getline(lines, line);) {
      auto file = first_csv_field(line);
      if (file.empty() || file.front() == '/') continue;
      if (auto path = normalized(site + "/" + file)) wheel_files_.emplace(*path, dist);
    }
  }
}

std::string PackageOwners::wheel_owner(const std::string& path) {
  if (!records_loaded_) load_records();
  auto hit = wheel_files_.find(path);
  return hit == wheel_files_.end() ? std::string() : hit->second;
}

std::string PackageOwners::owner_of(const std::string& path) {
  if (auto wheel = wheel_owner(path); !wheel.empty()) return wheel;
  if (auto dir = npm_package_dir(path); !dir.empty()) {
    if (auto npm = npm_package_at(dir); !npm.empty()) return npm;
  }
  if (auto gem = gem_owner(components(path)); !gem.empty()) return gem;
  return ran_.size() == 1 ? ran_.front() : std::string();
}

}  // namespace safeinstall::runner
