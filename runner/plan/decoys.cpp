#include "runner/plan/decoys.h"

#include <sys/random.h>

#include <algorithm>
#include <array>

#include "runner/plan/run_plan.h"
#include "runner/profile/decoy_names.h"
#include "sandbox/base/path_text.h"

namespace safeinstall::runner {
namespace {

using sandbox::MountKind;
using sandbox::MountSpec;

constexpr char kUpper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
constexpr char kDigits[] = "0123456789";
constexpr char kAlnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

// `length` characters of `alphabet`, uniformly: random bytes past the last whole multiple
// of the alphabet's size are drawn again.
std::string random_text(std::size_t length, std::string_view alphabet) {
  std::string out;
  const unsigned limit = 256 - 256 % static_cast<unsigned>(alphabet.size());
  while (out.size() < length) {
    std::array<unsigned char, 64> bytes{};
    if (::getrandom(bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) continue;
    for (unsigned char b : bytes) {
      if (b >= limit || out.size() == length) continue;
      out += alphabet[b % alphabet.size()];
    }
  }
  return out;
}

std::string alnum(std::size_t length) {
  return random_text(length, kAlnum);
}

std::string base64_text(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 2]);
    for (std::size_t j = 0; j < 4; ++j)
      out += i + j <= bytes.size() ? kAlphabet[(v >> (18 - 6 * j)) & 0x3f] : '=';
  }
  return out;
}

constexpr std::string_view kNotice =
    "safeinstall decoy: a fake credential made for this run only. A process that reads it, "
    "or sends its value anywhere, is reported.";

Decoy npmrc() {
  std::string core = alnum(36);
  return {"~/.npmrc",
          "# " + std::string(kNotice) + "\n//npm.safeinstall-decoy.invalid/:_authToken=npm_" +
              core + "\n",
          {core},
          {}};
}

Decoy ssh_key() {
  // An OpenSSH key's armour around letters and digits, which base64 allows; the random
  // run in its middle is the value looked for.
  std::string core = alnum(48);
  std::string body =
      "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAABlwAAAAdzc2gtcn" + core + alnum(1600);
  std::string text = "# " + std::string(kNotice) + "\n-----BEGIN OPENSSH PRIVATE KEY-----\n";
  for (std::size_t i = 0; i < body.size(); i += 70) text += body.substr(i, 70) + "\n";
  text += "-----END OPENSSH PRIVATE KEY-----\n";
  return {"~/.ssh/id_rsa", text, {core}, {}};
}

Decoy aws_credentials() {
  std::string key_id = "AKIA" + random_text(16, std::string(kUpper) + kDigits);
  std::string secret = alnum(40);
  return {"~/.aws/credentials",
          "# " + std::string(kNotice) + "\n[default]\naws_access_key_id = " + key_id +
              "\naws_secret_access_key = " + secret + "\n",
          {key_id, secret},
          {}};
}

Decoy gh_hosts() {
  std::string core = alnum(36);
  return {"~/.config/gh/hosts.yml",
          "# " + std::string(kNotice) +
              "\ngithub.com:\n    user: safeinstall-decoy\n    oauth_token: gho_" + core +
              "\n    git_protocol: https\n",
          {core},
          {}};
}

Decoy docker_config() {
  // JSON has no comments: the notice is a field docker ignores.
  std::string core = alnum(27);
  std::string auth = base64_text("safeinstall-decoy:dckr_pat_" + core);
  return {"~/.docker/config.json",
          "{\n  \"_comment\": \"" + std::string(kNotice) +
              "\",\n  \"auths\": {\n    \"https://index.docker.io/v1/\": {\n      \"auth\": \"" +
              auth + "\"\n    }\n  }\n}\n",
          {core},
          {}};
}

Decoy git_credentials() {
  // One URL a line and no comments: the user name says what it is.
  std::string core = alnum(36);
  return {
      "~/.git-credentials", "https://safeinstall-decoy:ghp_" + core + "@github.com\n", {core}, {}};
}

Decoy kube_config() {
  std::string core = alnum(48);
  return {"~/.kube/config",
          "# " + std::string(kNotice) +
              "\napiVersion: v1\nkind: Config\nclusters:\n- name: production\n  cluster:\n"
              "    server: https://k8s.safeinstall-decoy.invalid:6443\n"
              "contexts:\n- name: production\n  context:\n    cluster: production\n"
              "    user: deployer\ncurrent-context: production\nusers:\n- name: deployer\n"
              "  user:\n    token: " +
              core + "\n",
          {core},
          {}};
}

bool is_listed(const std::vector<std::string>& list, const std::string& file) {
  return std::ranges::find(list, file) != list.end();
}

std::string target_in(const RunPlan& plan, const std::string& file) {
  return plan.home + "/" + file.substr(2);
}

}  // namespace

std::vector<Decoy> make_decoys(const std::vector<std::string>& skip) {
  std::vector<Decoy> all = {npmrc(),         ssh_key(),         aws_credentials(), gh_hosts(),
                            docker_config(), git_credentials(), kube_config()};
  std::erase_if(all, [&](const Decoy& d) { return is_listed(skip, d.file); });
  // Every decoy made is one a profile can name.
  std::erase_if(all, [](const Decoy& d) { return !is_decoy_file(d.file); });
  return all;
}

DecoySettings decoy_settings(const ProfileLayer& merged, bool reads_have_pids) {
  DecoySettings settings;
  if (merged.decoys_enabled) settings.enabled = merged.decoys_enabled->value;
  for (const auto& s : merged.decoy_skip) settings.skip.push_back(s.value);
  for (const auto& s : merged.decoy_tool_reads) settings.tool_reads.push_back(s.value);
  settings.reads_have_pids = reads_have_pids;
  return settings;
}

void plan_decoys(RunPlan& plan, const DecoySettings& settings) {
  plan.decoys.clear();
  plan.decoy_tool_reads = settings.tool_reads;
  if (!settings.enabled) return;
  auto skip = settings.skip;
  if (!settings.reads_have_pids) {
    for (const auto& file : settings.tool_reads) {
      if (is_listed(skip, file)) continue;
      skip.push_back(file);
      plan.profile_notes.push_back("decoys: no " + file +
                                   " decoy (read by the tool itself, and without privileges a "
                                   "read cannot be told from a script's)");
    }
  }
  for (auto& decoy : make_decoys(skip)) {
    const std::string target = target_in(plan, decoy.file);
    auto& mounts = plan.spec.mounts;
    auto at = std::ranges::find_if(mounts, [&](const MountSpec& m) { return m.target == target; });
    if (at != mounts.end() && at->kind != MountKind::FileContent) {
      plan.profile_notes.push_back("decoys: no " + decoy.file + " decoy (your own file is there)");
      continue;
    }
    // Inside a directory shown from the host (a read-only toolchain or `readonly` path) there
    // is no place to make the decoy's mount point, and the directory is the invoker's own.
    if (std::ranges::any_of(mounts, [&](const MountSpec& m) {
          return m.target != plan.home && is_within(m.target, plan.home) && m.target != target &&
                 is_within(target, m.target);
        })) {
      plan.profile_notes.push_back("decoys: no " + decoy.file +
                                   " decoy (its directory is shown from the host)");
      continue;
    }
    if (at != mounts.end()) {
      // A sanitized copy of the invoker's file: the decoy's lines follow its settings.
      decoy.content = at->content + (at->content.ends_with('\n') ? "" : "\n") + decoy.content;
      mounts.erase(at);
    }
    plan.decoys.push_back(std::move(decoy));
  }
}

void place_decoys(RunPlan& plan) {
  if (plan.decoys.empty()) return;
  for (auto& decoy : plan.decoys) {
    decoy.target = target_in(plan, decoy.file);
    MountSpec mount{MountKind::FileContent, decoy.target, {}};
    mount.content = decoy.content;
    mount.watched = true;
    plan.spec.mounts.push_back(std::move(mount));
  }
  plan.gateway.decoys = decoy_values(plan.decoys);
  std::ranges::stable_sort(plan.spec.mounts, {},
                           [](const MountSpec& m) { return std::ranges::count(m.target, '/'); });
}

void mask_decoy_values(std::string& text, const std::vector<Decoy>& decoys) {
  for (const auto& decoy : decoys) {
    const std::string mark = "[decoy:" + decoy.file + "]";
    for (const auto& core : decoy.cores) {
      // As it is, and lowercased as a host or DNS name carries it.
      std::string lower = core;
      std::ranges::transform(lower, lower.begin(), [](unsigned char c) {
        return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
      });
      for (const auto& value : {core, lower}) {
        for (auto at = text.find(value); at != std::string::npos;
             at = text.find(value, at + mark.size()))
          text.replace(at, value.size(), mark);
      }
    }
  }
}

std::vector<sandbox::DecoyValue> decoy_values(const std::vector<Decoy>& decoys) {
  std::vector<sandbox::DecoyValue> values;
  for (const auto& d : decoys) {
    for (const auto& core : d.cores) values.push_back({d.file, core});
  }
  return values;
}

}  // namespace safeinstall::runner
