#include "runner/supervise/decoy_watch.h"

#include <fcntl.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <thread>

#include "sandbox/base/proc.h"

namespace safeinstall::runner {
namespace {

// An opener's ancestry is followed this far up: enough to reach a forked shell's exec'd
// parent, bounded so a deep tree cannot stall the event loop.
constexpr int kMaxLineage = 16;

sandbox::UniqueFd open_fanotify() {
  return sandbox::UniqueFd(::fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK,
                                           O_RDONLY | O_CLOEXEC | O_LARGEFILE));
}

std::vector<pid_t> lineage_of(pid_t pid, pid_t stop_at) {
  std::vector<pid_t> lineage{pid};
  for (int i = 0; i < kMaxLineage && pid > 1 && pid != stop_at; ++i) {
    pid = read_proc_ids(pid).ppid;
    if (pid <= 0) break;
    lineage.push_back(pid);
  }
  return lineage;
}

const ProcessRecord* latest_exec(const ProcessTree& tree, pid_t host_pid,
                                 std::chrono::system_clock::time_point before) {
  const auto& records = tree.records();
  for (auto it = records.rbegin(); it != records.rend(); ++it) {
    if (it->host_pid == host_pid && it->started <= before) return &*it;
  }
  return nullptr;
}

}  // namespace

bool decoy_reads_have_pids() {
  return static_cast<bool>(open_fanotify());
}

Result<> DecoyWatch::watch(const WatchedDecoy& decoy, int file) {
  struct stat st {};
  if (::fstat(file, &st) != 0) return sys_error("watch the decoy " + decoy.file + " (fstat)");
  inodes_.push_back({st.st_dev, st.st_ino});
  if (fanotify_) {
    // The fd names the inode, wherever it is mounted: an open by any path or link is seen.
    if (::fanotify_mark(fd_.get(), FAN_MARK_ADD, FAN_OPEN, file, nullptr) != 0)
      return sys_error("watch the decoy " + decoy.file + " (fanotify_mark)");
    return {};
  }
  // inotify takes a path: this process's link to the fd resolves to the same inode.
  const std::string path = "/proc/self/fd/" + std::to_string(file);
  int wd = ::inotify_add_watch(fd_.get(), path.c_str(), IN_OPEN);
  if (wd < 0) return sys_error("watch the decoy " + decoy.file + " (inotify_add_watch)");
  watches_.push_back(wd);
  return {};
}

Result<DecoyWatch> DecoyWatch::start(const std::vector<WatchedDecoy>& decoys,
                                     const std::vector<sandbox::WatchedFile>& files,
                                     pid_t sandbox_init) {
  DecoyWatch watch;
  watch.decoys_ = decoys;
  watch.sandbox_init_ = sandbox_init;
  watch.sandbox_pid_ns_ = read_proc_link(proc_path(sandbox_init, "ns/pid"));
  watch.fd_ = open_fanotify();
  watch.fanotify_ = static_cast<bool>(watch.fd_);
  if (!watch.fanotify_) {
    watch.fd_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (!watch.fd_) return sys_error("watch the decoy credentials (inotify_init1)");
  }
  for (const auto& decoy : decoys) {
    auto file = std::ranges::find(files, decoy.target, &sandbox::WatchedFile::target);
    if (file == files.end() || !file->fd)
      return plain_error("watch the decoy " + decoy.file + ": the sandbox did not hand it over");
    if (auto watched = watch.watch(decoy, file->fd.get()); !watched) return propagate(watched);
  }
  return watch;
}

void DecoyWatch::read_events() {
  if (fanotify_)
    read_fanotify();
  else
    read_inotify();
}

bool DecoyWatch::is_in_sandbox(pid_t pid) const {
  std::string ns = read_proc_link(proc_path(pid, "ns/pid"));
  // Gone already: it cannot be checked, and only the sandbox is expected to open a decoy.
  return ns.empty() || sandbox_pid_ns_.empty() || ns == sandbox_pid_ns_;
}

void DecoyWatch::add(std::size_t decoy, std::vector<pid_t> lineage) {
  pid_t pid = lineage.empty() ? 0 : lineage.front();
  bool seen = std::ranges::any_of(raw_, [&](const Raw& r) {
    return r.decoy == decoy && (r.lineage.empty() ? 0 : r.lineage.front()) == pid;
  });
  if (seen || raw_.size() >= kMaxReads) return;
  raw_.push_back({decoy, std::move(lineage), std::chrono::system_clock::now()});
}

void DecoyWatch::read_fanotify() {
  alignas(fanotify_event_metadata) std::array<char, 8192> buffer{};
  while (true) {
    ssize_t n = ::read(fd_.get(), buffer.data(), buffer.size());
    if (n <= 0) return;
    auto* event = reinterpret_cast<fanotify_event_metadata*>(buffer.data());
    for (; FAN_EVENT_OK(event, n); event = FAN_EVENT_NEXT(event, n)) {
      if (event->vers != FANOTIFY_METADATA_VERSION || event->fd < 0) continue;
      sandbox::UniqueFd opened(event->fd);
      struct stat st {};
      if (::fstat(opened.get(), &st) != 0) continue;
      for (std::size_t i = 0; i < inodes_.size(); ++i) {
        if (inodes_[i].ino != st.st_ino || inodes_[i].dev != st.st_dev) continue;
        if (is_in_sandbox(event->pid)) add(i, lineage_of(event->pid, sandbox_init_));
        break;
      }
    }
  }
}

void DecoyWatch::read_inotify() {
  alignas(inotify_event) std::array<char, 4096> buffer{};
  while (true) {
    ssize_t n = ::read(fd_.get(), buffer.data(), buffer.size());
    if (n <= 0) return;
    for (ssize_t at = 0; at + static_cast<ssize_t>(sizeof(inotify_event)) <= n;) {
      auto* event = reinterpret_cast<inotify_event*>(buffer.data() + at);
      at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      if ((event->mask & IN_OPEN) == 0) continue;
      auto it = std::ranges::find(watches_, event->wd);
      if (it != watches_.end()) add(static_cast<std::size_t>(it - watches_.begin()), {});
    }
  }
}

std::vector<DecoyRead> DecoyWatch::reads(const ProcessTree& tree) const {
  std::vector<DecoyRead> out;
  for (const auto& raw : raw_) {
    DecoyRead read;
    read.file = decoys_[raw.decoy].file;
    read.pid_known = fanotify_ && !raw.lineage.empty();
    read.host_pid = raw.lineage.empty() ? 0 : raw.lineage.front();
    read.at = raw.at;
    for (pid_t pid : raw.lineage) {
      if (const auto* record = latest_exec(tree, pid, raw.at)) {
        read.process = *record;
        break;
      }
    }
    out.push_back(std::move(read));
  }
  return out;
}

void DecoyWatch::close_in_background(sandbox::UniqueFd also) {
  std::thread([watch = std::move(fd_), dup = std::move(also)]() mutable {
    dup.reset();
    watch.reset();
  }).detach();
}

}  // namespace safeinstall::runner
