#include "runner/supervisor.h"

#include <sys/signalfd.h>
#include <sys/stat.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>

#include "sandbox/egress_gateway.h"
#include "sandbox/fd.h"

namespace safeinstall::runner {
namespace {

namespace asio = boost::asio;
using sandbox::SandboxEvent;
using sandbox::UniqueFd;

constexpr int kInterruptSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

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

std::vector<std::string> read_argv(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::vector<std::string> argv;
  std::string arg;
  while (std::getline(in, arg, '\0') && argv.size() < 64) argv.push_back(arg);
  return argv;
}

// "NSpid:\t5808\t2": the last field is the pid inside the innermost namespace.
pid_t inner_pid(pid_t host_pid, pid_t* host_ppid) {
  std::ifstream in("/proc/" + std::to_string(host_pid) + "/status");
  std::string line;
  pid_t inner = 0;
  while (std::getline(in, line)) {
    if (host_ppid != nullptr && line.starts_with("PPid:")) *host_ppid = std::stoi(line.substr(5));
    if (!line.starts_with("NSpid:")) continue;
    auto last = line.find_last_of(" \t");
    inner = std::stoi(line.substr(last + 1));
  }
  return inner;
}

// From the host, a timed-out sandbox's processes are those in init's pid namespace; they
// are recorded with the pids they had inside, as the sandbox would have reported them.
std::vector<SandboxProcess> list_sandbox_processes(pid_t init) {
  std::vector<SandboxProcess> found;
  struct stat ns {};
  if (::stat(("/proc/" + std::to_string(init) + "/ns/pid").c_str(), &ns) != 0) return found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = std::stoi(name);
    struct stat other {};
    if (pid == init || ::stat(("/proc/" + name + "/ns/pid").c_str(), &other) != 0) continue;
    if (other.st_ino != ns.st_ino || other.st_dev != ns.st_dev) continue;
    pid_t host_ppid = 0;
    pid_t inner = inner_pid(pid, &host_ppid);
    pid_t inner_parent = host_ppid == init ? 1 : inner_pid(host_ppid, nullptr);
    found.push_back({inner, inner_parent, read_argv(pid)});
  }
  return found;
}

class Supervision {
 public:
  Supervision(sandbox::RunningSandbox& sandbox, std::optional<std::chrono::milliseconds> timeout,
              const GatewaySettings& gateway)
      : sandbox_(sandbox),
        channel_(io_, ::dup(sandbox.channel())),
        exited_(io_, ::dup(sandbox.pidfd())),
        signals_(io_, ::dup(interrupts_.fd())),
        timer_(io_),
        timeout_(timeout),
        gateway_(io_, gateway.policy, gateway.options) {
    const auto& first = sandbox.first_event();
    if (first.type == SandboxEvent::Type::ExecFailed) {
      outcome_.exec_failed = true;
      outcome_.exec_errno = first.err;
    } else {
      outcome_.command_pid = first.pid;
    }
  }

  Outcome run() {
    if (auto listeners = sandbox_.take_gateway_listeners()) {
      if (auto served = gateway_.serve(std::move(*listeners)); !served)
        outcome_.protocol_error = "egress gateway: " + served.error().message();
    }
    wait_for_messages();
    wait_for_exit();
    wait_for_interrupts();
    start_timer();
    io_.run();
    outcome_.network = gateway_.record().to_json();
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
      case SandboxEvent::Type::Survivor:
        outcome_.survivors.push_back({event.pid, event.ppid, event.argv});
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
      sandbox_.try_reap(&outcome_.usage);
      gateway_.stop();
      io_.stop();
    });
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
  Outcome outcome_;
};

}  // namespace

Outcome supervise(sandbox::RunningSandbox& sandbox, std::optional<std::chrono::milliseconds> timeout,
                  const GatewaySettings& gateway) {
  return Supervision(sandbox, timeout, gateway).run();
}

}  // namespace safeinstall::runner
