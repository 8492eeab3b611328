#include "runner/plan/tool_logs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "runner/fs/fs_tree.h"
#include "runner/fs/path_text.h"
#include "runner/plan/environment.h"
#include "sandbox/base/path_text.h"

namespace safeinstall::runner {
namespace {

using sandbox::MountKind;
using sandbox::UniqueFd;

// npm names its logs 2026-12-07T04_23_09_123Z-debug-0.log: letters, digits, '.', '_', '-'.
bool log_name(const std::string& name) {
  if (name.size() < 5 || name.size() > 128 || !name.ends_with(".log") || name.front() == '.')
    return false;
  return std::ranges::all_of(name, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

// The last kMaxLogBytes of a regular file `name` in `dirfd`, or nothing when it is anything
// else: a symlink is not followed and a fifo does not block.
std::optional<std::pair<std::string, std::uint64_t>> read_log_tail(int dirfd,
                                                                   const std::string& name) {
  UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd) return std::nullopt;
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  auto size = static_cast<std::uint64_t>(st.st_size);
  auto offset = size > kMaxLogBytes ? size - kMaxLogBytes : 0;
  std::string tail(static_cast<std::size_t>(size - offset), '\0');
  std::size_t got = 0;
  while (got < tail.size()) {
    ssize_t n =
        ::pread(fd.get(), tail.data() + got, tail.size() - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  tail.resize(got);
  return std::make_pair(std::move(tail), size);
}

std::vector<KeptLog> keep_one(const ToolLogs& logs, const std::string& run_dir) {
  std::vector<KeptLog> kept;
  auto dir = open_directory(logs.staged);
  if (!dir) return kept;
  auto names = list_directory(dir->get(), logs.staged);
  if (!names) return kept;
  std::erase_if(*names, [](const std::string& n) { return !log_name(n); });
  // The newest last: npm's names start with the time.
  std::ranges::sort(*names);
  if (names->size() > kMaxKeptLogs)
    names->erase(names->begin(), names->end() - static_cast<long>(kMaxKeptLogs));
  std::string into = run_dir + "/logs/" + logs.tool;
  for (const auto& name : *names) {
    auto tail = read_log_tail(dir->get(), name);
    if (!tail) continue;
    if (kept.empty()) {
      if (!make_private_directory(run_dir + "/logs") || !make_private_directory(into)) break;
    }
    std::string path = into + "/" + name;
    if (!write_file_atomically(path, tail->first, false)) continue;
    kept.push_back(
        {logs.tool, logs.inside + "/" + name, path, tail->second, tail->second > kMaxLogBytes});
  }
  return kept;
}

}  // namespace

std::vector<ToolLogs> tool_logs_for(const std::string& tool, const std::vector<LogPlace>& places,
                                    const std::string& run_dir) {
  std::vector<ToolLogs> logs;
  for (const auto& place : places) {
    // Each place its own bound directory; their logs all go to <run dir>/logs/<tool>/.
    std::string staged = run_dir + "/tool-logs/" + tool;
    // Appended piecewise: GCC 12's -Wrestrict misreads `"-" + std::to_string(n)` at -O3.
    if (!logs.empty()) {
      staged += '-';
      staged += std::to_string(logs.size());
    }
    ToolLogs one{tool, place.inside, staged, {}};
    if (!place.env.empty())
      one.env.emplace_back(place.env,
                           place.file.empty() ? place.inside : place.inside + "/" + place.file);
    logs.push_back(std::move(one));
  }
  return logs;
}

Result<> mount_tool_logs(RunPlan& plan, const std::vector<ToolLogs>& logs) {
  for (const auto& l : logs) {
    if (!is_within(l.inside, plan.home) || l.inside == plan.home)
      return plain_error("the " + l.tool + " log directory " + l.inside +
                         " is not inside the home " + plan.home);
    if (auto made = create_parents(l.staged); !made) return made;
    if (auto made = make_private_directory(l.staged); !made) return made;
    plan.spec.mounts.push_back({MountKind::BindReadWrite, l.inside, l.staged});
    for (const auto& [name, value] : l.env) set_variable(plan.spec.env, name, value);
  }
  order_mounts(plan.spec.mounts);
  return {};
}

std::vector<KeptLog> keep_tool_logs(const std::vector<ToolLogs>& logs, const std::string& run_dir) {
  std::vector<KeptLog> kept;
  for (const auto& l : logs) {
    auto some = keep_one(l, run_dir);
    kept.insert(kept.end(), some.begin(), some.end());
    [[maybe_unused]] auto removed = remove_tree(l.staged);
  }
  // The bound directories' parent, empty now.
  if (!logs.empty()) ::rmdir((run_dir + "/tool-logs").c_str());
  return kept;
}

}  // namespace safeinstall::runner
