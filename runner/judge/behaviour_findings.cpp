#include "runner/judge/behaviour_findings.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "runner/fs/fs_tree.h"
#include "runner/record/redact.h"
#include "runner/record/written_areas.h"
#include "sandbox/base/path_text.h"

namespace safeinstall::runner {
namespace {

std::string who(const std::vector<std::string>& argv, pid_t pid) {
  return argv.empty() ? "pid " + std::to_string(pid) : shown_command(argv);
}

std::string by_package(const std::string& package) {
  return package.empty() ? std::string() : " (" + package + ")";
}

void direct_attempts(const Outcome& outcome, std::vector<Finding>& out) {
  for (const auto& a : outcome.direct_attempts) {
    Finding f;
    f.kind = a.kind == AttemptKind::unix_socket ? FindingKind::refused_egress
                                                : FindingKind::direct_connect;
    f.severity = Severity::high;
    f.package = a.package;
    f.pid = a.pid;
    f.detail = a.kind == AttemptKind::unix_socket
                   ? a.call + " to the host's unix socket " + a.address + " by " +
                         who(a.argv, a.pid) + by_package(a.package)
                   : a.call + " straight to " + a.address + ":" + std::to_string(a.port) +
                         " (not through the gateway) by " + who(a.argv, a.pid) +
                         by_package(a.package);
    out.push_back(std::move(f));
  }
}

Severity refusal_severity(sandbox::RefusalReason reason) {
  switch (reason) {
    case sandbox::RefusalReason::PrivateAddress:
    case sandbox::RefusalReason::SniMismatch:
      return Severity::high;
    default:
      return Severity::medium;
  }
}

void gateway_refusals(const sandbox::NetworkEntries& net, std::vector<Finding>& out) {
  for (const auto& r : net.refused) {
    std::string host = r.host.empty() ? std::string("(no host named)") : r.host;
    out.push_back({FindingKind::refused_egress,
                   refusal_severity(r.reason),
                   "connection to " + host + ":" + std::to_string(r.port) + " refused (" +
                       std::string(sandbox::to_string(r.reason)) + ", " + std::to_string(r.count) +
                       "×)",
                   {},
                   {},
                   0});
  }
  for (const auto& d : net.dns) {
    if (d.allowed) continue;
    out.push_back(
        {FindingKind::unlisted_dns,
         Severity::medium,
         "DNS lookup of " + d.name + " (" + d.type + "), a name outside the profile's hosts",
         {},
         {},
         0});
  }
}

void persistence_plants(const RunRecord& record, std::vector<Finding>& out) {
  if (!record.outcome || !record.plan) return;
  for (const auto& w : written_in_area(record.outcome->written, "home", *record.plan)) {
    if (S_ISDIR(w.mode) || !is_persistence_path(w.path)) continue;
    out.push_back({FindingKind::persistence,
                   Severity::high,
                   "~/" + w.path +
                       " was written in the throwaway home: a place code is run from later "
                       "(discarded with the home, never promoted)",
                   {},
                   w.path,
                   0});
  }
}

void protected_writes(const RunRecord& record, std::vector<Finding>& out) {
  if (!record.staging) return;
  for (const auto& c : record.staging->changes.changes) {
    if (c.category != Category::protected_) continue;
    // A directory made to hold protected files is not a finding of its own: the files are.
    if (c.type == EntryType::dir && c.change != ChangeKind::deleted) continue;
    out.push_back({FindingKind::protected_write,
                   Severity::high,
                   std::string(to_string(c.change)) + " " + c.path + ", a protected path",
                   {},
                   c.path.str(),
                   0});
  }
}

// A local dependency outside the project is shown read-only: the write failed (EROFS), but
// a package that tried to change a sibling project's files is named all the same. One by no
// package's process (npm's own chmod of a linked package's bin) is recorded as low: the tool
// saw the error and says so itself.
void read_only_writes(const Outcome& outcome, std::vector<Finding>& out) {
  for (const auto& w : outcome.write_attempts) {
    out.push_back({FindingKind::refused_write, w.package.empty() ? Severity::low : Severity::high,
                   w.call + " of " + w.path +
                       " refused (EROFS): a local dependency outside the project, read-only, by " +
                       who(w.argv, w.pid) + by_package(w.package),
                   w.package, w.path, w.pid});
  }
}

const ProcessRecord* recorded(const Outcome& outcome, pid_t pid) {
  for (auto it = outcome.processes.rbegin(); it != outcome.processes.rend(); ++it)
    if (it->pid == pid) return &*it;
  return nullptr;
}

void survivors_and_refusals(const Outcome& outcome, std::vector<Finding>& out) {
  for (const auto& s : outcome.survivors) {
    const auto* self = recorded(outcome, s.pid);
    std::string package = self != nullptr ? self->package : std::string();
    out.push_back({FindingKind::survivor,
                   Severity::medium,
                   who(s.argv, s.pid) + " outlived the command" + by_package(package),
                   package,
                   {},
                   s.pid});
  }
  for (const auto& r : outcome.refusals) {
    bool script = r.kind == RefusalKind::script;
    out.push_back({script ? FindingKind::unlisted_script : FindingKind::refused_syscall,
                   script ? Severity::medium : Severity::high,
                   script ? r.what + ", an install script outside --scripts, was refused"
                          : r.what + " refused: " + who(r.argv, r.pid) + by_package(r.package),
                   r.package,
                   {},
                   r.pid});
  }
}

bool is_shell(const std::string& program) {
  static const std::set<std::string> kShells{"sh", "bash", "dash", "zsh", "ash", "ksh"};
  return kShells.count(leaf_of(program)) > 0;
}

bool is_fetcher(const std::string& program) {
  auto leaf = leaf_of(program);
  return leaf == "curl" || leaf == "wget";
}

std::string url_basename(const std::string& arg) {
  auto scheme = arg.find("://");
  if (scheme == std::string::npos) return {};
  auto end = arg.find_first_of("?#", scheme + 3);
  std::string path = arg.substr(scheme + 3, end == std::string::npos ? end : end - scheme - 3);
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos || slash + 1 == path.size()) return {};
  return path.substr(slash + 1);
}

bool is_short_cluster(const std::string& arg) {
  return arg.size() >= 2 && arg[0] == '-' && arg[1] != '-';
}

// Where curl or wget was told to write what it fetched (relative paths as given): curl's
// -o FILE / --output FILE / -O (named after the URL), wget's -O FILE /
// --output-document=FILE or, by default, the URL's last segment.
std::vector<std::string> fetch_outputs(const std::vector<std::string>& argv) {
  bool curl = leaf_of(argv[0]) == "curl";
  const char named_flag = curl ? 'o' : 'O';
  const std::string long_flag = curl ? "--output" : "--output-document";
  std::vector<std::string> outputs;
  bool remote_name = false;
  std::string last_url;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == long_flag) {
      if (i + 1 < argv.size()) outputs.push_back(argv[++i]);
    } else if (a.rfind(long_flag + "=", 0) == 0) {
      outputs.push_back(a.substr(long_flag.size() + 1));
    } else if (curl && a == "--remote-name") {
      remote_name = true;
    } else if (is_short_cluster(a)) {
      // "-sLo FILE", "-oFILE": the flag's value is the rest of the cluster or the next arg.
      auto at = a.find(named_flag, 1);
      if (at != std::string::npos) {
        if (at + 1 < a.size())
          outputs.push_back(a.substr(at + 1));
        else if (i + 1 < argv.size())
          outputs.push_back(argv[++i]);
      } else if (curl && a.find('O', 1) != std::string::npos) {
        remote_name = true;
      }
    } else if (a.find("://") != std::string::npos) {
      last_url = a;
    }
  }
  bool named_by_url = curl ? remote_name : outputs.empty();
  if (named_by_url && !url_basename(last_url).empty()) outputs.push_back(url_basename(last_url));
  return outputs;
}

std::string resolved(const std::string& path, const std::string& cwd) {
  if (path.empty()) return path;
  std::filesystem::path full = path[0] == '/' || cwd.empty() ? path : cwd + "/" + path;
  return full.lexically_normal().string();
}

void downloads_executed(const Outcome& outcome, std::vector<Finding>& out) {
  std::map<std::string, const ProcessRecord*> fetched;  // resolved output path → fetcher
  for (const auto& p : outcome.processes) {
    if (p.argv.empty()) continue;
    if (is_shell(p.argv[0]) && pipes_download_into_shell(p.argv)) {
      out.push_back({FindingKind::download_exec,
                     Severity::high,
                     "a download piped into a shell: " + who(p.argv, p.pid) + by_package(p.package),
                     p.package,
                     {},
                     p.pid});
      continue;
    }
    if (is_fetcher(p.argv[0])) {
      for (const auto& o : fetch_outputs(p.argv)) fetched[resolved(o, p.cwd)] = &p;
      continue;
    }
    auto hit = fetched.find(resolved(p.exe.empty() ? p.argv[0] : p.exe, p.cwd));
    if (hit == fetched.end()) continue;
    out.push_back({FindingKind::download_exec, Severity::high,
                   hit->first + ", fetched by " + who(hit->second->argv, hit->second->pid) +
                       ", was executed: " + who(p.argv, p.pid) + by_package(p.package),
                   p.package, hit->first, p.pid});
  }
}

// The program a pipeline stage runs: its first word after `sudo` and VAR=value words.
std::string stage_program(const std::string& stage) {
  std::istringstream words(stage);
  std::string word;
  while (words >> word) {
    while (!word.empty() && (word.front() == '(' || word.front() == '{')) word.erase(0, 1);
    if (word.empty() || word == "sudo" || word.find('=') != std::string::npos) continue;
    return leaf_of(word);
  }
  return {};
}

// One pass over a `-c` script: a pipeline in which a curl or wget stage is followed by a
// stage that runs a shell. `||`, `&&`, `;`, `&` and newlines end a pipeline.
bool script_pipes_download_into_shell(const std::string& script) {
  bool fetched_upstream = false;  // a stage before this one in the pipeline fetches
  std::string stage;
  auto end_stage = [&](bool piped_on) {
    std::string program = stage_program(stage);
    stage.clear();
    if (fetched_upstream && is_shell(program)) return true;
    fetched_upstream = piped_on && (fetched_upstream || program == "curl" || program == "wget");
    return false;
  };
  for (std::size_t i = 0; i < script.size(); ++i) {
    char c = script[i];
    bool doubled = i + 1 < script.size() && script[i + 1] == c;
    bool pipe = c == '|' && !doubled;
    bool sequence = c == ';' || c == '&' || c == '\n' || (c == '|' && doubled);
    if (!pipe && !sequence) {
      stage += c;
      continue;
    }
    if (end_stage(pipe)) return true;
    if (doubled && (c == '|' || c == '&')) ++i;
  }
  return end_stage(false);
}

ViolationKind violation_kind_of(FindingKind kind) {
  switch (kind) {
    case FindingKind::direct_connect:
    case FindingKind::unlisted_dns:
    case FindingKind::refused_egress:
      return ViolationKind::egress;
    case FindingKind::persistence:
      return ViolationKind::persistence;
    case FindingKind::credential_read:
      return ViolationKind::credential;
    case FindingKind::exfiltration:
      return ViolationKind::exfiltration;
    case FindingKind::protected_write:
    case FindingKind::refused_write:
      return ViolationKind::write;
    case FindingKind::survivor:
      return ViolationKind::survivor;
    case FindingKind::refused_syscall:
      return ViolationKind::syscall;
    case FindingKind::unlisted_script:
      return ViolationKind::script;
    case FindingKind::download_exec:
      return ViolationKind::exec;
    case FindingKind::auto_run:
      return ViolationKind::auto_run;
    default:
      return ViolationKind::package;
  }
}

// The findings judge() already records as violations: a survivor, a refused syscall or script.
std::optional<ViolationKind> mirrored_violation(const Finding& f) {
  bool mirrored = f.kind == FindingKind::survivor || f.kind == FindingKind::refused_syscall ||
                  f.kind == FindingKind::unlisted_script;
  return mirrored ? std::optional(violation_kind_of(f.kind)) : std::nullopt;
}

// A unix-socket refusal is already an egress violation with the same pid.
Violation* existing_violation(RunRecord& record, const Finding& f) {
  auto kind = mirrored_violation(f);
  bool unix_socket = f.kind == FindingKind::refused_egress && f.pid > 0;
  if (!kind && !unix_socket) return nullptr;
  ViolationKind wanted = kind ? *kind : ViolationKind::egress;
  for (auto& v : record.violations)
    if (v.kind == wanted && v.pid == f.pid && !v.finding) return &v;
  return nullptr;
}

}  // namespace

bool pipes_download_into_shell(const std::vector<std::string>& argv) {
  for (std::size_t i = 1; i + 1 < argv.size(); ++i) {
    if (argv[i] != "-c" && argv[i] != "-lc" && argv[i] != "-ec") continue;
    if (script_pipes_download_into_shell(argv[i + 1])) return true;
  }
  return false;
}

std::vector<Finding> behaviour_findings(const RunRecord& record) {
  std::vector<Finding> out;
  if (record.outcome) {
    direct_attempts(*record.outcome, out);
    gateway_refusals(record.outcome->network, out);
  }
  persistence_plants(record, out);
  protected_writes(record, out);
  if (record.outcome) {
    survivors_and_refusals(*record.outcome, out);
    read_only_writes(*record.outcome, out);
    downloads_executed(*record.outcome, out);
  }
  return out;
}

void record_findings(RunRecord& record, std::vector<Finding> findings) {
  for (const auto& f : findings) {
    if (auto* v = existing_violation(record, f)) {
      v->severity = f.severity;
      v->finding = f.kind;
      v->package = f.package;
      continue;
    }
    Violation v;
    v.kind = violation_kind_of(f.kind);
    v.detail = f.detail;
    v.pid = f.pid;
    v.severity = f.severity;
    v.finding = f.kind;
    v.package = f.package;
    v.path = f.path;
    record.violations.push_back(std::move(v));
  }
  record.findings.insert(record.findings.end(), std::make_move_iterator(findings.begin()),
                         std::make_move_iterator(findings.end()));
}

}  // namespace safeinstall::runner
