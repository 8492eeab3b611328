#pragma once
// The base profile (profiles/base.toml): environment allow-list, secret patterns, hidden
// host paths, toolchain directories and limits shared by every run.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace safeinstall::runner {

struct ToolchainGroup {
  std::string name;
  std::vector<std::string> dirs;  // relative to the invoker's home
};

struct BaseProfile {
  std::filesystem::path source;
  std::vector<std::string> env_allow;
  std::vector<std::string> env_secret;
  std::vector<std::string> visible;  // host paths the sandbox sees, read-only
  std::vector<std::string> hide;     // and, inside those, what it never sees
  bool hide_user_homes = true;
  std::uint64_t home_size = 0;
  std::uint64_t tmp_size = 0;
  std::vector<ToolchainGroup> toolchains;
  std::uint64_t open_files = 65536;
  std::uint64_t processes = 4096;
  // [limits] defaults of --memory (bytes), --pids, --cpu-time and --timeout (seconds),
  // --disk (bytes) and --files; nullopt where no layer sets one.
  std::optional<std::uint64_t> memory;
  std::optional<std::uint64_t> pids;
  std::optional<std::uint64_t> cpu_time;
  std::optional<std::uint64_t> timeout;
  std::optional<std::uint64_t> disk;
  std::optional<std::uint64_t> files;
  // [runs]: kept runs pruned after each run (runs newer than `runs_keep` kept; finished ones
  // older than `runs_max_age` seconds removed); nullopt where no layer sets one.
  std::optional<std::uint64_t> runs_keep;
  std::optional<std::uint64_t> runs_max_age;
};

// Directories searched for profiles, most specific first: $SAFEINSTALL_PROFILE_DIR, the
// installed share/safeinstall/profiles beside the binary, the source tree's profiles/.
std::vector<std::filesystem::path> profile_search_path();

}  // namespace safeinstall::runner
