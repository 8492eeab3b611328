#include "sandbox/limit_cgroups.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "sandbox/cgroup_files.h"

namespace safeinstall::sandbox {
namespace {

bool is_v1(const std::string& dir, const std::string& controller) {
  return dir.starts_with("/sys/fs/cgroup/" + controller + "/") ||
         dir == "/sys/fs/cgroup/" + controller;
}

}  // namespace

LimitCgroups LimitCgroups::create(pid_t pid, std::uint64_t max_tasks,
                                  std::optional<std::uint64_t> max_memory) {
  LimitCgroups cgroups;
  const std::string name = "/safeinstall-" + std::to_string(pid);
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
