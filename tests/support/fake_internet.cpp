#include "tests/support/fake_internet.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <atomic>
#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/io.hpp>
#include <boost/process/pipe.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/support/run.h"
#include "tests/support/temp_dir.h"

namespace safeinstall::test {
namespace {

namespace bp = boost::process;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr auto kServerStartTimeout = 10s;
constexpr auto kServerStopTimeout = 3s;
constexpr auto kIpTimeout = std::chrono::milliseconds(20000);

std::string unique_suffix() {
  static std::atomic<int> counter{0};
  return std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

std::string ip_binary() {
  std::string ip = which("ip");
  if (ip.empty()) throw std::runtime_error("fake internet: iproute2's `ip` is not installed");
  return ip;
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& word : words) out += (out.empty() ? "" : " ") + word;
  return out;
}

// `ip args...`; returns the failure as text (empty on success) for callers that can go on.
std::string try_ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv{ip_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  RunOptions options;
  options.timeout = kIpTimeout;
  RunResult result = run(argv, options);
  if (result.exit_code == 0) return {};
  std::string reason = "`ip " + join(args) + "` failed (exit " + std::to_string(result.exit_code) +
                       "): " + result.err;
  while (!reason.empty() && reason.back() == '\n') reason.pop_back();
  return reason;
}

void ip(const std::vector<std::string>& args) {
  if (auto failure = try_ip(args); !failure.empty())
    throw std::runtime_error("fake internet: " + failure);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// A network namespace registered under /run/netns; deleted, with its interfaces, on scope exit.
class Namespace {
 public:
  explicit Namespace(std::string name) : name_(std::move(name)) { ip({"netns", "add", name_}); }
  ~Namespace() {
    try {
      try_ip({"netns", "del", name_});
    } catch (...) {
      // Nothing to report to from a destructor; a leftover shows in `ip netns list`.
    }
  }
  Namespace(const Namespace&) = delete;
  Namespace& operator=(const Namespace&) = delete;
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

// Files `ip netns exec <name>` bind-mounts over /etc inside the namespace: the only way to
// give the world its own resolv.conf without touching the host's.
class EtcOverlay {
 public:
  explicit EtcOverlay(const std::string& netns) : dir_("/etc/netns/" + netns) {
    fs::create_directories(dir_);
  }
  ~EtcOverlay() {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);  // /etc/netns itself stays: other runs may be using it
  }
  EtcOverlay(const EtcOverlay&) = delete;
  EtcOverlay& operator=(const EtcOverlay&) = delete;

  void write(const std::string& name, const std::string& content) const {
    std::ofstream out(dir_ / name);
    out << content;
    if (!out) throw std::runtime_error("fake internet: cannot write " + (dir_ / name).string());
  }

 private:
  fs::path dir_;
};

// The servers must not outlive a test process that was killed outright.
struct DieWithParent : bp::extend::handler {
  template <typename Executor>
  void on_exec_setup(Executor&) const {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  }
};

// One of the fake internet's servers (si-sink, si-fake-dns, ...), started through
// `ip netns exec`, ready once it printed "ready"; stopped with SIGTERM (then SIGKILL) on scope
// exit.
class ServerProcess {
 public:
  ServerProcess(std::string name, const std::vector<std::string>& argv,
                const std::string& stderr_path)
      : name_(std::move(name)) {
    std::vector<std::string> args(argv.begin() + 1, argv.end());
    // Not inherited by commands the test starts later: they must not hold the server's stdout.
    ::fcntl(stdout_.native_source(), F_SETFD, FD_CLOEXEC);
    // clang-format off
    child_ = bp::child(bp::exe = argv[0], bp::args = args, bp::std_in < bp::null,
                       bp::std_out > stdout_, bp::std_err > fs::path(stderr_path),
                       DieWithParent());
    // clang-format on
    wait_until_ready(stderr_path);
  }
  ~ServerProcess() { stop(); }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

 private:
  void wait_until_ready(const std::string& stderr_path) {
    auto deadline = std::chrono::steady_clock::now() + kServerStartTimeout;
    std::string said;
    while (said.find("ready\n") == std::string::npos) {
      auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) fail("did not say ready within 10 s", stderr_path);
      pollfd p{stdout_.native_source(), POLLIN, 0};
      int r = ::poll(&p, 1, static_cast<int>(left.count()));
      if (r <= 0) continue;  // EINTR or timeout: the loop head decides
      char buffer[256];
      ssize_t n = ::read(stdout_.native_source(), buffer, sizeof buffer);
      if (n == 0) fail("exited before it was ready", stderr_path);
      if (n > 0) said.append(buffer, static_cast<size_t>(n));
    }
  }

  [[noreturn]] void fail(const std::string& what, const std::string& stderr_path) {
    stop();
    throw std::runtime_error("fake internet: the " + name_ + " " + what + ": " +
                             read_text(stderr_path));
  }

  // The error_code overloads: this runs from the destructor and must not throw.
  bool running() {
    std::error_code ignored;
    return child_.valid() && child_.running(ignored);
  }

  void stop() {
    if (!running()) return;
    ::kill(child_.id(), SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + kServerStopTimeout;
    while (running() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(10ms);
    if (running()) ::kill(child_.id(), SIGKILL);
    std::error_code ignored;
    child_.wait(ignored);
  }

  std::string name_;
  bp::pipe stdout_;
  bp::child child_;
};

std::vector<std::string> netns_exec(const std::string& ns, std::vector<std::string> argv) {
  std::vector<std::string> command{ip_binary(), "netns", "exec", ns};
  command.insert(command.end(), std::make_move_iterator(argv.begin()),
                 std::make_move_iterator(argv.end()));
  return command;
}

// Network sysctls are per namespace; setting them from inside one changes only that one.
void sysctl_in(const std::string& ns, const std::vector<std::string>& settings) {
  std::vector<std::string> argv{"sysctl", "-q", "-w"};
  argv.insert(argv.end(), settings.begin(), settings.end());
  RunResult result = run(netns_exec(ns, argv));
  if (result.exit_code != 0)
    throw std::runtime_error("fake internet: `sysctl -w " + join(settings) + "` in " + ns +
                             " failed: " + result.err);
}

void wire_world(const std::string& world, const std::string& internet) {
  ip({"-n", world, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns",
      internet});
  for (const auto& ns : {world, internet}) ip({"-n", ns, "link", "set", "lo", "up"});
  ip({"-n", world, "addr", "add", std::string(FakeInternet::kWorldAddress) + "/24", "dev", "eth0"});
  ip({"-n", internet, "addr", "add", std::string(FakeInternet::kGatewayAddress) + "/24", "dev",
      "eth0"});
  for (const auto& ns : {world, internet}) ip({"-n", ns, "link", "set", "eth0", "up"});
  ip({"-n", world, "route", "add", "default", "via", FakeInternet::kGatewayAddress});
  // On a loopback device the kernel makes the whole prefix local, not only the address.
  ip({"-n", internet, "addr", "add", std::string(FakeInternet::kInternetAddress) + "/24", "dev",
      "lo"});
  for (const char* address :
       {FakeInternet::kRegistryAddress, FakeInternet::kDnsAddress, FakeInternet::kSinkAddress,
        FakeInternet::kUpstreamProxyAddress, FakeInternet::kMetadataAddress})
    ip({"-n", internet, "addr", "add", std::string(address) + "/32", "dev", "lo"});
  // Anything else the world dials ends here, refused at once rather than timing out: an
  // unreachable route only answers with ICMP when the namespace forwards, and ICMP errors are
  // rate-limited (1/s per peer) unless told otherwise. Forwarding cannot take a packet
  // anywhere: the only other interface is the veth back to the world.
  ip({"-n", internet, "route", "add", "unreachable", "default"});
  sysctl_in(internet, {"net.ipv4.ip_forward=1", "net.ipv4.icmp_ratelimit=0"});
}

// Best effort: a kernel with IPv6 disabled still gets a working IPv4 internet. nodad, because
// duplicate address detection would leave the addresses unusable ("tentative") for a second
// or two, and nothing else is on the link to clash with.
bool wire_world_ipv6(const std::string& world, const std::string& internet) {
  std::vector<std::vector<std::string>> steps = {
      {"-n", world, "-6", "addr", "add", std::string(FakeInternet::kWorldAddress6) + "/64", "dev",
       "eth0", "nodad"},
      {"-n", internet, "-6", "addr", "add", "2001:db8:1::1/64", "dev", "eth0", "nodad"},
      {"-n", internet, "-6", "addr", "add", std::string(FakeInternet::kRegistryAddress6) + "/128",
       "dev", "lo", "nodad"},
      {"-n", internet, "-6", "addr", "add", std::string(FakeInternet::kSinkAddress6) + "/128",
       "dev", "lo", "nodad"},
      {"-n", world, "-6", "route", "add", "default", "via", "2001:db8:1::1"},
      {"-n", internet, "-6", "route", "add", "unreachable", "default"},
  };
  for (const auto& step : steps) {
    if (!try_ip(step).empty()) return false;
  }
  sysctl_in(internet, {"net.ipv6.conf.all.forwarding=1", "net.ipv6.icmp.ratelimit=0"});
  return true;
}

std::optional<std::string> probe_support() {
  if (!running_as_root()) return "building network namespaces with `ip netns` needs root";
  if (which("ip").empty()) return "iproute2's `ip` is not installed";
  if (which("sysctl").empty()) return "procps' `sysctl` is not installed";
  std::string name = "si-check-" + unique_suffix();
  if (auto failure = try_ip({"netns", "add", name}); !failure.empty()) return failure;
  std::optional<std::string> reason;
  RunResult exec = run(netns_exec(name, {"true"}));
  if (exec.exit_code != 0) {
    reason = "`ip netns exec` does not work here: " + exec.err;
  } else if (auto failure =
                 try_ip({"-n", name, "link", "add", "si0", "type", "veth", "peer", "name", "si1"});
             !failure.empty()) {
    reason = "no veth pairs: " + failure;
  }
  try_ip({"netns", "del", name});
  return reason;
}

}  // namespace

// Members in construction order: if a step throws, what was built so far is torn down in
// reverse, and the destructor does the same for a complete one.
struct FakeInternet::State {
  TempDir dir{"si-fake-internet"};
  // What the registry serves as static files; open to everyone, as a test may hand it to an
  // unprivileged user to write into.
  TempDir registry_root{"si-registry-root"};
  std::string suffix = unique_suffix();
  Namespace world{"si-world-" + suffix};
  Namespace internet{"si-inet-" + suffix};
  EtcOverlay world_etc{world.name()};
  bool ipv6 = false;
  // Started in this order, before anything runs in the world; stopped in reverse.
  std::optional<ServerProcess> sink;
  std::optional<ServerProcess> dns;
  std::optional<ServerProcess> registry;
  std::optional<ServerProcess> upstream_proxy;
  std::optional<ServerProcess> metadata;
  std::optional<ServerProcess> world_loopback;

  std::string log_path(Log which) const {
    switch (which) {
      case Log::Sink:
        return dir.path() + "/sink.log";
      case Log::Dns:
        return dir.path() + "/dns.log";
      case Log::Registry:
        return dir.path() + "/registry.log";
      case Log::UpstreamProxy:
        return dir.path() + "/upstream-proxy.log";
      case Log::Metadata:
        return dir.path() + "/metadata.log";
      case Log::WorldLoopback:
        return dir.path() + "/world-loopback.log";
    }
    return {};
  }
};

namespace {

// NAME=ADDRESS for the DNS server's --answer and the upstream proxy's --map.
const std::vector<std::pair<std::string, std::string>>& fake_names() {
  static const std::vector<std::pair<std::string, std::string>> names = {
      {FakeInternet::kRegistryName, FakeInternet::kRegistryAddress},
      {FakeInternet::kOtherName, FakeInternet::kRegistryAddress},
      {FakeInternet::kEvilName, FakeInternet::kSinkAddress},
      {FakeInternet::kProxyName, FakeInternet::kUpstreamProxyAddress},
      {FakeInternet::kMetadataName, FakeInternet::kMetadataAddress},
      {FakeInternet::kLoopbackName, "127.0.0.1"},
  };
  return names;
}

}  // namespace

std::optional<std::string> FakeInternet::unavailable_reason() {
  static const std::optional<std::string> reason = probe_support();
  return reason;
}

FakeInternet::FakeInternet(std::string sink_binary) : state_(std::make_unique<State>()) {
  State& s = *state_;
  fs::permissions(s.registry_root.path(), fs::perms::all, fs::perm_options::replace);
  fs::permissions(s.registry_root.path(), fs::perms::others_write | fs::perms::group_write,
                  fs::perm_options::remove);
  wire_world(s.world.name(), s.internet.name());
  s.ipv6 = wire_world_ipv6(s.world.name(), s.internet.name());
  s.world_etc.write("resolv.conf", std::string("nameserver ") + kDnsAddress + "\n");
  auto err = [&s](const std::string& name) { return s.dir.path() + "/" + name + ".err"; };

  std::vector<std::string> sink{sink_binary, "--log", s.log_path(Log::Sink), "--bind",
                                kSinkAddress};
  if (s.ipv6) sink.insert(sink.end(), {"--bind", kSinkAddress6});
  for (int port : kSinkTcpPorts) sink.insert(sink.end(), {"--tcp", std::to_string(port)});
  for (int port : kSinkUdpPorts) sink.insert(sink.end(), {"--udp", std::to_string(port)});
  s.sink.emplace("sink", in_internet(sink), err("sink"));

  std::vector<std::string> dns{SI_FAKE_DNS_PATH, "--log", s.log_path(Log::Dns), "--bind",
                               kDnsAddress};
  std::vector<std::string> proxy{
      SI_UPSTREAM_PROXY_PATH, "--log",  s.log_path(Log::UpstreamProxy),    "--bind",
      kUpstreamProxyAddress,  "--port", std::to_string(kUpstreamProxyPort)};
  for (const auto& [name, address] : fake_names()) {
    dns.insert(dns.end(), {"--answer", name + "=" + address});
    proxy.insert(proxy.end(), {"--map", name + "=" + address});
  }
  s.dns.emplace("DNS server", in_internet(dns), err("dns"));
  s.registry.emplace(
      "registry",
      in_internet({SI_REGISTRY_PATH, "--log", s.log_path(Log::Registry), "--bind", kRegistryAddress,
                   "--http", "80", "--banner", "443", "--root", s.registry_root.path()}),
      err("registry"));
  s.upstream_proxy.emplace("upstream proxy", in_internet(proxy), err("upstream-proxy"));
  s.metadata.emplace("metadata stand-in",
                     in_internet({sink_binary, "--log", s.log_path(Log::Metadata), "--bind",
                                  kMetadataAddress, "--tcp", "80"}),
                     err("metadata"));
  s.world_loopback.emplace("world-loopback sink",
                           in_world({sink_binary, "--log", s.log_path(Log::WorldLoopback), "--bind",
                                     "127.0.0.1", "--tcp", "80", "--tcp", "443"}),
                           err("world-loopback"));
}

FakeInternet::~FakeInternet() = default;

std::vector<std::string> FakeInternet::in_world(std::vector<std::string> argv) const {
  return netns_exec(state_->world.name(), std::move(argv));
}

std::vector<std::string> FakeInternet::in_internet(std::vector<std::string> argv) const {
  return netns_exec(state_->internet.name(), std::move(argv));
}

std::string FakeInternet::log(Log which) const {
  return read_text(state_->log_path(which));
}

bool FakeInternet::wait_for_log(Log which, const std::string& needle,
                                std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (log(which).find(needle) != std::string::npos) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

std::string FakeInternet::sink_log() const {
  return log(Log::Sink);
}

bool FakeInternet::wait_for_sink_log(const std::string& needle,
                                     std::chrono::milliseconds timeout) const {
  return wait_for_log(Log::Sink, needle, timeout);
}

const std::string& FakeInternet::world_netns() const {
  return state_->world.name();
}
const std::string& FakeInternet::internet_netns() const {
  return state_->internet.name();
}
const std::string& FakeInternet::registry_root() const {
  return state_->registry_root.path();
}
bool FakeInternet::has_ipv6() const {
  return state_->ipv6;
}

}  // namespace safeinstall::test
