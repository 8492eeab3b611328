#include "runner/supervise/process_tree.h"

#include <array>
#include <regex>

#include "runner/argv_bounds.h"

namespace safeinstall::runner {

namespace {

std::size_t argv_bytes(const std::vector<std::string>& argv) {
  std::size_t bytes = 0;
  for (const auto& arg : argv) bytes += arg.size();
  return bytes;
}

}  // namespace

bool is_install_script(const std::string& event) {
  static constexpr std::array kEvents = {"preinstall", "install",    "postinstall",
                                         "prepare",    "preprepare", "postprepare"};
  for (const char* e : kEvents) {
    if (event == e) return true;
  }
  return false;
}

// std::regex backtracks, but `cwd` is a readlink of at most 4 KiB (PATH_MAX): the worst
// crafted cwd costs about 15 ms per exec, during the run (which --timeout bounds), never after.
std::string package_from_build_dir(const std::string& cwd) {
  // pip: /tmp/pip-install-xxxx/<name>_<hash>/..., /tmp/pip-req-build-xxxx (name unknown)
  static const std::regex pip(R"(/pip-install-[^/]+/([A-Za-z0-9_.-]+?)_[0-9a-f]{32}(/|$))");
  // gem: .../gems/<name>-<version>/ext/...
  static const std::regex gem(R"(/gems/([A-Za-z0-9_.-]+?)-([0-9][A-Za-z0-9_.]*)/ext(/|$))");
  // cargo: .../registry/src/<index>/<crate>-<version>/ (build scripts run there)
  static const std::regex cargo(
      R"(/registry/src/[^/]+/([A-Za-z0-9_-]+?)-([0-9][A-Za-z0-9_.+-]*)(/|$))");
  // Each pattern holds a fixed part a plain search finds first: most execs run elsewhere,
  // and the regex engine then costs each of them nothing.
  std::smatch m;
  if (cwd.find("/pip-install-") != std::string::npos && std::regex_search(cwd, m, pip))
    return m[1].str();
  if (cwd.find("/gems/") != std::string::npos && std::regex_search(cwd, m, gem))
    return m[1].str() + "@" + m[2].str();
  if (cwd.find("/registry/src/") != std::string::npos && std::regex_search(cwd, m, cargo))
    return m[1].str() + "@" + m[2].str();
  return {};
}

ProcessRecord& ProcessTree::add(ProcessRecord record, const LifecycleEnv& env, pid_t host_ppid) {
  if (!env.package_name.empty()) {
    record.package = env.package_name;
    if (!env.package_version.empty()) record.package += "@" + env.package_version;
    record.script = env.event;
  } else if (auto built = package_from_build_dir(record.cwd); !built.empty()) {
    record.package = built;
    record.script = "build";
  } else if (auto* parent = find_host(host_ppid); parent != nullptr) {
    record.package = parent->package;
    record.script = parent->script;
  } else if (auto* earlier = find_host(record.host_pid); earlier != nullptr) {
    // The same process exec'ing again (sh -c 'exec node x.js').
    record.package = earlier->package;
    record.script = earlier->script;
  }
  if (record.ppid == 0) {
    if (auto* parent = find_host(host_ppid)) record.ppid = parent->pid;
  }
  keep_bounded_argv(record);
  records_.push_back(std::move(record));
  std::size_t index = records_.size() - 1;
  latest_by_host_[records_[index].host_pid] = index;
  latest_by_inner_[records_[index].pid] = index;
  return records_[index];
}

void ProcessTree::keep_bounded_argv(ProcessRecord& record) {
  if (bound_argv(record.argv)) record.argv_truncated = true;
  if (argv_bytes_ + argv_bytes(record.argv) > kMaxRunArgvBytes && record.argv.size() > 1) {
    record.argv.resize(1);
    record.argv_truncated = true;
  }
  argv_bytes_ += argv_bytes(record.argv);
}

ProcessRecord* ProcessTree::find_host(pid_t host_pid) {
  auto it = latest_by_host_.find(host_pid);
  return it == latest_by_host_.end() ? nullptr : &records_[it->second];
}

ProcessRecord* ProcessTree::find_inner(pid_t pid) {
  auto it = latest_by_inner_.find(pid);
  return it == latest_by_inner_.end() ? nullptr : &records_[it->second];
}

}  // namespace safeinstall::runner
