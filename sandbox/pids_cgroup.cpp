#include "sandbox/pids_cgroup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <utility>

#include "sandbox/fd.h"

namespace safeinstall::sandbox {
namespace {

bool write_file(const std::string& path, const std::string& text) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  return fd && ::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size());
}

// Our cgroup in the hierarchy whose /proc/self/cgroup line starts with `prefix`
// ("0::" for v2, "N:pids:" for v1).
std::optional<std::string> own_cgroup(const std::string& controller) {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    auto first = line.find(':');
    auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    if (line.substr(first + 1, second - first - 1) == controller) return line.substr(second + 1);
  }
  return std::nullopt;
}

std::optional<std::string> candidate_parent() {
  if (auto v1 = own_cgroup("pids"); v1 && ::access("/sys/fs/cgroup/pids/cgroup.procs", W_OK) == 0)
    return "/sys/fs/cgroup/pids" + (*v1 == "/" ? std::string() : *v1);
  if (auto v2 = own_cgroup("")) {
    std::string parent = "/sys/fs/cgroup" + (*v2 == "/" ? std::string() : *v2);
    std::ifstream control(parent + "/cgroup.subtree_control");
    std::string controller;
    while (control >> controller) {
      if (controller == "pids") return parent;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<PidsCgroup> PidsCgroup::create(pid_t pid, std::uint64_t max) {
  auto parent = candidate_parent();
  if (!parent) return std::nullopt;
  std::string path = *parent + "/safeinstall-" + std::to_string(pid);
  if (::mkdir(path.c_str(), 0755) != 0) return std::nullopt;
  PidsCgroup cgroup(path);
  if (!write_file(path + "/pids.max", std::to_string(max)) ||
      !write_file(path + "/cgroup.procs", std::to_string(pid)))
    return std::nullopt;
  return cgroup;
}

std::uint64_t PidsCgroup::refused_forks() const {
  std::ifstream in(path_ + "/pids.events");
  std::string key;
  std::uint64_t count = 0;
  while (in >> key >> count) {
    if (key == "max") return count;
  }
  return 0;
}

PidsCgroup::~PidsCgroup() {
  if (!path_.empty()) ::rmdir(path_.c_str());
}

}  // namespace safeinstall::sandbox
