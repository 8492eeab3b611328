#include "runner/judge/composer_autoload.h"

#include <nlohmann/json.hpp>

#include <regex>

#include "runner/judge/package_owners.h"

namespace safeinstall::runner {
namespace {

// Every capture of `pattern` in `text`, prefixed.
void collect(std::string_view text, const std::regex& pattern, const std::string& prefix,
             std::vector<std::string>& out) {
  using It = std::regex_iterator<std::string_view::const_iterator>;
  for (It it(text.begin(), text.end(), pattern), end; it != end; ++it)
    if (auto path = normalized(prefix + (*it)[1].str())) out.push_back(*path);
}

void declared_files(const nlohmann::json& package, const std::string& dir,
                    std::vector<std::string>& out) {
  for (const char* section : {"autoload", "autoload-dev"}) {
    if (!package.contains(section) || !package[section].is_object()) continue;
    const auto& autoload = package[section];
    if (!autoload.contains("files") || !autoload["files"].is_array()) continue;
    for (const auto& file : autoload["files"])
      if (file.is_string())
        if (auto path = normalized(dir + "/" + file.get<std::string>())) out.push_back(*path);
  }
}

}  // namespace

std::vector<std::string> composer_autoload_entries(std::string_view php,
                                                   std::string_view vendor_dir) {
  static const std::regex vendor(R"re(\$vendorDir \. '([^']*)')re");
  static const std::regex base(R"re(\$baseDir \. '([^']*)')re");
  static const std::regex static_vendor(R"re(__DIR__ \. '/\.\.' \. '([^']*)')re");
  static const std::regex static_base(R"re(__DIR__ \. '/\.\./\.\.' \. '([^']*)')re");
  std::vector<std::string> out;
  std::string v(vendor_dir);
  // autoload_static.php holds the class maps and PSR-4 dirs too: only its $files array, which
  // it has only when some package declares autoload files.
  if (php.find("class ComposerStaticInit") != std::string_view::npos) {
    auto files = php.find("public static $files = array (");
    if (files == std::string_view::npos) return out;
    auto end = php.find(");", files);
    php = php.substr(files, end == std::string_view::npos ? end : end - files);
  }
  collect(php, vendor, v, out);
  collect(php, static_vendor, v, out);
  collect(php, base, "", out);
  collect(php, static_base, "", out);
  return out;
}

std::vector<std::string> composer_declared_autoload_files(std::string_view installed_json,
                                                          std::string_view composer_json,
                                                          std::string_view vendor_dir) {
  std::vector<std::string> out;
  auto installed = nlohmann::json::parse(installed_json, nullptr, false);
  const nlohmann::json* packages = &installed;
  if (installed.is_object() && installed.contains("packages")) packages = &installed["packages"];
  if (packages->is_array()) {
    for (const auto& package : *packages) {
      if (!package.is_object() || !package.contains("name") || !package["name"].is_string())
        continue;
      // Composer 2 names the directory relative to vendor/composer; Composer 1 does not.
      std::string dir = std::string(vendor_dir) + "/" + package["name"].get<std::string>();
      if (package.contains("install-path") && package["install-path"].is_string())
        if (auto path = normalized(std::string(vendor_dir) + "/composer/" +
                                   package["install-path"].get<std::string>()))
          dir = *path;
      declared_files(package, dir, out);
    }
  }
  auto root = nlohmann::json::parse(composer_json, nullptr, false);
  if (root.is_object()) declared_files(root, ".", out);
  return out;
}

}  // namespace safeinstall::runner
