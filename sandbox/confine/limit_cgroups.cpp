#include "sandbox/confine/limit_cgroups.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <filesystem>
#include <string_view>
#include <utility>

#include "sandbox/base/path_text.h"
#include "sandbox/confine/cgroup_files.h"

namespace safeinstall::sandbox {
namespace {

// Followed by the sandbox init's pid.
constexpr std::string_view kNamePrefix = "safeinstall-";

bool is_v1(const std::string& dir, const std::string& controller) {
  return is_within(dir, "/sys/fs/cgroup/" + controller);
}

}  // namespace

std::size_t LimitCgroups::remove_stale() {
  std::size_t removed = 0;
  std::vector<std::string> seen;
  for (const char* controller : {"pids", "memory"}) {
    auto parent = cgroup_parent_for(controller);
    if (!parent || std::find(seen.begin(), seen.end(), *parent) != seen.end()) continue;
    seen.push_back(*parent);
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(*parent, ec)) {
      std::string name = entry.path().filename().string();
      if (!name.starts_with(kNamePrefix)) continue;
      std::string digits = name.substr(kNamePrefix.size());
      if (digits.empty() || !std::all_of(digits.begin(), digits.end(),
                                         [](unsigned char c) { return std::isdigit(c) != 0; }))
        continue;
      pid_t init = static_cast<pid_t>(std::stol(digits));
      if (::kill(init, 0) == 0 || errno != ESRCH) continue;  // that sandbox may still run
      if (::rmdir(entry.path().c_str()) == 0) ++removed;
    }
  }
  return removed;
}

LimitCgroups LimitCgroups::create(pid_t pid, std::uint64_t max_tasks,
                                  std::optional<std::uint64_t> max_memory) {
  LimitCgroups cgroups;
  const std::string name = "/" + std::string(kNamePrefix) + std::to_string(pid);
  // The directory for `controller` with `pid` in it: made once per parent (cgroup v2 has one
  // for every controller), empty when the host offers none.
  auto place = [&](const std::string& controller) -> std::string {
    auto parent = cgroup_parent_for(controller);
    if (!parent) return {};
    std::string dir = *parent + name;
    if (std::find(cgroups.made_.begin(), cgroups.made_.end(), dir) != cgroups.made_.end())
      return dir;
    if (::mkdir(dir.c_str(), 0755) != 0) return {};
    cgroups.made_.push_back(dir);
    return dir;
  };
  auto enter = [&](const std::string& dir) {
    return write_cgroup_file(dir + "/cgroup.procs", std::to_string(pid));
  };

  if (std::string dir = place("pids"); !dir.empty()) {
    if (write_cgroup_file(dir + "/pids.max", std::to_string(max_tasks)) && enter(dir))
      cgroups.pids_ = dir;
  }
  if (max_memory) {
    if (std::string dir = place("memory"); !dir.empty()) {
      bool v1 = is_v1(dir, "memory");
      std::string limit_file = dir + (v1 ? "/memory.limit_in_bytes" : "/memory.max");
      if (write_cgroup_file(limit_file, std::to_string(*max_memory)) && enter(dir)) {
        cgroups.memory_ = dir;
        cgroups.memory_v1_ = v1;
      }
    }
  }
  return cgroups;
}

LimitCgroups::LimitCgroups(LimitCgroups&& other) noexcept
    : made_(std::exchange(other.made_, {})),
      pids_(std::exchange(other.pids_, {})),
      memory_(std::exchange(other.memory_, {})),
      memory_v1_(other.memory_v1_) {}

LimitCgroups& LimitCgroups::operator=(LimitCgroups&& other) noexcept {
  std::swap(made_, other.made_);
  std::swap(pids_, other.pids_);
  std::swap(memory_, other.memory_);
  std::swap(memory_v1_, other.memory_v1_);
  return *this;
}

LimitCgroups::~LimitCgroups() {
  for (auto dir = made_.rbegin(); dir != made_.rend(); ++dir) ::rmdir(dir->c_str());
}

std::uint64_t LimitCgroups::refused_forks() const {
  return pids_.empty() ? 0 : read_cgroup_counter(pids_ + "/pids.events", "max");
}

std::uint64_t LimitCgroups::memory_kills() const {
  if (memory_.empty()) return 0;
  return read_cgroup_counter(memory_ + (memory_v1_ ? "/memory.oom_control" : "/memory.events"),
                             "oom_kill");
}

}  // namespace safeinstall::sandbox
