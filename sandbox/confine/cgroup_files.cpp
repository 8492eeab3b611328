#include "sandbox/confine/cgroup_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>

#include "sandbox/base/fd.h"

namespace safeinstall::sandbox {
namespace {

// Our cgroup in the hierarchy whose /proc/self/cgroup line names `controller` ("" for v2).
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

std::string below(const std::string& root, const std::string& own) {
  return root + (own == "/" ? std::string() : own);
}

}  // namespace

std::optional<std::string> cgroup_parent_for(const std::string& controller) {
  const std::string v1_root = "/sys/fs/cgroup/" + controller;
  if (auto v1 = own_cgroup(controller);
      v1 && ::access((v1_root + "/cgroup.procs").c_str(), W_OK) == 0)
    return below(v1_root, *v1);
  if (auto v2 = own_cgroup("")) {
    std::string parent = below("/sys/fs/cgroup", *v2);
    std::ifstream control(parent + "/cgroup.subtree_control");
    std::string listed;
    while (control >> listed) {
      if (listed == controller) return parent;
    }
  }
  return std::nullopt;
}

bool write_cgroup_file(const std::string& path, const std::string& text) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  return fd && ::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size());
}

std::uint64_t read_cgroup_counter(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string name;
  std::uint64_t value = 0;
  while (in >> name >> value) {
    if (name == key) return value;
  }
  return 0;
}

}  // namespace safeinstall::sandbox
