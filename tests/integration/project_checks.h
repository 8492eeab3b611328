#pragma once
// What the tests that run whole installs check again and again: files written into a
// scenario's project on the host, the project's state afterwards, and the report's change
// lists, violations and network records.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace safeinstall::test {

// Held because a finding of medium severity or above says the run did what attacks do.
inline constexpr int kExitSuspicious = 121;
inline constexpr int kExitHeld = 122;
inline constexpr int kExitRejected = 123;

// No proxy of the invoker's leaks into the run, and a held run is never asked about.
extern const std::vector<std::string> kCleanCiEnv;

// A file in the project written on the host, owned (with its new parents) by the scenario's user.
void host_write(const Scenario& s, const std::string& relative, const std::string& content);
std::string project_file(const Scenario& s, const std::string& relative);
bool in_project(const Scenario& s, const std::string& relative);

// `safeinstall ARGS...` (a subcommand), as the scenario's user with its environment, in CI mode.
RunResult subcommand(const Scenario& s, const std::vector<std::string>& args);

// The entry of a report change list (files.project / files.home / files.tmp) for `path`.
const nlohmann::json* change_at(const nlohmann::json& list, const std::string& path);
bool has_flag(const nlohmann::json* entry, const std::string& flag);
std::string category_of(const nlohmann::json* entry);

// Violations of one kind, and the `detail` of each.
std::vector<nlohmann::json> violations_of_kind(const nlohmann::json& report,
                                               const std::string& kind);
// The report's findings of one kind ("persistence", "direct-connect"…).
std::vector<nlohmann::json> findings_of_kind(const nlohmann::json& report, const std::string& kind);
// The report's packages.added entry for this ecosystem ("npm", "crates.io"…) and name, or
// null: what the run's lockfile says it brought in.
const nlohmann::json* added_package(const nlohmann::json& report, const std::string& ecosystem,
                                    const std::string& name);
// network.refused entries whose host contains `host`.
std::vector<nlohmann::json> refused_hosts(const nlohmann::json& report, const std::string& host);
// network.contacted entries whose host contains `host`.
std::vector<nlohmann::json> contacted_hosts(const nlohmann::json& report, const std::string& host);

bool contains(const std::string& text, const std::string& needle);

// `safeinstall --allow-host registry.test:80 FLAGS -- npm ARGS --registry http://registry.test/`
// (without audit, fund and update-notifier chatter), in CI mode: the real npm against the
// registry of the scenario's fake internet.
SandboxRun run_npm(const Scenario& s, const std::vector<std::string>& args,
                   const std::vector<std::string>& flags = {});
// package.json of a project named demo with these dependencies ("\"a\":\"1.0.0\"").
void write_package_json(const Scenario& s, const std::string& dependencies);

class FakeInternet;
// What every hostile-install test checks after a package phoned home to evil.test and
// appended to ~/.bashrc: `refusals` gateway refusals of evil.test recorded, the plant recorded
// with the persistence flag, and nothing of it left the machine (no DNS query for the name,
// nothing at the sink).
void check_exfiltration_contained(const SandboxRun& run, const FakeInternet& net,
                                  std::size_t refusals);

// Why a whole-install test cannot run here (no fake internet, a client missing), or nullopt.
std::optional<std::string> install_test_unavailable(const std::vector<std::string>& tools);

}  // namespace safeinstall::test

// Skips (with the reason printed) when the sandbox, the fake internet or a tool is missing.
#define SKIP_UNLESS_INSTALL_TEST(who, ...)                                                     \
  SKIP_UNLESS_SANDBOX(who);                                                                    \
  do {                                                                                         \
    if (auto install_reason_ = ::safeinstall::test::install_test_unavailable({__VA_ARGS__})) { \
      WARN("skipped: " << *install_reason_);                                                   \
      return;                                                                                  \
    }                                                                                          \
  } while (false)
