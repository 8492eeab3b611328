#include "runner/supervise/resource_sampler.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "sandbox/base/fd.h"

namespace safeinstall::runner {
namespace {

constexpr std::size_t kMaxProcesses = 100000;

std::string read_small(const std::string& path) {
  sandbox::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return {};
  std::string text(4096, '\0');
  ssize_t n = ::read(fd.get(), text.data(), text.size());
  text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return text;
}

// Adds one process's figures from /proc/PID/stat.
void add_process(pid_t pid, TreeSample& sample) {
  std::string stat = read_small("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  if (close == std::string::npos) return;
  // Fields after the command name, starting with field 3 (state).
  unsigned long utime = 0, stime = 0;
  long cutime = 0, cstime = 0, threads = 0, rss = 0;
  int matched = std::sscanf(stat.c_str() + close + 2,
                            "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %ld %ld %*d %*d "
                            "%ld %*d %*u %*u %ld",
                            &utime, &stime, &cutime, &cstime, &threads, &rss);
  if (matched != 6) return;
  static const long ticks = ::sysconf(_SC_CLK_TCK);
  static const long page_kib = ::sysconf(_SC_PAGESIZE) / 1024;
  sample.processes += 1;
  sample.tasks += static_cast<std::uint64_t>(threads);
  sample.rss_kib += static_cast<std::uint64_t>(rss * page_kib);
  sample.cpu_ms += (utime + stime + static_cast<unsigned long>(cutime + cstime)) * 1000 /
                   static_cast<unsigned long>(ticks);
}

void add_children(pid_t pid, std::vector<pid_t>& pending) {
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  sandbox::DirStream dir = sandbox::open_dir_stream(tasks.c_str());
  if (!dir) return;
  while (auto* entry = ::readdir(dir.get())) {
    if (entry->d_name[0] == '.') continue;
    std::string children = read_small(tasks + "/" + entry->d_name + "/children");
    const char* p = children.c_str();
    char* end = nullptr;
    for (long child = std::strtol(p, &end, 10); end != p; child = std::strtol(p, &end, 10)) {
      pending.push_back(static_cast<pid_t>(child));
      p = end;
    }
  }
}

}  // namespace

TreeSample sample_tree(pid_t init, std::uint64_t stop_at_tasks) {
  TreeSample sample;
  std::vector<pid_t> pending{init};
  while (!pending.empty() && sample.processes < kMaxProcesses && sample.tasks <= stop_at_tasks) {
    pid_t pid = pending.back();
    pending.pop_back();
    add_process(pid, sample);
    add_children(pid, pending);
  }
  return sample;
}

}  // namespace safeinstall::runner
