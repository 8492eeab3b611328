#pragma once
// The exact change that would have let a held run pass: the `.safeinstall.toml` lines and
// the equivalent flags, for unexpected project writes (`[files] expected`, `--expect`) and for
// hosts the gateway refused as not allowed (`[network] allow`, `--allow-host`).
//
// Nothing is suggested for a run held as suspicious for what attacks do — a connect straight
// to an address, a private address or a name other than the one dialled, a persistence plant,
// a decoy read or exfiltration, a typosquat…: no setting should let that through, and the
// suggestion says so instead. A refused host is suggested only when it looks like a host a
// tool would fetch from (a plain name, not one made of encoded data, never a public suffix
// such as `github.io` that only --allow-broad could allow), and only while few were refused.

#include <string>
#include <vector>

#include "runner/finding.h"
#include "runner/staging/change_list.h"
#include "runner/staging/manifest_edit.h"
#include "sandbox/egress/network_record.h"

namespace safeinstall::runner {

// Hosts refused, past which none is suggested: a run that asked for many is not a tool
// fetching its binary, and allowing them all would not be a narrow fix.
inline constexpr std::size_t kMostHostsSuggested = 8;

struct PassSuggestion {
  std::vector<std::string> allow_hosts;  // as [network] allow and --allow-host take them
  std::vector<std::string> expected;     // as [files] expected and --expect take them
  // Why nothing (or not every host) is suggested; empty when nothing was withheld.
  std::string withheld;

  bool empty() const { return allow_hosts.empty() && expected.empty(); }
  // The .safeinstall.toml lines: `[files]`, `expected = ["dist/**"]`, `[network]`, ….
  std::vector<std::string> config_lines() const;
  // The flags, each quoted for a POSIX shell: `--expect 'dist/**'`, `--allow-host github.com`.
  std::vector<std::string> flags() const;
};

struct PassInputs {
  const ChangeList* changes = nullptr;  // categorized; null: no writes suggested
  const std::vector<ManifestEdit>* manifests = nullptr;
  const sandbox::NetworkEntries* network = nullptr;
  const std::vector<Finding>* findings = nullptr;
  std::string public_suffix_list;  // for tests; empty: Debian's copy
};

PassSuggestion suggest_to_pass(const PassInputs& inputs);

// `text` as a TOML basic string: "dist/**".
std::string toml_quoted(const std::string& text);
// `word` as one POSIX shell word, quoted only when it needs to be.
std::string shell_quoted(const std::string& word);

}  // namespace safeinstall::runner
