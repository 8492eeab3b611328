#include "runner/supervise/supervisor.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <map>
#include <memory>

#include "runner/argv_bounds.h"
#include "runner/staging/staging_watch.h"
#include "runner/supervise/exec_exits.h"
#include "runner/supervise/notification_thread.h"
#include "sandbox/base/fd.h"
#include "sandbox/base/pidfd.h"
#include "sandbox/base/proc.h"
#include "sandbox/egress/egress_gateway.h"

namespace safeinstall::runner {
namespace {

namespace asio = boost::asio;
using sandbox::SandboxEvent;
using sandbox::UniqueFd;

constexpr int kInterruptSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
constexpr auto kSampleInterval = std::chrono::milliseconds(200);

// A process that exec'd and has just exited is a zombie until its parent reaps it; its
// /proc/PID/stat then still holds its wait status (field 52). Anything else is not it.
std::optional<int> zombie_wait_status(pid_t pid) {
  std::string line = StatFields::read(pid);
  StatFields stat(line);
  // Field 3 is the state; the exit code is field 52.
  if (stat.text(3) != "Z") return std::nullopt;
  auto status = stat.number(52);
  if (!status) return std::nullopt;
  return static_cast<int>(*status);
}

std::string mib(std::uint64_t bytes) {
  return std::to_string(bytes >> 20) + " MiB";
}

// The supervisor takes its interrupts from a signalfd so the event loop can read who sent
// them: a terminal's Ctrl-C (SI_KERNEL) already reached the command directly.
class InterruptSignals {
 public:
  InterruptSignals() {
    sigemptyset(&set_);
    for (int sig : kInterruptSignals) sigaddset(&set_, sig);
    ::sigprocmask(SIG_BLOCK, &set_, &previous_);
    fd_.reset(::signalfd(-1, &set_, SFD_CLOEXEC | SFD_NONBLOCK));
  }
  ~InterruptSignals() { ::sigprocmask(SIG_SETMASK, &previous_, nullptr); }
  InterruptSignals(const InterruptSignals&) = delete;
  InterruptSignals& operator=(const InterruptSignals&) = delete;
  int fd() const { return fd_.get(); }

 private:
  sigset_t set_{};
  sigset_t previous_{};
  UniqueFd fd_;
};

// What is kept of a survivor's argv: bounded like every recorded argv.
SandboxProcess survivor(pid_t pid, pid_t ppid, std::vector<std::string> argv) {
  SandboxProcess process{pid, ppid, std::move(argv)};
  process.argv_truncated = bound_argv(process.argv);
  return process;
}

// A process's argv from /proc, reading no more than the bounds can keep (and a byte more,
// so that a longer one is seen to be cut).
std::vector<std::string> read_argv(pid_t pid) {
  const ArgvBounds bounds;
  return read_proc_argv(pid, bounds.max_total_bytes + bounds.max_args + 1);
}

// From the host, a timed-out sandbox's processes are those in init's pid namespace; they
// are recorded with the pids they had inside, as the sandbox would have reported them.
std::vector<SandboxProcess> list_sandbox_processes(pid_t init) {
  std::vector<SandboxProcess> found;
  struct stat ns {};
  if (::stat(proc_path(init, "ns/pid").c_str(), &ns) != 0) return found;
  for (pid_t pid : list_proc_pids()) {
    struct stat other {};
    if (pid == init || ::stat(proc_path(pid, "ns/pid").c_str(), &other) != 0) continue;
    if (other.st_ino != ns.st_ino || other.st_dev != ns.st_dev) continue;
    ProcIds ids = read_proc_ids(pid);
    pid_t inner_parent = ids.ppid == init ? 1 : read_proc_ids(ids.ppid).inner;
    found.push_back(survivor(ids.inner, inner_parent, read_argv(pid)));
  }
  return found;
}

class Supervision {
 public:
  Supervision(sandbox::RunningSandbox& sandbox, std::optional<std::chrono::milliseconds> timeout,
              const GatewaySettings& gateway, const RecordingSettings& recording)
      : sandbox_(sandbox),
        channel_(io_, ::dup(sandbox.channel())),
        exited_(io_, ::dup(sandbox.pidfd())),
        signals_(io_, ::dup(interrupts_.fd())),
        timer_(io_),
        timeout_(timeout),
        gateway_(io_, gateway.policy, gateway.options),
        limits_(recording.limits),
        recorder_(recording.scripts, recording.command, UnixSocketPolicy(recording.own_dirs),
                  ReadOnlyWatch(recording.read_only_dirs)),
        sampler_(io_),
        decoys_(recording.decoys) {
    if (limits_.staged.any() && !recording.staged_dirs.empty())
      staging_.emplace(recording.staged_dirs, limits_.staged);
    handle(sandbox.first_event());
  }

  Outcome run() {
    if (auto listeners = sandbox_.take_gateway_listeners()) {
      if (auto served = gateway_.serve(std::move(*listeners)); !served)
        outcome_.protocol_error = "egress gateway: " + served.error().message();
    }
    serve_notifications();
    watch_decoys();
    wait_for_messages();
    wait_for_exit();
    wait_for_interrupts();
    start_timer();
    sample_resources();
    io_.run();
    outcome_.network = gateway_.record().entries();
    finish_notifications();
    collect_recording();
    if (decoy_watch_) {
      outcome_.decoy_reads = decoy_watch_->reads(recorder_.tree());
      decoy_watch_->close_in_background(UniqueFd(decoy_events_->release()));
    }
    return outcome_;
  }

 private:
  void wait_for_messages() {
    channel_.async_wait(asio::posix::descriptor_base::wait_read, [this](auto ec) {
      if (!ec && read_one_message()) wait_for_messages();
    });
  }

  // Returns false at end of stream.
  bool read_one_message() {
    auto received = sandbox::receive_event(channel_.native_handle());
    if (!received) {
      outcome_.protocol_error = received.error().message();
      return false;
    }
    if (!*received) return false;
    handle(**received);
    return true;
  }

  void handle(const SandboxEvent& event) {
    switch (event.type) {
      case SandboxEvent::Type::ExecFailed:
        outcome_.exec_failed = true;
        outcome_.exec_errno = event.err;
        break;
      case SandboxEvent::Type::Started:
        outcome_.command_pid = event.pid;
        break;
      case SandboxEvent::Type::Survivor:
        outcome_.survivors.push_back(survivor(event.pid, event.ppid, event.argv));
        break;
      case SandboxEvent::Type::Written:
        outcome_.written.push_back({event.area, event.path, event.mode, event.size});
        break;
      case SandboxEvent::Type::Exited:
        outcome_.command_finished = true;
        outcome_.wait_status = event.wait_status;
        break;
      default:
        break;
    }
  }

  void wait_for_exit() {
    exited_.async_wait(asio::posix::descriptor_base::wait_read, [this](auto ec) {
      if (ec) return;
      // Init has exited: what it sent is still buffered, followed by end of stream.
      while (read_one_message()) {
      }
      // Opens made before the last process exited are queued by now.
      if (decoy_watch_) decoy_watch_->read_events();
      sandbox_.try_reap(&outcome_.usage);
      record_limits_enforced_at_the_end();
      sandbox_.remove_cgroups_in_background();
      gateway_.stop();
      io_.stop();
    });
  }

  void watch_decoys() {
    if (decoys_.empty()) return;
    auto watch = DecoyWatch::start(decoys_, sandbox_.take_watched_files(), sandbox_.init_pid());
    if (!watch) {
      outcome_.decoy_watch = "not watched: " + watch.error().message();
      return;
    }
    outcome_.decoy_watch = watch->has_pids() ? "fanotify" : "inotify";
    decoy_watch_.emplace(std::move(*watch));
    decoy_events_.emplace(io_, ::dup(decoy_watch_->fd()));
    wait_for_decoy_reads();
  }

  void wait_for_decoy_reads() {
    decoy_events_->async_wait(asio::posix::descriptor_base::wait_read, [this](auto ec) {
      if (ec) return;
      decoy_watch_->read_events();
      wait_for_decoy_reads();
    });
  }

  // The notifications are served on a thread of their own (notification_thread.h), which
  // owns the recorder until finish_notifications(). Where the kernel keeps exit statuses on
  // pidfds the recorder reads the exits itself; elsewhere this loop watches for them.
  void serve_notifications() {
    UniqueFd listener = sandbox_.take_notifications();
    if (!listener) return;
    outcome_.recorded = true;
    recorder_.keep_exits(sandbox::pidfd_keeps_exit_status());
    recorder_.sandbox_init(sandbox_.init_pid());
    recorder_.on_exec = [this](std::size_t record, pid_t host_pid, UniqueFd pidfd) {
      auto handle = std::make_shared<UniqueFd>(std::move(pidfd));
      asio::post(io_, [this, record, host_pid, handle] {
        watch_exit(record, host_pid, std::move(*handle));
      });
    };
    notification_thread_.emplace(std::move(listener), recorder_);
  }

  // Init has been reaped: no process uses the filter any more, so the thread ends.
  void finish_notifications() {
    if (!notification_thread_) return;
    notification_thread_->join();
    if (notification_thread_->error() && !outcome_.protocol_error)
      outcome_.protocol_error = notification_thread_->error();
    auto& records = recorder_.tree().records();
    for (const auto& [record, status] : exit_statuses_) record_exit(records[record], status);
  }

  // A pidfd per process that exec'd: readable once it exits, while it is still a zombie and
  // its wait status can be read from /proc. The status is kept for its tree record, which
  // only the notification thread touches until it ends.
  void watch_exit(std::size_t record, pid_t host_pid, UniqueFd pidfd) {
    if (auto watched = exits_.find(host_pid); watched != exits_.end()) {
      // The same process exec'd again: its exit is the latest exec's.
      watched->second.record = record;
      return;
    }
    if (!pidfd) return;
    auto watcher = std::make_unique<asio::posix::stream_descriptor>(io_, pidfd.release());
    watcher->async_wait(asio::posix::descriptor_base::wait_read, [this, host_pid](auto ec) {
      if (ec) return;
      if (auto status = zombie_wait_status(host_pid))
        exit_statuses_.emplace_back(exits_.at(host_pid).record, *status);
      // Erased from outside the handler: the descriptor owns the handler being run.
      asio::post(io_, [this, host_pid] { exits_.erase(host_pid); });
    });
    exits_.emplace(host_pid, ExitWatch{record, std::move(watcher)});
  }

  // Without a delegated cgroup, the tree is sampled from /proc: the peaks for the report,
  // and --memory, --pids and --cpu-time enforced on the whole tree.
  void sample_resources() {
    TreeSample now = sample_tree(sandbox_.init_pid(), limits_.tasks.value_or(UINT64_MAX));
    auto& peak = outcome_.peak;
    peak.tasks = std::max(peak.tasks, now.tasks);
    peak.processes = std::max(peak.processes, now.processes);
    peak.rss_kib = std::max(peak.rss_kib, now.rss_kib);
    peak.cpu_ms = std::max(peak.cpu_ms, now.cpu_ms);
    if (check_limits(now)) return;
    sampler_.expires_after(kSampleInterval);
    sampler_.async_wait([this](auto ec) {
      if (!ec) sample_resources();
    });
  }

  // A limit the kernel enforced through the cgroups, from their counters; empty when none.
  std::string limit_the_kernel_enforced() const {
    if (std::uint64_t killed = sandbox_.memory_kills(); killed > 0 && limits_.memory_bytes)
      return "memory: the kernel killed " + std::to_string(killed) + " process(es) at --memory " +
             mib(*limits_.memory_bytes);
    if (std::uint64_t refused = sandbox_.refused_forks(); refused > 0)
      return "pids: the kernel refused " + std::to_string(refused) + " fork(s) at " +
             (limits_.tasks ? "--pids " + std::to_string(*limits_.tasks)
                            : std::string("the default process limit"));
    return {};
  }

  // After the sandbox ended: what the kernel enforced since the last sample, if nothing was
  // recorded yet (a process killed at the memory limit in between, and the rest exited).
  void record_limits_enforced_at_the_end() {
    if (!outcome_.limits_tripped.empty()) return;
    if (auto enforced = limit_the_kernel_enforced(); !enforced.empty()) {
      outcome_.limits_tripped.push_back(enforced);
      return;
    }
    if (auto staged = staging_ ? staging_->final_check() : std::string(); !staged.empty()) {
      outcome_.staging_limit_tripped = true;
      outcome_.limits_tripped.push_back(staged + " when the sandbox ended");
    }
  }

  // --disk and --files, from the staging filesystems' counters and a walk when they say so.
  std::string staging_limit_passed() {
    std::string passed = staging_ ? staging_->check() : std::string();
    if (!passed.empty()) outcome_.staging_limit_tripped = true;
    return passed;
  }

  // A tree limit the last sample passed; empty when none.
  std::string limit_seen_in_sample(const TreeSample& now) const {
    // Where a memory cgroup holds the tree, the kernel's count is the record: summed RSS also
    // counts shared file pages the cgroup charged elsewhere, and would trip first by a hair.
    if (limits_.memory_bytes && !sandbox_.kernel_holds_memory() &&
        now.rss_kib * 1024 > *limits_.memory_bytes)
      return "memory: the processes used " + mib(now.rss_kib * 1024) + ", over --memory " +
             mib(*limits_.memory_bytes);
    if (limits_.tasks && now.tasks >= *limits_.tasks)
      return "pids: " + std::to_string(now.tasks) + " processes and threads reached --pids " +
             std::to_string(*limits_.tasks);
    if (limits_.cpu_ms && now.cpu_ms > *limits_.cpu_ms)
      return "cpu-time: " + std::to_string(now.cpu_ms) + " ms of CPU, over --cpu-time " +
             std::to_string(*limits_.cpu_ms / 1000) + " s";
    return {};
  }

  // Returns true when a limit tripped and the sandbox was killed.
  bool check_limits(const TreeSample& now) {
    std::string tripped = limit_the_kernel_enforced();
    if (tripped.empty()) tripped = limit_seen_in_sample(now);
    if (tripped.empty()) tripped = staging_limit_passed();
    if (tripped.empty()) return false;
    // Killed at once: listing a fork bomb's processes first would let it grow meanwhile.
    sandbox_.kill_all();
    outcome_.limits_tripped.push_back(tripped + "; every process in the sandbox was killed");
    return true;
  }

  void collect_recording() {
    for (const auto& survivor : outcome_.survivors) {
      if (auto* record = recorder_.tree().find_inner(survivor.pid)) record->survived = true;
    }
    outcome_.processes = recorder_.tree().records();
    outcome_.direct_attempts = recorder_.direct_attempts();
    outcome_.refusals = recorder_.refusals();
    outcome_.write_attempts = recorder_.write_attempts();
    // The argv of a refusal or a direct attempt is named in a violation, not listed: bounded
    // like the others, without a flag.
    for (auto& attempt : outcome_.direct_attempts) bound_argv(attempt.argv);
    for (auto& refusal : outcome_.refusals) bound_argv(refusal.argv);
    for (auto& write : outcome_.write_attempts) bound_argv(write.argv);
    outcome_.notifications = recorder_.notifications();
  }

  void wait_for_interrupts() {
    signals_.async_wait(asio::posix::descriptor_base::wait_read, [this](auto ec) {
      if (ec) return;
      struct signalfd_siginfo info {};
      while (::read(signals_.native_handle(), &info, sizeof info) == sizeof info) interrupt(info);
      wait_for_interrupts();
    });
  }

  void interrupt(const signalfd_siginfo& info) {
    ++outcome_.interrupts;
    if (outcome_.interrupts > 1) {
      outcome_.killed_by_user = true;
      sandbox_.kill_all();
      return;
    }
    if (info.ssi_code != SI_KERNEL) sandbox_.signal(static_cast<int>(info.ssi_signo));
  }

  void start_timer() {
    if (!timeout_) return;
    timer_.expires_after(*timeout_);
    timer_.async_wait([this](auto ec) {
      if (ec) return;
      outcome_.timed_out = true;
      outcome_.survivors = list_sandbox_processes(sandbox_.init_pid());
      sandbox_.kill_all();
    });
  }

  sandbox::RunningSandbox& sandbox_;
  InterruptSignals interrupts_;
  asio::io_context io_;
  asio::posix::stream_descriptor channel_;
  asio::posix::stream_descriptor exited_;
  asio::posix::stream_descriptor signals_;
  asio::steady_timer timer_;
  std::optional<std::chrono::milliseconds> timeout_;
  // Declared after io_: destroyed first, while its handlers' io_context still exists.
  sandbox::EgressGateway gateway_;
  ResourceLimits limits_;
  SyscallRecorder recorder_;
  struct ExitWatch {
    std::size_t record = 0;
    std::unique_ptr<asio::posix::stream_descriptor> pidfd;
  };
  std::map<pid_t, ExitWatch> exits_;
  std::vector<std::pair<std::size_t, int>> exit_statuses_;  // tree record, wait status
  asio::steady_timer sampler_;
  std::optional<StagingWatch> staging_;
  std::vector<WatchedDecoy> decoys_;
  std::optional<DecoyWatch> decoy_watch_;
  std::optional<asio::posix::stream_descriptor> decoy_events_;
  Outcome outcome_;
  // Last: joined first when destroyed, while everything the recorder's callbacks use exists.
  std::optional<NotificationThread> notification_thread_;
};

// The pidfds kept for exits (one per exec'd process still running, read in batches) and the
// gateway's sockets share the supervisor's descriptors: a wide process tree must not leave the
// gateway unable to accept. The soft limit goes up to the hard one; the sandbox was cloned
// before this and keeps the invoker's limits.
void raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
}

}  // namespace

Outcome supervise(sandbox::RunningSandbox& sandbox,
                  std::optional<std::chrono::milliseconds> timeout, const GatewaySettings& gateway,
                  const RecordingSettings& recording) {
  raise_open_file_limit();
  return Supervision(sandbox, timeout, gateway, recording).run();
}

}  // namespace safeinstall::runner
