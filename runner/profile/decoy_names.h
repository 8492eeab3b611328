#pragma once
// The decoy credential files a run's home may hold (runner/plan/decoys.h), by the names a
// profile's [decoys] section uses.

#include <algorithm>
#include <array>
#include <string_view>

namespace safeinstall::runner {

inline constexpr std::array<std::string_view, 7> kDecoyFiles = {"~/.npmrc",
                                                                "~/.ssh/id_rsa",
                                                                "~/.aws/credentials",
                                                                "~/.config/gh/hosts.yml",
                                                                "~/.docker/config.json",
                                                                "~/.git-credentials",
                                                                "~/.kube/config"};

inline bool is_decoy_file(std::string_view name) {
  return std::ranges::find(kDecoyFiles, name) != kDecoyFiles.end();
}

}  // namespace safeinstall::runner
