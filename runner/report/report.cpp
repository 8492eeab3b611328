#include "runner/report/report.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>

#include "runner/record/redact.h"
#include "runner/report/file_entries.h"
#include "sandbox/base/fd.h"

namespace safeinstall::runner {
namespace {

using nlohmann::json;

// Stands for files.project in the built report until write_report puts the entries there.
constexpr const char* kProjectChangesPlaceholder = "@safeinstall:files.project@";

std::string rfc3339(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char buffer[40];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
  char with_ms[48];
  std::snprintf(with_ms, sizeof with_ms, "%s.%03lldZ", buffer, static_cast<long long>(ms % 1000));
  return with_ms;
}

json contacted_hosts(const std::deque<sandbox::ContactedHost>& contacted) {
  json list = json::array();
  for (const auto& c : contacted) {
    list.push_back({{"host", c.host},
                    {"port", c.port},
                    {"connections", c.connections},
                    {"bytes_sent", c.bytes_sent},
                    {"bytes_received", c.bytes_received},
                    {"via", to_string(c.via)}});
  }
  return list;
}

json refused_hosts(const std::deque<sandbox::RefusedHost>& refused) {
  json list = json::array();
  for (const auto& r : refused) {
    list.push_back(
        {{"host", r.host}, {"port", r.port}, {"reason", to_string(r.reason)}, {"count", r.count}});
  }
  return list;
}

json dns_questions(const std::deque<sandbox::DnsQuestion>& dns) {
  json list = json::array();
  for (const auto& d : dns) {
    list.push_back(
        {{"name", d.name}, {"type", d.type}, {"allowed", d.allowed}, {"count", d.count}});
  }
  return list;
}

// Names and places only: the values themselves stay in the run's dir.
json exfiltration_attempts(const std::deque<sandbox::ExfiltrationAttempt>& attempts) {
  json list = json::array();
  for (const auto& e : attempts) {
    list.push_back({{"decoy", e.decoy}, {"where", e.where}, {"host", e.host}, {"count", e.count}});
  }
  return list;
}

json network(const RunRecord& record) {
  json out = {{"contacted", json::array()},
              {"refused", json::array()},
              {"dns", json::array()},
              {"direct_attempts", json::array()},
              {"exfiltration", json::array()}};
  if (!record.outcome) return out;
  const sandbox::NetworkEntries& gateway = record.outcome->network;
  out["contacted"] = contacted_hosts(gateway.contacted);
  out["refused"] = refused_hosts(gateway.refused);
  out["dns"] = dns_questions(gateway.dns);
  out["exfiltration"] = exfiltration_attempts(gateway.exfiltration);
  for (const auto& a : record.outcome->direct_attempts) {
    json entry = {{"address", a.address},        {"port", a.port}, {"pid", a.pid},
                  {"argv", redact_argv(a.argv)}, {"call", a.call}, {"kind", to_string(a.kind)}};
    if (!a.package.empty()) entry["package"] = a.package;
    out["direct_attempts"].push_back(entry);
  }
  return out;
}

json files(const RunRecord& record) {
  json out = {{"project", json::array()}, {"home", json::array()}, {"tmp", json::array()}};
  if (!record.outcome || !record.plan) return out;
  out["home"] = written_area_changes(record.outcome->written, "home", *record.plan);
  out["tmp"] = written_area_changes(record.outcome->written, "tmp", *record.plan);
  if (record.staging) out["project"] = kProjectChangesPlaceholder;
  return out;
}

std::optional<int> command_exit_code(const Outcome& outcome) {
  if (!outcome.command_finished || !WIFEXITED(outcome.wait_status)) return std::nullopt;
  return WEXITSTATUS(outcome.wait_status);
}

// A survivor known only from the sandbox's list of what was left.
json survivor_entry(const SandboxProcess& s) {
  json entry = {{"pid", s.pid},
                {"ppid", s.ppid},
                {"argv", redact_argv(s.argv)},
                {"survived", true},
                {"refused", false}};
  if (s.argv_truncated) entry["argv_truncated"] = true;
  return entry;
}

// From the recorded execs: every process that ran a program, with its package.
json recorded_processes(const Outcome& outcome) {
  json list = json::array();
  std::set<pid_t> listed;
  for (const auto& p : outcome.processes) {
    json entry = {
        {"pid", p.pid},           {"ppid", p.ppid},      {"argv", redact_argv(p.argv)},
        {"cwd", p.cwd},           {"exe", p.exe},        {"started_at", rfc3339(p.started)},
        {"survived", p.survived}, {"refused", p.refused}};
    if (!p.package.empty()) entry["package"] = p.package;
    if (!p.script.empty()) entry["script"] = p.script;
    if (p.argv_truncated) entry["argv_truncated"] = true;
    std::optional<int> code = p.exit_code;
    std::optional<int> signal = p.signal;
    if (p.pid == outcome.command_pid && outcome.command_finished) {
      code = command_exit_code(outcome);
      signal = WIFSIGNALED(outcome.wait_status) ? std::optional(WTERMSIG(outcome.wait_status))
                                                : std::nullopt;
    }
    if (code) entry["exit_code"] = *code;
    if (signal) entry["signal"] = *signal;
    list.push_back(entry);
    listed.insert(p.pid);
  }
  // Survivors that never exec'd (a forked shell) are known only from the sandbox's list.
  for (const auto& s : outcome.survivors) {
    if (!listed.contains(s.pid)) list.push_back(survivor_entry(s));
  }
  return list;
}

json processes(const RunRecord& record) {
  json list = json::array();
  if (!record.outcome) return list;
  const Outcome& outcome = *record.outcome;
  if (outcome.recorded) return recorded_processes(outcome);
  if (!outcome.exec_failed && outcome.command_pid > 0) {
    json main = {{"pid", outcome.command_pid},
                 {"ppid", 1},
                 {"argv", redact_argv(record.command)},
                 {"cwd", record.plan ? record.plan->spec.cwd : record.project},
                 {"survived", false},
                 {"refused", false}};
    if (auto code = command_exit_code(outcome)) main["exit_code"] = *code;
    if (outcome.command_finished && WIFSIGNALED(outcome.wait_status))
      main["signal"] = WTERMSIG(outcome.wait_status);
    list.push_back(main);
  }
  for (const auto& s : outcome.survivors) {
    if (s.pid != outcome.command_pid) list.push_back(survivor_entry(s));
  }
  return list;
}

json violations(const RunRecord& record) {
  json list = json::array();
  for (const auto& v : record.violations) {
    json entry = {
        {"kind", to_string(v.kind)}, {"detail", v.detail}, {"severity", to_string(severity_of(v))}};
    if (v.pid > 0) entry["pid"] = v.pid;
    if (v.finding) entry["finding"] = to_string(*v.finding);
    if (!v.package.empty()) entry["package"] = v.package;
    if (!v.path.empty()) entry["path"] = v.path;
    list.push_back(entry);
  }
  return list;
}

json findings(const RunRecord& record) {
  json list = json::array();
  for (const auto& f : record.findings) {
    json entry = {
        {"kind", to_string(f.kind)}, {"severity", to_string(f.severity)}, {"detail", f.detail}};
    if (!f.package.empty()) entry["package"] = f.package;
    if (!f.path.empty()) entry["path"] = f.path;
    if (f.pid > 0) entry["pid"] = f.pid;
    list.push_back(entry);
  }
  return list;
}

json package_entry(const PackageVersion& p) {
  return {{"ecosystem", to_string(p.ecosystem)},
          {"name", p.name},
          {"version", p.version},
          {"direct", p.direct},
          {"source", p.source}};
}

json packages(const RunRecord& record) {
  json added = json::array(), removed = json::array(), changed = json::array();
  if (record.packages) {
    for (const auto& p : record.packages->added) added.push_back(package_entry(p));
    for (const auto& p : record.packages->removed) removed.push_back(package_entry(p));
    for (const auto& c : record.packages->changed)
      changed.push_back({{"ecosystem", to_string(c.to.ecosystem)},
                         {"name", c.to.name},
                         {"from", c.from.version},
                         {"to", c.to.version},
                         {"direct", c.to.direct || c.from.direct},
                         {"source", c.to.source}});
  }
  return {{"added", added},
          {"removed", removed},
          {"changed", changed},
          {"errors", record.package_errors}};
}

json manifests(const RunRecord& record) {
  json list = json::array();
  for (const auto& edit : record.manifests) {
    json deps = json::array();
    for (const auto& d : edit.dependencies) {
      json dep = {{"section", d.section}, {"name", d.name}};
      if (!d.from.empty()) dep["from"] = d.from;
      if (!d.to.empty()) dep["to"] = d.to;
      deps.push_back(dep);
    }
    json entry = {{"file", edit.file}, {"accepted", edit.accepted()}, {"dependencies", deps}};
    if (!edit.accepted()) entry["outside"] = edit.outside;
    list.push_back(entry);
  }
  return list;
}

json risk(const RunRecord& record) {
  RiskSummary summary = risk_of(record.findings);
  json kinds = json::array();
  for (const auto& f : record.findings)
    if (is_suspicious(f) && std::find(kinds.begin(), kinds.end(), to_string(f.kind)) == kinds.end())
      kinds.push_back(to_string(f.kind));
  return {{"score", summary.score},
          {"level", summary.highest ? to_string(*summary.highest) : "none"},
          {"findings", record.findings.size()},
          {"suspicious", summary.suspicious},
          {"kinds", kinds}};
}

std::int64_t to_ms(const struct timeval& tv) {
  return static_cast<std::int64_t>(tv.tv_sec) * 1000 + tv.tv_usec / 1000;
}

json resources(const RunRecord& record) {
  if (!record.outcome)
    return {{"cpu_user_ms", 0}, {"cpu_sys_ms", 0}, {"peak_rss_kib", 0}, {"max_processes", 0}};
  const auto& outcome = *record.outcome;
  const auto& usage = outcome.usage;
  // Sampled sums over the tree; a run shorter than one sample still has init's figures.
  std::uint64_t peak_rss =
      std::max<std::uint64_t>(outcome.peak.rss_kib, static_cast<std::uint64_t>(usage.ru_maxrss));
  json written = {{"home", 0}, {"tmp", 0}};
  for (const auto& w : outcome.written) {
    if (written.contains(w.area)) written[w.area] = written[w.area].get<std::uint64_t>() + w.size;
  }
  if (record.staging) {
    std::uint64_t project = 0;
    for (const auto& c : record.staging->changes.changes) project += c.size;
    written["project"] = project;
  }
  return {{"cpu_user_ms", to_ms(usage.ru_utime)},
          {"cpu_sys_ms", to_ms(usage.ru_stime)},
          {"peak_rss_kib", peak_rss},
          {"max_processes", outcome.peak.processes},
          {"max_tasks", outcome.peak.tasks},
          {"written_bytes", written},
          {"sampled", "the tree is sampled from /proc every 200 ms"}};
}

// The limits in force, from flags or the profile's [limits]; a limit not set is left out.
json limits(const RunRecord& record) {
  json out = json::object();
  if (record.plan && record.plan->timeout_seconds) out["timeout_s"] = *record.plan->timeout_seconds;
  if (!record.limits) return out;
  const ResourceLimits& l = *record.limits;
  if (l.memory_bytes) out["memory_bytes"] = *l.memory_bytes;
  if (l.tasks) out["pids"] = *l.tasks;
  if (l.cpu_ms) out["cpu_time_s"] = static_cast<double>(*l.cpu_ms) / 1000.0;
  if (l.staged.bytes) out["disk_bytes"] = *l.staged.bytes;
  if (l.staged.entries) out["files"] = *l.staged.entries;
  return out;
}

json sandbox_description(const RunPlan& plan, const std::optional<Outcome>& outcome) {
  json toolchains = json::array();
  for (const auto& t : plan.toolchains)
    toolchains.push_back({{"path", t.path}, {"reason", t.reason}});
  json decoys = json::array();
  for (const auto& d : plan.decoys) decoys.push_back(d.file);
  std::string decoy_watch = outcome && !plan.decoys.empty() ? outcome->decoy_watch : "";
  return {{"namespaces", {"user", "mount", "pid", "net", "ipc", "uts", "cgroup"}},
          {"decoys", decoys},
          {"decoy_watch", decoy_watch},
          {"hostname", plan.spec.hostname},
          {"home", plan.home},
          {"visible", plan.visible},
          {"hidden", plan.hidden},
          {"local_dependencies", plan.local_dependencies},
          {"toolchains", toolchains},
          {"network", "loopback only; egress through the gateway"},
          {"allowed_hosts", plan.allow_hosts},
          {"project_mount", "overlay: writes staged, promoted only after the verdict"}};
}

json staging(const StagingRecord& staging) {
  json skipped = json::array();
  for (const auto& [path, why] : staging.skipped)
    skipped.push_back({{"path", path}, {"reason", why}});
  return {{"run_dir", staging.run_dir},
          {"staging_dir", staging.staging},
          {"note", staging.note},
          {"copy_promotion", staging.copy_promotion},
          {"promoted", staging.promoted},
          {"promoted_entries", staging.promoted_entries},
          {"skipped", skipped},
          {"next", staging.next_steps},
          {"cleanup",
           staging.promoted ? (staging.cleanup_in_background ? "background" : "done") : "none"}};
}

// Names only: the sanitizers never hand out a value.
json config_dropped(const RunRecord& record) {
  json out = json::array();
  if (!record.plan) return out;
  for (const auto& w : record.plan->config_dropped)
    out.push_back({{"file", w.file}, {"keys", w.keys}});
  return out;
}

// A decoy's value never reaches the report, wherever a process put it (an argv, a header it
// sent): each is replaced by its decoy's name.
void mask_decoys_in(json& node, const std::vector<Decoy>& decoys) {
  if (node.is_object() || node.is_array()) {
    for (auto& child : node) mask_decoys_in(child, decoys);
    return;
  }
  if (node.is_string()) mask_decoy_values(node.get_ref<std::string&>(), decoys);
}

}  // namespace

json build_report(const RunRecord& record) {
  json report = {
      {"schema", kReportSchema},
      {"run_id", record.run_id},
      {"command", redact_argv(record.command)},
      {"profile", record.profile},
      {"project", record.project},
      {"started_at", rfc3339(record.started_at)},
      {"duration_ms", record.duration.count()},
      {"exit_code", record.exit_code},
      {"verdict", to_string(record.verdict)},
      {"verdict_reasons", record.verdict_reasons},
      {"network", network(record)},
      {"processes", processes(record)},
      {"files", files(record)},
      {"violations", violations(record)},
      {"findings", findings(record)},
      {"risk", risk(record)},
      {"packages", packages(record)},
      {"env_dropped", record.plan ? record.plan->env_dropped : std::vector<std::string>{}},
      {"config_dropped", config_dropped(record)},
      {"resources", resources(record)},
      {"limits", limits(record)},
  };
  if (record.plan) report["sandbox"] = sandbox_description(*record.plan, record.outcome);
  if (record.staging) report["staging"] = staging(*record.staging);
  if (!record.manifests.empty()) report["manifests"] = manifests(record);
  if (record.audit) {
    report["audit"] = {{"file", record.audit->file},
                       {"allow_hosts", record.audit->allow_hosts},
                       {"expected", record.audit->expected},
                       {"protected", record.audit->protected_paths},
                       {"inconclusive", record.audit->inconclusive()}};
  }
  if (record.pass) {
    report["suggestions"] = {{"allow_hosts", record.pass->allow_hosts},
                             {"expected", record.pass->expected},
                             {"config", record.pass->config_lines()},
                             {"flags", record.pass->flags()},
                             {"withheld", record.pass->withheld}};
  }
  if (!record.logs.empty()) {
    json logs = json::array();
    for (const auto& log : record.logs)
      logs.push_back({{"tool", log.tool},
                      {"inside", log.inside},
                      {"path", log.path},
                      {"size", log.size},
                      {"truncated", log.truncated}});
    report["logs"] = logs;
  }
  if (record.outcome && record.outcome->timed_out) {
    report["timed_out"] = true;
    report["timed_out_during"] = "the command";
  } else if (!record.timed_out_step.empty()) {
    report["timed_out"] = true;
    report["timed_out_during"] = record.timed_out_step;
  }
  if (!record.times.steps().empty()) {
    json steps = json::array();
    for (const auto& step : record.times.steps())
      steps.push_back(
          {{"step", step.name}, {"ms", static_cast<double>(step.took.count()) / 1000.0}});
    report["timings"] = steps;
  }
  if (record.plan) mask_decoys_in(report, record.plan->decoys);
  return report;
}

namespace {

// A FILE whose writes all succeeded, or the reason one failed.
class ReportFile {
 public:
  explicit ReportFile(const std::string& path) : file_(std::fopen(path.c_str(), "we")) {}
  explicit ReportFile(std::FILE* file) : file_(file) {}
  ~ReportFile() {
    if (file_ != nullptr) std::fclose(file_);
  }
  ReportFile(const ReportFile&) = delete;
  ReportFile& operator=(const ReportFile&) = delete;

  bool open() const { return file_ != nullptr; }
  void write(std::string_view text) {
    if (std::fwrite(text.data(), 1, text.size(), file_) != text.size()) failed_ = true;
  }
  bool close() {
    bool ok = !failed_ && std::fclose(file_) == 0;
    file_ = nullptr;
    return ok;
  }

 private:
  std::FILE* file_;
  bool failed_ = false;
};

void write_project_changes(ReportFile& out, const ChangeList& changes) {
  out.write("[");
  bool first = true;
  for (const auto& change : changes.changes) {
    out.write(first ? "\n      " : ",\n      ");
    out.write(to_json(change).dump(-1, ' ', false, json::error_handler_t::replace));
    first = false;
  }
  out.write(first ? "]" : "\n    ]");
}

}  // namespace

namespace {

std::string temporary_sibling(const std::string& path) {
  return path + ".tmp" + std::to_string(::getpid());
}

// Fills `path` through a temporary sibling renamed over it, so a reader never sees a part.
Result<> write_through_temporary(const std::string& path,
                                 const std::function<void(ReportFile&)>& fill) {
  std::string temporary = temporary_sibling(path);
  {
    ReportFile out(temporary);
    if (!out.open()) return sys_error("write the report to " + temporary);
    fill(out);
    if (!out.close()) {
      ::unlink(temporary.c_str());
      return sys_error("write the report to " + temporary);
    }
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    ::unlink(temporary.c_str());
    return sys_error("write the report to " + path);
  }
  return {};
}

}  // namespace

namespace {

// The report's text, with files.project streamed from the change list in place of its
// placeholder.
void fill_report(ReportFile& out, const nlohmann::json& report, const ChangeList* project_changes) {
  std::string text = report.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  // Appended piecewise: GCC 12 at -O3 warns (-Wrestrict) on "\"" + std::string(...).
  std::string placeholder = "\"";
  placeholder.append(kProjectChangesPlaceholder).append("\"");
  auto at = text.find(placeholder);
  if (at == std::string::npos) {
    out.write(text);
    return;
  }
  out.write(std::string_view(text).substr(0, at));
  if (project_changes != nullptr) {
    write_project_changes(out, *project_changes);
  } else {
    out.write("[]");
  }
  out.write(std::string_view(text).substr(at + placeholder.size()));
}

}  // namespace

Result<> write_report(const std::string& path, const nlohmann::json& report,
                      const ChangeList* project_changes) {
  return write_through_temporary(
      path, [&](ReportFile& out) { fill_report(out, report, project_changes); });
}

Result<> write_report_to(int fd, const nlohmann::json& report, const ChangeList* project_changes) {
  int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return sys_error("write the report to descriptor " + std::to_string(fd));
  std::FILE* file = ::fdopen(copy, "w");
  if (file == nullptr) {
    ::close(copy);
    return sys_error("write the report to descriptor " + std::to_string(fd));
  }
  ReportFile out(file);
  fill_report(out, report, project_changes);
  if (!out.close()) return sys_error("write the report to descriptor " + std::to_string(fd));
  return {};
}

Result<> check_report_path(const std::string& path, const std::string& option) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    return plain_error(option + " " + path + " is a directory", "name a file");
  // The very file write_report will create first, created and removed again.
  std::string temporary = temporary_sibling(path);
  sandbox::UniqueFd file(
      ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!file)
    return sys_error(option + " " + path + ": cannot create a file there",
                     "name a writable directory; nothing was run");
  ::unlink(temporary.c_str());
  return {};
}

Result<> check_appendable(const std::string& path, const std::string& what) {
  if (::access(path.c_str(), F_OK) == 0) {
    if (::access(path.c_str(), W_OK) != 0)
      return sys_error(what + " " + path + " cannot be appended to",
                       "make it writable or unset it; nothing was run");
    return {};
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (::access(dir.empty() ? "." : dir.c_str(), W_OK | X_OK) != 0)
    return sys_error(what + " " + path + ": cannot create a file there",
                     "name a writable directory; nothing was run");
  return {};
}

Result<> copy_report(const std::string& written, const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> in(std::fopen(written.c_str(), "re"),
                                                     &std::fclose);
  if (!in) return sys_error("read the report " + written + " to copy it");
  bool read_failed = false;
  auto copied = write_through_temporary(path, [&](ReportFile& out) {
    std::array<char, 1 << 16> buffer{};
    while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), in.get()))
      out.write({buffer.data(), n});
    read_failed = std::ferror(in.get()) != 0;
  });
  if (!copied) return copied;
  if (read_failed) return sys_error("read the report " + written + " to copy it");
  return {};
}

}  // namespace safeinstall::runner
