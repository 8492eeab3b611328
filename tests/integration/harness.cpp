#include "tests/integration/harness.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace safeinstall::test {
namespace {

namespace fs = std::filesystem;

void copy_executable(const std::string& from, const std::string& to) {
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
  fs::permissions(to, fs::perms(0755));
}

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

}  // namespace

const char* name_of(Who who) {
  return who == Who::Root ? "root" : "unprivileged";
}

const Installation& Installation::get() {
  static TempDir dir("si-install");
  static Installation installation = [] {
    Installation i;
    i.dir = dir.path();
    fs::permissions(i.dir, fs::perms(0755));
    i.safeinstall = i.dir + "/safeinstall";
    i.shim = i.dir + "/safeinstall-shim";
    i.probe = i.dir + "/si-probe";
    i.profiles = i.dir + "/profiles";
    copy_executable(SAFEINSTALL_BINARY, i.safeinstall);
    copy_executable(SAFEINSTALL_SHIM_BINARY, i.shim);
    copy_executable(SI_PROBE_PATH, i.probe);
    fs::copy(SAFEINSTALL_PROFILES_DIR, i.profiles, fs::copy_options::recursive);
    for (const auto& entry : fs::recursive_directory_iterator(i.profiles))
      fs::permissions(entry.path(), entry.is_directory() ? fs::perms(0755) : fs::perms(0644));
    fs::permissions(i.profiles, fs::perms(0755));
    return i;
  }();
  return installation;
}

Scenario::Scenario(Who who, const std::string& parent) : who_(who), dir_("si-scenario", parent) {
  project_ = dir_.path() + "/project";
  home_ = dir_.path() + "/home";
  fs::create_directories(project_ + "/.probe");
  fs::create_directories(home_ + "/.ssh");
  std::ofstream(home_ + "/.ssh/id_ed25519") << kCanarySecret << "\n";
  std::ofstream(project_ + "/package.json") << "{\"name\":\"demo\",\"version\":\"1.0.0\"}\n";
  copy_executable(Installation::get().probe, probe_in_project());
  fs::permissions(dir_.path(), fs::perms(0755));
  if (who == Who::Unprivileged) dir_.chown_to(kUnprivilegedUid);
}

std::vector<std::string> Scenario::base_env() const {
  return {"HOME=" + home_, "GITHUB_TOKEN=" + std::string(kCanaryToken),
          "AWS_SECRET_ACCESS_KEY=" + std::string(kCanaryToken),
          "SAFEINSTALL_PROFILE_DIR=" + Installation::get().profiles};
}

SandboxRun Scenario::run(const std::vector<std::string>& command,
                         const std::vector<std::string>& flags,
                         const std::vector<std::string>& extra_env,
                         std::chrono::milliseconds timeout) const {
  return checked(run_unchecked(command, flags, extra_env, timeout));
}

SandboxRun Scenario::checked(SandboxRun run) {
  if (!run.report_path.empty()) {
    require_valid_report(run.report_path);
    run.report = nlohmann::json::parse(read_file(run.report_path));
  }
  INFO("stdout: " << run.result.out << "\nstderr: " << run.result.err);
  return run;
}

SandboxRun Scenario::run_unchecked(const std::vector<std::string>& command,
                                   const std::vector<std::string>& flags,
                                   const std::vector<std::string>& extra_env,
                                   std::chrono::milliseconds timeout) const {
  static std::atomic<int> counter = 0;
  std::string report = dir_.path() + "/report-" + std::to_string(++counter) + ".json";
  std::vector<std::string> argv{Installation::get().safeinstall, "--report", report, "--project",
                                project_};
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.push_back("--");
  argv.insert(argv.end(), command.begin(), command.end());

  RunOptions options;
  options.env_overrides = base_env();
  options.env_overrides.insert(options.env_overrides.end(), extra_env.begin(), extra_env.end());
  if (who_ == Who::Unprivileged) options.as_user = kUnprivilegedUid;
  if (!prefix_.empty()) {
    if (options.as_user) argv = as_user_argv(*options.as_user, argv);
    options.as_user.reset();
    argv.insert(argv.begin(), prefix_.begin(), prefix_.end());
  }
  options.cwd = project_;
  options.timeout = timeout;

  SandboxRun out;
  out.result = safeinstall::test::run(argv, options);
  out.probe_line = first_line(out.result.out);
  if (path_exists(report)) out.report_path = report;
  return out;
}

SandboxRun Scenario::probe(const std::vector<std::string>& args,
                           const std::vector<std::string>& flags) const {
  std::vector<std::string> command{probe_in_project()};
  command.insert(command.end(), args.begin(), args.end());
  return run(command, flags);
}

RunResult Scenario::probe_on_host(const std::vector<std::string>& args) const {
  std::vector<std::string> argv{probe_in_project()};
  argv.insert(argv.end(), args.begin(), args.end());
  RunOptions options;
  options.env_overrides = base_env();
  if (who_ == Who::Unprivileged) options.as_user = kUnprivilegedUid;
  options.cwd = project_;
  return safeinstall::test::run(argv, options);
}

void require_valid_report(const std::string& path) {
  RunOptions options;
  options.timeout = std::chrono::milliseconds(30000);
  auto result = safeinstall::test::run(
      {"/usr/bin/python3", SAFEINSTALL_SCHEMA_VALIDATOR, SAFEINSTALL_REPORT_SCHEMA, path}, options);
  INFO("schema validation of " << path << ":\n" << result.err);
  REQUIRE(result.exit_code == 0);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

bool path_exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace safeinstall::test
