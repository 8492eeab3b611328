#include "runner/profile/tool_config_carryover.h"

#include <algorithm>

#include "runner/fs/fs_tree.h"
#include "runner/profile/carryover/carried_file.h"
#include "sandbox/base/path_text.h"

namespace safeinstall::runner {
namespace {

namespace fs = std::filesystem;
using sandbox::MountKind;
using sandbox::MountSpec;

// A CA file is bound in only when it holds certificates and no key: `cafile=~/.ssh/id_rsa`
// must not become a way to carry a private key in.
bool holds_certificates_only(const fs::path& file) {
  constexpr std::size_t kMaxCaBytes = 4 << 20;
  auto read = read_small_file(file.string(), kMaxCaBytes, Links::followed);
  if (!read || !*read) return false;
  const std::string& text = **read;
  return text.find("-----BEGIN CERTIFICATE-----") != std::string::npos &&
         text.find("PRIVATE KEY") == std::string::npos;
}

// CA files under the real home are hidden with it; bind them back, read-only.
void bind_ca_files(Carryover& out, const std::vector<std::string>& ca_files,
                   const fs::path& real_home, const fs::path& sandbox_home) {
  std::error_code ec;
  auto home = fs::canonical(real_home, ec);
  if (ec) return;
  for (const auto& ca : ca_files) {
    fs::path path = ca.starts_with("~/") ? real_home / ca.substr(2) : fs::path(ca);
    auto real = fs::canonical(path, ec);
    if (ec || !fs::is_regular_file(real, ec) || !holds_certificates_only(real)) continue;
    if (!is_within(real.string(), home.string())) continue;
    std::string target = (sandbox_home / real.lexically_relative(home)).string();
    if (std::ranges::any_of(out.mounts, [&](const MountSpec& m) { return m.target == target; }))
      continue;
    out.mounts.push_back({MountKind::BindReadOnly, target, real.string()});
  }
}

}  // namespace

Carryover carry_over_tool_config(const fs::path& real_home, const fs::path& sandbox_home,
                                 const std::vector<fs::path>& credentials) {
  Carryover out;
  if (real_home.empty() || sandbox_home.empty()) return out;
  std::vector<std::string> ca_files;
  for (const auto& config : kHomeConfigs) {
    fs::path file = real_home / config.path;
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) continue;
    auto named = carry_file(out, file, (sandbox_home / config.path).string(),
                            std::string("~/") + config.path, config.dialect, credentials);
    std::ranges::move(named, std::back_inserter(ca_files));
  }
  bind_ca_files(out, ca_files, real_home, sandbox_home);
  return out;
}

}  // namespace safeinstall::runner
