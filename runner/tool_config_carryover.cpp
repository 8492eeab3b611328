#include "runner/tool_config_carryover.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <regex>
#include <sstream>

namespace safeinstall::runner {
namespace {

namespace fs = std::filesystem;
using sandbox::MountKind;
using sandbox::MountSpec;

constexpr std::uintmax_t kMaxConfigBytes = 1 << 20;

// Key fragments that mark a setting as a secret, compared with the lowercased key.
constexpr std::array kSecretFragments = {"_auth",    "authtoken", "authident",   "token",
                                         "password", "passwd",    "secret",      "credential",
                                         "api_key",  "apikey",    "private_key", "privatekey"};

// Keys naming a CA file, compared lowercased without '-', '_', '.' and ':'.
constexpr std::array kCaKeys = {"cafile",          "cert",      "cainfo", "cafilepath", "sslcacert",
                                "bundlesslcacert", "httpcainfo"};

std::string lower(std::string s) {
  std::ranges::transform(s, s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string unquote(std::string_view s) {
  auto begin = s.find_first_not_of(" \t\"'");
  if (begin == std::string_view::npos) return {};
  auto end = s.find_last_not_of(" \t\r\"'");
  return std::string(s.substr(begin, end - begin + 1));
}

// The key of a setting line and where its value starts.
std::pair<std::string, std::string> split_setting(const std::string& line, ConfigSyntax syntax) {
  std::size_t at = std::string::npos;
  if (syntax == ConfigSyntax::Ini || syntax == ConfigSyntax::Toml) {
    at = line.find('=');
    if (at == std::string::npos) at = line.find_first_of(" \t");  // yarn classic: key "value"
  } else {
    // YAML: the first ':' that ends the key (":rubygems_api_key:" keeps its leading colon).
    at = line.find(':', line.starts_with(':') ? 1 : 0);
  }
  if (at == std::string::npos) return {unquote(line), {}};
  return {unquote(line.substr(0, at)), unquote(line.substr(at + 1))};
}

bool is_secret_key(const std::string& key, ConfigSyntax syntax) {
  std::string k = lower(key);
  if (std::ranges::any_of(kSecretFragments,
                          [&](const char* f) { return k.find(f) != std::string::npos; }))
    return true;
  // Bundler keeps host credentials as BUNDLE_<HOST>, dots written as "__".
  if (syntax == ConfigSyntax::Bundler && k.starts_with("bundle_") &&
      k.find("__") != std::string::npos)
    return !k.starts_with("bundle_mirror__");
  return false;
}

bool is_ca_key(const std::string& key) {
  std::string k;
  for (char c : lower(key)) {
    if (c != '-' && c != '_' && c != '.' && c != ':') k += c;
  }
  return std::ranges::any_of(kCaKeys, [&](const char* ca) { return k == ca; });
}

std::string read_small_file(const fs::path& file) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec) || fs::file_size(file, ec) > kMaxConfigBytes) return {};
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool names_file(const std::vector<fs::path>& credentials, const fs::path& file) {
  std::error_code ec;
  return std::ranges::any_of(
      credentials, [&](const fs::path& c) { return c == file || fs::equivalent(c, file, ec); });
}

}  // namespace

StrippedConfig strip_secrets(const std::string& text, ConfigSyntax syntax) {
  static const std::regex userinfo(R"(([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s"']+@)");
  StrippedConfig out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::string body = line.substr(std::min(line.find_first_not_of(" \t"), line.size()));
    bool comment =
        body.empty() || body.front() == '#' || body.front() == ';' || body.front() == '[';
    if (!comment) {
      auto [key, value] = split_setting(body, syntax);
      if (is_secret_key(key, syntax)) {
        out.removed.push_back(key);
        out.text += "# " + key + ": removed by safeinstall (pass --credentials FILE to keep it)\n";
        continue;
      }
      if (is_ca_key(key) && !value.empty()) out.ca_files.push_back(value);
    }
    std::string cleaned = std::regex_replace(line, userinfo, "$1");
    if (cleaned != line) out.removed.push_back("user:password@ in a URL");
    out.text += cleaned + "\n";
  }
  return out;
}

Carryover carry_over_tool_config(const fs::path& real_home, const fs::path& sandbox_home,
                                 const std::vector<fs::path>& credentials) {
  Carryover out;
  if (real_home.empty() || sandbox_home.empty()) return out;
  std::vector<std::string> ca_files;
  for (const auto& config : kCarriedConfigs) {
    fs::path file = real_home / config.path;
    std::string target = (sandbox_home / config.path).string();
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) continue;
    if (names_file(credentials, file)) {
      out.mounts.push_back({MountKind::BindReadOnly, target, file.string()});
      out.notes.push_back(std::string("~/") + config.path +
                          ": carried over with its credentials (--credentials)");
      continue;
    }
    auto stripped = strip_secrets(read_small_file(file), config.syntax);
    MountSpec copy{MountKind::FileContent, target};
    copy.content = std::move(stripped.text);
    out.mounts.push_back(std::move(copy));
    if (!stripped.removed.empty())
      out.notes.push_back(std::string("~/") + config.path + ": " +
                          std::to_string(stripped.removed.size()) + " secret setting(s) removed");
    std::ranges::move(stripped.ca_files, std::back_inserter(ca_files));
  }
  // CA files under the real home are hidden with it; bind them back, read-only.
  for (const auto& ca : ca_files) {
    fs::path path = ca.starts_with("~/") ? real_home / ca.substr(2) : fs::path(ca);
    std::error_code ec;
    auto real = fs::canonical(path, ec);
    if (ec || !fs::is_regular_file(real, ec)) continue;
    auto relative = real.lexically_relative(fs::canonical(real_home, ec));
    if (relative.empty() || relative.begin()->string() == "..") continue;
    std::string target = (sandbox_home / relative).string();
    if (std::ranges::any_of(out.mounts, [&](const MountSpec& m) { return m.target == target; }))
      continue;
    out.mounts.push_back({MountKind::BindReadOnly, target, real.string()});
  }
  return out;
}

}  // namespace safeinstall::runner
