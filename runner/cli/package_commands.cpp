#include "runner/cli/package_commands.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "runner/exit_codes.h"
#include "runner/flow/package_flow.h"
#include "runner/fs/fs_tree.h"
#include "runner/messages.h"
#include "runner/packages/known_bad.h"
#include "runner/packages/lockfile.h"
#include "runner/packages/osv_database.h"
#include "runner/packages/project_packages.h"
#include "runner/packages/versions.h"
#include "runner/store/run_store.h"
#include "sandbox/base/escaped_text.h"

namespace safeinstall::runner {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The databases to consult: `given` (must open) and the imported one.
Result<std::vector<OsvDatabase>> open_databases(const std::string& given) {
  std::vector<OsvDatabase> out;
  if (!given.empty()) {
    auto db = OsvDatabase::open(given);
    if (!db) return propagate(db);
    out.push_back(std::move(*db));
  }
  auto state = default_state_dir();
  if (!state) return out;
  std::string imported = imported_osv_dir(*state);
  std::error_code ec;
  if (imported == given || !fs::exists(imported + "/" + kOsvIndexFile, ec)) return out;
  auto db = OsvDatabase::open(imported);
  if (!db) return propagate(db);
  out.push_back(std::move(*db));
  return out;
}

struct Wanted {
  std::string name;
  std::string version;  // empty: any
  std::string text;
};

Wanted parse_wanted(const std::string& text) {
  auto at = text.rfind('@');
  if (at == std::string::npos || at == 0) return {text, {}, text};
  return {text.substr(0, at), text.substr(at + 1), text};
}

bool same_name(Ecosystem e, const std::string& a, const std::string& b) {
  return e == Ecosystem::pypi ? normalize_pypi_name(a) == normalize_pypi_name(b) : a == b;
}

struct Hit {
  PackageVersion package;
  std::vector<std::string> why;  // "MAL-2025-1", "asked for axios@1.7.9"
};

class Matcher {
 public:
  Matcher(std::vector<Wanted> wanted, std::vector<OsvDatabase> dbs)
      : wanted_(std::move(wanted)), dbs_(std::move(dbs)) {}

  std::optional<Hit> match(const PackageVersion& p, std::vector<std::string>& errors) const {
    Hit hit{p, {}};
    for (const auto& w : wanted_) {
      if (same_name(p.ecosystem, w.name, p.name) &&
          (w.version.empty() || same_version(p.ecosystem, w.version, p.version)))
        hit.why.push_back("asked for " + w.text);
    }
    for (const auto& db : dbs_) {
      auto records = db.affecting(p);
      if (!records) {
        errors.push_back(records.error().message());
        continue;
      }
      for (const auto& r : *records) {
        if (r.malicious && std::ranges::find(hit.why, r.id) == hit.why.end())
          hit.why.push_back(r.id);
      }
    }
    if (hit.why.empty()) return std::nullopt;
    return hit;
  }

 private:
  std::vector<Wanted> wanted_;
  std::vector<OsvDatabase> dbs_;
};

struct ScanResult {
  json findings = json::array();
  std::size_t lockfiles = 0;
  std::size_t runs = 0;
  std::vector<std::string> errors;
};

json hit_json(const Hit& hit) {
  return {{"ecosystem", to_string(hit.package.ecosystem)},
          {"name", hit.package.name},
          {"version", hit.package.version},
          {"direct", hit.package.direct},
          {"why", hit.why}};
}

void scan_packages(const PackageSet& set, const std::string& dir, const Matcher& matcher,
                   ScanResult& result) {
  for (const auto& e : set.errors) result.errors.push_back(dir + "/" + e);
  std::set<std::string> sources;
  for (const auto& p : set.packages) {
    sources.insert(p.source);
    auto hit = matcher.match(p, result.errors);
    if (!hit) continue;
    json entry = hit_json(*hit);
    entry["where"] = "lockfile";
    entry["path"] = (fs::path(dir) / p.source).lexically_normal().string();
    result.findings.push_back(entry);
  }
  result.lockfiles += sources.size();
}

void scan_lockfile(const fs::path& file, const Matcher& matcher, ScanResult& result) {
  auto format = lockfile_format(file.filename().string());
  if (!format) {
    result.errors.push_back(file.string() + ": not a lockfile safeinstall reads");
    return;
  }
  auto text = read_small_file(file.string(), kMaxLockfileBytes, Links::followed);
  if (!text || !*text) {
    result.errors.push_back(text ? file.string() + ": does not exist" : text.error().message());
    return;
  }
  std::string manifest;
  if (auto name = manifest_of(*format); !name.empty()) {
    auto m =
        read_small_file((file.parent_path() / name).string(), kMaxLockfileBytes, Links::followed);
    if (m && *m) manifest = std::move(**m);
  }
  PackageSet set;
  auto packages = parse_lockfile(*format, **text, file.filename().string(), manifest);
  if (!packages) {
    result.errors.push_back(file.parent_path().string() + "/" + packages.error().message());
    return;
  }
  set.packages = std::move(*packages);
  scan_packages(set, file.parent_path().string(), matcher, result);
}

void scan_tree(const fs::path& root, const Matcher& matcher, ScanResult& result) {
  std::error_code ec;
  scan_packages(read_project_packages(root.string(), 0), root.string(), matcher, result);
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
  if (ec) {
    result.errors.push_back(root.string() + ": " + ec.message());
    return;
  }
  for (; it != end; it.increment(ec)) {
    if (ec) {
      result.errors.push_back(root.string() + ": " + ec.message());
      break;
    }
    if (!it->is_directory(ec) || it->is_symlink(ec)) {
      if (it->is_symlink(ec)) it.disable_recursion_pending();
      continue;
    }
    if (skipped_in_project_walk(it->path().filename().string())) {
      it.disable_recursion_pending();
      continue;
    }
    scan_packages(read_project_packages(it->path().string(), 0), it->path().string(), matcher,
                  result);
  }
}

std::string string_at(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The versions a kept run brought in, from its report's packages, and the packages whose
// processes it recorded.
std::vector<PackageVersion> run_packages(const json& report) {
  std::vector<PackageVersion> out;
  auto packages = report.find("packages");
  if (packages != report.end() && packages->is_object()) {
    for (const char* list : {"added", "changed"}) {
      auto it = packages->find(list);
      if (it == packages->end() || !it->is_array()) continue;
      for (const auto& p : *it) {
        if (!p.is_object()) continue;
        auto ecosystem = ecosystem_from(string_at(p, "ecosystem"));
        std::string version = string_at(p, list == std::string("added") ? "version" : "to");
        if (!ecosystem || version.empty()) continue;
        out.push_back({*ecosystem, string_at(p, "name"), version, p.value("direct", false),
                       string_at(p, "source")});
      }
    }
  }
  return out;
}

// What the run's recorded processes say about a package: the scripts that ran for it.
std::vector<std::string> scripts_run_for(const json& report, const PackageVersion& p) {
  std::vector<std::string> out;
  auto processes = report.find("processes");
  if (processes == report.end() || !processes->is_array()) return out;
  std::string full = display_name(p);
  for (const auto& proc : *processes) {
    if (!proc.is_object()) continue;
    std::string package = string_at(proc, "package");
    if (package != full && package != p.name) continue;
    if (proc.value("refused", false)) continue;
    std::string script = string_at(proc, "script");
    std::string entry = (script.empty() ? std::string("a process") : script) + " (pid " +
                        std::to_string(proc.value("pid", 0)) + ")";
    if (std::ranges::find(out, entry) == out.end()) out.push_back(entry);
  }
  return out;
}

std::vector<std::string> contacted_hosts(const json& report) {
  std::vector<std::string> out;
  auto network = report.find("network");
  if (network == report.end() || !network->is_object()) return out;
  auto contacted = network->find("contacted");
  if (contacted == network->end() || !contacted->is_array()) return out;
  for (const auto& c : *contacted) {
    if (!c.is_object()) continue;
    out.push_back(string_at(c, "host") + ":" + std::to_string(c.value("port", 0)));
  }
  return out;
}

// Packages named only by processes (a run without a lockfile still ran their scripts).
void add_process_packages(const json& report, std::vector<PackageVersion>& packages) {
  auto processes = report.find("processes");
  if (processes == report.end() || !processes->is_array()) return;
  for (const auto& proc : *processes) {
    if (!proc.is_object()) continue;
    std::string package = string_at(proc, "package");
    auto at = package.rfind('@');
    if (at == std::string::npos || at == 0) continue;
    PackageVersion p{Ecosystem::npm, package.substr(0, at), package.substr(at + 1), false, {}};
    bool known = std::ranges::any_of(packages, [&](const PackageVersion& q) {
      return q.name == p.name && q.version == p.version;
    });
    if (!known) packages.push_back(std::move(p));
  }
}

void scan_runs(const Matcher& matcher, ScanResult& result) {
  auto state = default_state_dir();
  if (!state) return;
  std::error_code ec;
  if (!fs::is_directory(*state + "/runs", ec)) return;
  auto store = RunStore::open(*state);
  if (!store) {
    result.errors.push_back(store.error().message());
    return;
  }
  auto runs = store->list_runs();
  if (!runs) {
    result.errors.push_back(runs.error().message());
    return;
  }
  for (const auto& run : *runs) {
    std::string report_path = store->runs_dir() + "/" + run.id + "/report.json";
    auto text = read_small_file(report_path, 512u << 20);
    if (!text || !*text) continue;  // a run still going, or one whose report was lost
    ++result.runs;
    json report = json::parse(**text, nullptr, false);
    if (!report.is_object()) {
      result.errors.push_back(report_path + ": not valid JSON");
      continue;
    }
    auto packages = run_packages(report);
    add_process_packages(report, packages);
    for (const auto& p : packages) {
      auto hit = matcher.match(p, result.errors);
      if (!hit) continue;
      json entry = hit_json(*hit);
      entry["where"] = "run";
      entry["run_id"] = run.id;
      entry["project"] = run.project;
      entry["verdict"] = run.verdict;
      entry["promoted"] = run.promoted;
      entry["scripts_run"] = scripts_run_for(report, p);
      entry["contacted"] = contacted_hosts(report);
      result.findings.push_back(entry);
    }
  }
}

std::string join(const json& list) {
  std::string out;
  for (const auto& item : list) out += (out.empty() ? "" : ", ") + item.get<std::string>();
  return out;
}

void print_text(const ScanResult& result) {
  for (const auto& f : result.findings) {
    std::string package = f["ecosystem"].get<std::string>() + " " + f["name"].get<std::string>() +
                          "@" + f["version"].get<std::string>();
    std::string why = join(f["why"]);
    if (f["where"] == "lockfile") {
      std::printf("found: %s in %s%s (%s)\n", sandbox::printable(package).c_str(),
                  sandbox::printable(f["path"].get<std::string>()).c_str(),
                  f["direct"].get<bool>() ? ", direct" : "", sandbox::printable(why).c_str());
      continue;
    }
    std::printf("found: %s brought in by run %s in %s, verdict %s%s (%s)\n",
                sandbox::printable(package).c_str(),
                sandbox::printable(f["run_id"].get<std::string>()).c_str(),
                sandbox::printable(f["project"].get<std::string>()).c_str(),
                sandbox::printable(f["verdict"].get<std::string>()).c_str(),
                f["promoted"].get<bool>() ? ", promoted" : "", sandbox::printable(why).c_str());
    std::printf("  scripts run: %s\n", f["scripts_run"].empty()
                                           ? "none recorded"
                                           : sandbox::printable(join(f["scripts_run"])).c_str());
    std::printf(
        "  the run contacted: %s\n",
        f["contacted"].empty() ? "no host" : sandbox::printable(join(f["contacted"])).c_str());
  }
  for (const auto& e : result.errors)
    std::fprintf(stderr, "safeinstall scan: %s\n", sandbox::printable(e).c_str());
  std::printf("scan: %zu found in %zu lockfile(s) and %zu kept run(s)\n", result.findings.size(),
              result.lockfiles, result.runs);
}

}  // namespace

int db_import_command(const std::vector<std::string>& sources, const std::string& into) {
  std::string target = into;
  if (target.empty()) {
    auto state = default_state_dir();
    if (!state) return fail(state.error().message());
    auto store = RunStore::open(*state);  // makes the state dir, ours and private
    if (!store) return fail(store.error().message());
    target = imported_osv_dir(*state);
  }
  auto summary = import_osv(sources, target);
  if (!summary) return fail(summary.error().message());
  for (const auto& s : summary->skipped) tell("skipped " + s);
  tell("imported " + std::to_string(summary->documents) + " OSV entries into " + target + ": " +
       std::to_string(summary->records) + " affected packages, " +
       std::to_string(summary->malicious) + " of them malicious (MAL-)");
  if (summary->documents == 0) return fail("no OSV JSON entries found in the sources given");
  return exit_code::kSuccess;
}

int db_check_command(const std::vector<std::string>& lockfiles, const std::string& db,
                     const std::string& vuln_severity) {
  auto dbs = open_databases(db);
  if (!dbs) return fail(dbs.error().message());
  Severity threshold = severity_from(vuln_severity).value_or(kDefaultVulnThreshold);
  std::size_t checked = 0, found = 0;
  for (const auto& file : lockfiles) {
    fs::path path(file);
    auto format = lockfile_format(path.filename().string());
    if (!format) return fail(file + ": not a lockfile safeinstall reads");
    auto text = read_small_file(file, kMaxLockfileBytes, Links::followed);
    if (!text) return fail(text.error().message());
    if (!*text) return fail(file + ": does not exist");
    std::string manifest;
    if (auto name = manifest_of(*format); !name.empty()) {
      auto m =
          read_small_file((path.parent_path() / name).string(), kMaxLockfileBytes, Links::followed);
      if (m && *m) manifest = std::move(**m);
    }
    auto packages = parse_lockfile(*format, **text, file, manifest);
    if (!packages) return fail(packages.error().message());
    checked += packages->size();
    for (const auto& d : *dbs) {
      auto findings = known_bad_findings(*packages, d, threshold);
      if (!findings) return fail(findings.error().message());
      for (const auto& f : *findings) {
        ++found;
        std::printf("%s %s: %s\n", std::string(to_string(f.severity)).c_str(),
                    std::string(to_string(f.kind)).c_str(), sandbox::printable(f.detail).c_str());
      }
    }
  }
  std::printf("checked %zu package versions: %zu finding(s)\n", checked, found);
  return found > 0 ? 1 : exit_code::kSuccess;
}

int scan_command(const ScanRequest& request) {
  auto dbs = open_databases(request.db);
  if (!dbs) return fail(dbs.error().message());
  std::vector<Wanted> wanted;
  for (const auto& p : request.packages) wanted.push_back(parse_wanted(p));
  if (wanted.empty() && dbs->empty())
    return fail(
        "nothing to look for: name a version with --package NAME@VERSION, give --db DIR, or "
        "import a database with `safeinstall db import`");
  Matcher matcher(std::move(wanted), std::move(*dbs));
  ScanResult result;
  for (const auto& path : request.paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      scan_tree(fs::path(path), matcher, result);
    } else if (fs::exists(path, ec)) {
      scan_lockfile(fs::path(path), matcher, result);
    } else {
      result.errors.push_back(path + ": does not exist");
    }
  }
  if (request.runs) scan_runs(matcher, result);
  if (request.json) {
    json out = {{"findings", result.findings},
                {"lockfiles_scanned", result.lockfiles},
                {"runs_scanned", result.runs},
                {"errors", result.errors}};
    std::puts(out.dump(2, ' ', false, json::error_handler_t::replace).c_str());
  } else {
    print_text(result);
  }
  if (!result.findings.empty()) return 1;
  return result.errors.empty() ? exit_code::kSuccess : exit_code::kSafeinstallFailed;
}

}  // namespace safeinstall::runner
