#include "runner/record/pass_suggestion.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "runner/plan/broad_hosts.h"
#include "runner/record/audit_suggestion.h"
#include "runner/record/expected_globs.h"

namespace safeinstall::runner {
namespace {

// Findings a host or a write setting may answer: a host refused as not allowed, or a DNS
// name outside the profile. Any other suspicious finding is what attacks do.
std::string suspicious_beyond_hosts(const std::vector<Finding>& findings) {
  for (const auto& f : findings) {
    if (!is_suspicious(f)) continue;
    bool host_refusal = (f.kind == FindingKind::refused_egress && f.pid == 0) ||
                        f.kind == FindingKind::unlisted_dns;
    if (!host_refusal) return std::string(to_string(f.kind));
  }
  return {};
}

std::string refusal_beyond_allow_list(const sandbox::NetworkEntries& net) {
  for (const auto& r : net.refused)
    if (r.reason != sandbox::RefusalReason::NotAllowed)
      return "a connection refused as " + std::string(sandbox::to_string(r.reason));
  return {};
}

bool is_lower_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
}

// A name a tool fetches from: lowercase letters, digits, '-' and '.', at least two labels,
// none empty, and no long unhyphenated label of letters and digits, the shape data encoded into a
// name has (`4f2a9c…e1.evil.test`).
bool plain_host_name(const std::string& name) {
  if (name.empty() || name.size() > 253 || name.find('.') == std::string::npos) return false;
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find('.', start);
    if (end == std::string::npos) end = name.size();
    std::string label = name.substr(start, end - start);
    if (label.empty() || label.size() > 63) return false;
    for (char c : label)
      if (!is_lower_alnum(c) && c != '-') return false;
    std::size_t digits = static_cast<std::size_t>(
        std::ranges::count_if(label, [](char c) { return c >= '0' && c <= '9'; }));
    bool words = label.find('-') != std::string::npos;  // prod-eu-west-1, not data
    if (!words && ((label.size() >= 16 && digits >= 2) || label.size() > 24)) return false;
    start = end + 1;
  }
  return true;
}

std::vector<std::string> refused_host_patterns(const sandbox::NetworkEntries& net,
                                               const std::string& suffix_list) {
  std::set<std::string> names;
  std::vector<std::pair<std::string, std::uint16_t>> wanted;
  auto want = [&](const std::string& host, std::uint16_t port) {
    if (!plain_host_name(host)) return;
    names.insert(host);
    wanted.emplace_back(host, port);
  };
  for (const auto& r : net.refused)
    if (r.reason == sandbox::RefusalReason::NotAllowed && r.port != 0) want(r.host, r.port);
  for (const auto& d : net.dns)
    if (!d.allowed && (d.type == "A" || d.type == "AAAA")) want(d.name, 443);
  // A public suffix (github.io) covers every site under it: only --allow-broad would let a
  // pattern for it through, so it is never suggested.
  auto suffixes = suffix_list.empty()
                      ? public_suffixes_among({names.begin(), names.end()})
                      : public_suffixes_among({names.begin(), names.end()}, suffix_list);
  std::set<std::string> patterns;
  for (const auto& [host, port] : wanted)
    if (std::ranges::find(suffixes, host) == suffixes.end())
      patterns.insert(host_pattern_text(host, port));
  return {patterns.begin(), patterns.end()};
}

std::vector<std::string> manifests_beyond_dependencies(const std::vector<ManifestEdit>* edits) {
  std::vector<std::string> files;
  if (edits == nullptr) return files;
  for (const auto& e : *edits)
    if (!e.accepted()) files.push_back(e.file);
  return files;
}

std::string toml_array(const std::vector<std::string>& values) {
  std::string text = "[";
  for (const auto& v : values) text += (text.size() > 1 ? ", " : "") + toml_quoted(v);
  return text + "]";
}

}  // namespace

std::string toml_quoted(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string shell_quoted(const std::string& word) {
  bool plain = !word.empty() && std::ranges::all_of(word, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("._/:@%+=,-").find(c) != std::string_view::npos;
  });
  if (plain) return word;
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::vector<std::string> PassSuggestion::config_lines() const {
  std::vector<std::string> lines;
  if (!expected.empty()) {
    lines.push_back("[files]");
    lines.push_back("expected = " + toml_array(expected));
  }
  if (!allow_hosts.empty()) {
    lines.push_back("[network]");
    lines.push_back("allow = " + toml_array(allow_hosts));
  }
  return lines;
}

std::vector<std::string> PassSuggestion::flags() const {
  std::vector<std::string> out;
  for (const auto& glob : expected) out.push_back("--expect " + shell_quoted(glob));
  for (const auto& host : allow_hosts) out.push_back("--allow-host " + shell_quoted(host));
  return out;
}

PassSuggestion suggest_to_pass(const PassInputs& inputs) {
  PassSuggestion out;
  std::string attack =
      inputs.findings != nullptr ? suspicious_beyond_hosts(*inputs.findings) : std::string();
  if (attack.empty() && inputs.network != nullptr)
    attack = refusal_beyond_allow_list(*inputs.network);
  if (!attack.empty()) {
    out.withheld = "suspicious (" + attack +
                   "): look at the findings; no setting is suggested to let that through";
    return out;
  }
  if (inputs.network != nullptr) {
    auto hosts = refused_host_patterns(*inputs.network, inputs.public_suffix_list);
    if (hosts.size() > kMostHostsSuggested) {
      out.withheld = std::to_string(hosts.size()) +
                     " hosts were refused, too many for a narrow fix: look at the report's "
                     "network.refused and network.dns";
    } else {
      out.allow_hosts = std::move(hosts);
    }
  }
  if (inputs.changes != nullptr)
    out.expected =
        expected_globs_for(*inputs.changes, manifests_beyond_dependencies(inputs.manifests));
  return out;
}

}  // namespace safeinstall::runner
