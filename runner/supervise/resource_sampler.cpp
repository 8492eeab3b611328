#include "runner/supervise/resource_sampler.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "sandbox/base/fd.h"
#include "sandbox/base/proc.h"

namespace safeinstall::runner {
namespace {

constexpr std::size_t kMaxProcesses = 100000;

constexpr std::size_t kMaxChildrenBytes = 4096;

// Adds one process's figures from /proc/PID/stat: utime, stime, cutime and cstime (fields
// 14 to 17), num_threads (20) and rss in pages (24).
void add_process(pid_t pid, TreeSample& sample) {
  std::string line = StatFields::read(pid);
  StatFields stat(line);
  auto utime = stat.number(14), stime = stat.number(15);
  auto cutime = stat.number(16), cstime = stat.number(17);
  auto threads = stat.number(20), rss = stat.number(24);
  if (!utime || !stime || !cutime || !cstime || !threads || !rss) return;
  static const long ticks = ::sysconf(_SC_CLK_TCK);
  static const long page_kib = ::sysconf(_SC_PAGESIZE) / 1024;
  sample.processes += 1;
  sample.tasks += static_cast<std::uint64_t>(*threads);
  sample.rss_kib += static_cast<std::uint64_t>(*rss * page_kib);
  sample.cpu_ms += static_cast<std::uint64_t>((*utime + *stime + *cutime + *cstime) * 1000 / ticks);
}

void add_children(pid_t pid, std::vector<pid_t>& pending) {
  const std::string tasks = proc_path(pid, "task");
  sandbox::DirStream dir = sandbox::open_dir_stream(tasks.c_str());
  if (!dir) return;
  while (auto* entry = ::readdir(dir.get())) {
    if (entry->d_name[0] == '.') continue;
    std::string children =
        read_proc_file(tasks + "/" + entry->d_name + "/children", kMaxChildrenBytes);
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
