#include "runner/plan/run_plan.h"

#include <glob.h>
#include <pwd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "runner/fs/fs_tree.h"
#include "runner/fs/path_text.h"
#include "runner/plan/environment.h"
#include "runner/plan/local_dependencies.h"
#include "runner/plan/toolchains.h"
#include "runner/profile/byte_size.h"
#include "sandbox/base/env_vars.h"
#include "sandbox/base/path_text.h"
#include "sandbox/egress/gateway_listeners.h"
#include "sandbox/egress/upstream_proxy.h"

namespace safeinstall::runner {
namespace {

namespace fs = std::filesystem;
using sandbox::MountKind;
using sandbox::MountSpec;

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr std::array kSystemDirs = {"/",     "/bin",  "/boot", "/dev", "/etc", "/lib",  "/lib64",
                                    "/proc", "/run",  "/sbin", "/sys", "/usr", "/var",  "/tmp",
                                    "/home", "/root", "/opt",  "/srv", "/mnt", "/media"};

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string random_hostname() {
  std::array<unsigned char, 6> bytes{};
  if (::getrandom(bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) {
    auto seed =
        static_cast<unsigned long>(::getpid()) ^ static_cast<unsigned long>(::time(nullptr));
    for (auto& b : bytes) b = static_cast<unsigned char>(seed >>= 3);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name;
  for (unsigned char b : bytes) {
    name += kHex[b >> 4];
    name += kHex[b & 0xf];
  }
  return name;
}

Result<std::string> resolve_project(const Options& options, const Invoker& invoker) {
  std::string wanted = options.project.empty() ? invoker.cwd : options.project;
  std::error_code ec;
  auto project = fs::canonical(wanted, ec);
  if (ec)
    return plain_error("project directory " + wanted + " cannot be used: " + ec.message(),
                       "pass an existing directory with --project DIR");
  if (!fs::is_directory(project))
    return plain_error("project " + project.string() + " is not a directory");
  return project.string();
}

// The home directory (or one holding it) cannot be the project: the sandbox mounts a
// throwaway home at its path, and the project's overlay would show the command everything in
// it (~/.ssh, tokens, shell rc files). Typed through an alias or a PATH shim, the user never
// named safeinstall: the message says where it came from and how to run the tool itself.
Error home_as_project(const std::string& project, const std::string& real_home,
                      const Options& options, const Invoker& invoker) {
  const std::string& tool = options.command.front();
  bool from_shim = !env_value(invoker.env, "SAFEINSTALL_SHIM_HOPS").empty();
  std::string what = project == real_home ? "it is your home directory"
                                          : "it contains your home directory " + real_home;
  std::string message = "refusing to use " + project + " as the project directory: " + what +
                        ", which the sandbox replaces with a throwaway home and never shows to "
                        "the command (~/.ssh, tokens, shell start-up files)";
  if (from_shim)
    message +=
        "; `" + leaf_of(tool) + "` installs run in safeinstall's sandbox (safeinstall setup)";
  std::string hint =
      "run it in the project's own directory (mkdir -p ~/app && cd ~/app), or pass "
      "--project DIR";
  std::string real_tool = resolve_command(tool, env_value(invoker.env, "PATH"));
  if (!real_tool.empty())
    hint += "; to run " + leaf_of(tool) +
            " here without the sandbox, call it by its path: " + real_tool;
  return Error{message, 0, hint};
}

// A project that contains the home or a system directory would hand the sandbox write
// access to far more than a project.
Result<> check_project_is_safe(const std::string& project, const std::string& real_home,
                               const Options& options, const Invoker& invoker) {
  if (!real_home.empty() && is_within(real_home, project))
    return std::unexpected(home_as_project(project, real_home, options, invoker));
  for (const char* dir : kSystemDirs) {
    if (project == dir)
      return plain_error("refusing to use " + project + " as the project directory",
                         "run safeinstall from the project's own directory or pass --project DIR");
  }
  return {};
}

// The invoker's home path when it exists (so paths in configs keep working), otherwise a
// path under /home, which the sandbox replaces with a tmpfs anyway.
std::string choose_home(const Invoker& invoker) {
  std::string home = env_value(invoker.env, "HOME");
  if (!home.empty() && home.front() == '/' && home != "/" && is_directory(home)) {
    std::error_code ec;
    auto real = fs::canonical(home, ec);
    if (!ec && real != "/") return real.string();
  }
  return "/home/" + (invoker.user.empty() ? std::string("sandbox") : invoker.user);
}

std::vector<std::string> expand_hidden(const std::vector<std::string>& patterns) {
  std::vector<std::string> paths;
  for (const auto& pattern : patterns) {
    glob_t matches{};
    if (::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &matches) == 0) {
      for (std::size_t i = 0; i < matches.gl_pathc; ++i) paths.emplace_back(matches.gl_pathv[i]);
    }
    ::globfree(&matches);
  }
  return paths;
}

// /etc/passwd itself, not NSS: the accounts that matter are local, and NSS modules cost
// a quarter of a millisecond of probing on every run.
std::vector<std::string> user_homes() {
  std::vector<std::string> homes;
  std::unique_ptr<FILE, int (*)(FILE*)> passwd(std::fopen("/etc/passwd", "re"), &std::fclose);
  if (!passwd) return homes;
  while (struct passwd* pw = ::fgetpwent(passwd.get())) {
    if (pw->pw_uid != 0 && pw->pw_uid < 1000) continue;
    if (pw->pw_uid == 65534) continue;  // nobody: its home is /nonexistent
    if (pw->pw_dir != nullptr && pw->pw_dir[0] == '/') homes.emplace_back(pw->pw_dir);
  }
  return homes;
}

// Only paths that exist are hidden, by their canonical form: the sandbox's tree is a copy of
// the host's, and a symlink followed inside it would land somewhere else.
std::vector<std::string> hidden_paths(const BaseProfile& base, const std::string& home,
                                      const std::string& project) {
  auto candidates = expand_hidden(base.hide);
  if (base.hide_user_homes) std::ranges::move(user_homes(), std::back_inserter(candidates));
  std::vector<std::string> hidden;
  for (const auto& path : candidates) {
    std::error_code ec;
    auto real = fs::canonical(path, ec);
    if (ec) continue;
    std::string p = real.string();
    // The home gets its own tmpfs, and the project its own bind, on top of any hiding.
    if (p == "/" || p == home || p == project) continue;
    if (std::ranges::find(hidden, p) == hidden.end()) hidden.push_back(p);
  }
  // Whatever lies under a hidden directory is gone already (and has no mount point left).
  std::erase_if(hidden, [&](const std::string& p) {
    return std::ranges::any_of(hidden,
                               [&](const std::string& q) { return q != p && is_within(p, q); });
  });
  return hidden;
}

void add_hides(std::vector<MountSpec>& mounts, const std::vector<std::string>& hidden) {
  for (const auto& path : hidden) {
    mounts.push_back({is_directory(path) ? MountKind::HideDir : MountKind::HideFile, path});
  }
}

bool shows_host_tree(MountKind kind) {
  return kind == MountKind::BindReadOnly || kind == MountKind::BindReadWrite ||
         kind == MountKind::Overlay;
}

// A path is visible inside only when the deepest mount above it shows a host tree: under the
// empty root, a tmpfs or a hidden directory there is nothing to hide.
bool visible_inside(const std::string& path, const std::vector<MountSpec>& mounts) {
  const MountSpec* deepest = nullptr;
  for (const auto& m : mounts) {
    if (m.kind == MountKind::FileContent || m.kind == MountKind::Symlink || m.target == path)
      continue;
    if (!is_within(path, m.target)) continue;
    if (deepest == nullptr || m.target.size() > deepest->target.size()) deepest = &m;
  }
  return deepest != nullptr && shows_host_tree(deepest->kind);
}

// Hides of paths nothing shows cost a mount each and hide nothing.
void drop_needless_hides(RunPlan& plan) {
  auto& mounts = plan.spec.mounts;
  auto needless = [&](const MountSpec& m) {
    return (m.kind == MountKind::HideDir || m.kind == MountKind::HideFile) &&
           !visible_inside(m.target, mounts);
  };
  std::vector<std::string> gone;
  for (const auto& m : mounts)
    if (needless(m)) gone.push_back(m.target);
  std::erase_if(mounts, needless);
  std::erase_if(plan.hidden,
                [&](const std::string& p) { return std::ranges::find(gone, p) != gone.end(); });
}

// The allow-list: each existing host path bound read-only at the same place, a symlink
// (merged /usr: /bin -> usr/bin) made again as a link. `--ro-bind` paths must exist.
Result<> add_visible(RunPlan& plan, const std::vector<std::string>& visible,
                     const std::vector<std::string>& ro_binds) {
  auto add = [&](const std::string& path) {
    if (std::ranges::find(plan.visible, path) != plan.visible.end()) return;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return;
    plan.visible.push_back(path);
    if (S_ISLNK(st.st_mode)) {
      std::error_code ec;
      auto link = fs::read_symlink(path, ec);
      if (ec) return;
      MountSpec symlink{MountKind::Symlink, path};
      symlink.content = link.string();
      plan.spec.mounts.push_back(symlink);
      return;
    }
    plan.spec.mounts.push_back({MountKind::BindReadOnly, path, path});
  };
  for (const auto& path : visible) add(path);
  for (const auto& wanted : ro_binds) {
    std::error_code ec;
    auto real = fs::canonical(wanted, ec);
    if (ec)
      return plain_error("--ro-bind " + wanted + ": " + ec.message(),
                         "name an existing host file or directory");
    if (real == "/")
      return plain_error("--ro-bind /: the whole host is never visible",
                         "name the directory the command needs, e.g. --ro-bind /srv/data");
    add(real.string());
  }
  return {};
}

// A path the invoker made visible on purpose is not hidden again by the base list.
void keep_asked_for(std::vector<std::string>& hidden, const std::vector<std::string>& ro_binds) {
  for (const auto& wanted : ro_binds) {
    std::error_code ec;
    auto real = fs::canonical(wanted, ec).string();
    std::erase_if(hidden, [&](const std::string& p) { return is_within(real, p); });
  }
}

// The secrets a manifest may never name: the base profile's hidden paths, not the user homes
// it hides as a whole (a sibling of a project in the home is what file:../x means).
std::vector<std::string> secret_paths(const BaseProfile& base) {
  std::vector<std::string> secrets;
  for (const auto& path : expand_hidden(base.hide)) {
    std::error_code ec;
    auto real = fs::canonical(path, ec);
    if (!ec && real != "/") secrets.push_back(real.string());
  }
  return secrets;
}

Result<> show_local_dependencies(RunPlan& plan, const BaseProfile& base) {
  auto dirs = local_dependency_dirs(declared_local_dependencies(plan.project), plan.project,
                                    plan.home, secret_paths(base));
  if (!dirs) return propagate(dirs);
  plan.local_dependencies = std::move(*dirs);
  for (const auto& dir : plan.local_dependencies)
    plan.spec.mounts.push_back({MountKind::BindReadOnly, dir, dir});
  return {};
}

void add_system_mounts(std::vector<MountSpec>& mounts, std::uint64_t tmp_size) {
  mounts.push_back({MountKind::Dev, "/dev"});
  mounts.push_back({MountKind::Proc, "/proc"});
  mounts.push_back({MountKind::Sys, "/sys"});
  mounts.push_back({MountKind::Tmpfs, "/tmp", {}, tmp_size, 01777});
}

std::size_t depth(const std::string& path) {
  return std::ranges::count(path, '/');
}

Result<std::uint64_t> size_option(const std::string& flag_value, std::uint64_t profile_value,
                                  const char* flag) {
  if (flag_value.empty()) return profile_value;
  auto parsed = parse_size(flag_value);
  if (!parsed)
    return plain_error(std::string(flag) + ": " + parsed.error().step, "for example 512M or 2G");
  return parsed;
}

std::vector<std::string> sandbox_environment(const ScrubbedEnvironment& scrubbed,
                                             const Invoker& invoker, const std::string& home) {
  std::vector<std::string> env = scrubbed.kept;
  if (env_value(env, "PATH").empty()) set_variable(env, "PATH", kDefaultPath);
  set_variable(env, "HOME", home);
  std::string user = invoker.user.empty() ? "sandbox" : invoker.user;
  set_variable(env, "USER", user);
  set_variable(env, "LOGNAME", user);
  set_variable(env, "TMPDIR", "/tmp");
  return env;
}

// The sandbox's only way out: its DNS stub answers through resolv.conf, proxy-aware tools get
// the proxy variables, and the supervisor serves the listeners with the invoker's policy.
Result<> plan_egress(RunPlan& plan, const Options& options, const Invoker& invoker) {
  auto policy = sandbox::EgressPolicy::parse(options.allow_hosts);
  if (!policy)
    return plain_error("--allow-host: " + policy.error().step,
                       "patterns look like registry.npmjs.org, *.pythonhosted.org, host:80 or an "
                       "exact IP address");
  plan.egress = *policy;
  plan.allow_hosts = options.allow_hosts;
  auto upstream = sandbox::UpstreamProxies::from_environment(invoker.env);
  if (!upstream) return plain_error("the invoker's proxy settings: " + upstream.error().step);
  plan.gateway.upstream = *upstream;
  auto& spec = plan.spec;
  spec.egress_gateway = true;
  for (const auto& entry : sandbox::gateway_proxy_environment()) {
    auto eq = entry.find('=');
    set_variable(spec.env, entry.substr(0, eq), entry.substr(eq + 1));
  }
  std::error_code ec;
  auto resolv = fs::canonical("/etc/resolv.conf", ec);
  if (!ec && fs::is_regular_file(resolv)) {
    MountSpec file{MountKind::FileContent, resolv.string()};
    file.content = std::string(sandbox::kSandboxResolvConf);
    spec.mounts.push_back(file);
  }
  order_mounts(spec.mounts);
  return {};
}

}  // namespace

Invoker current_invoker() {
  Invoker invoker;
  invoker.uid = ::getuid();
  invoker.gid = ::getgid();
  if (struct passwd* pw = ::getpwuid(invoker.uid); pw != nullptr) invoker.user = pw->pw_name;
  std::error_code ec;
  invoker.cwd = fs::current_path(ec).string();
  invoker.env = current_environment();
  invoker.stdin_is_terminal = ::isatty(STDIN_FILENO) == 1;
  return invoker;
}

// Only where the project has nothing by that name: a directory with real contents below must
// stay an overlay so its old entries show through and deletions are whiteouts.
Result<> bind_direct_dirs(RunPlan& plan, const std::string& upper) {
  for (const auto& name : plan.direct_dirs) {
    std::string real = plan.project + "/" + name;
    struct stat st {};
    if (::lstat(real.c_str(), &st) == 0 || errno != ENOENT) continue;
    std::string staged = upper + "/" + name;
    if (::mkdir(staged.c_str(), 0755) != 0)
      return sys_error("make " + staged + " for the run's " + name);
    plan.direct_uppers.push_back(staged);
    plan.spec.mounts.push_back({MountKind::BindReadWrite, real, staged});
  }
  return {};
}

Result<> stage_project(RunPlan& plan, const ProjectStaging& staging) {
  auto& mounts = plan.spec.mounts;
  auto project = std::ranges::find_if(mounts, [&](const MountSpec& m) {
    return m.kind == MountKind::BindReadWrite && m.target == plan.project;
  });
  if (project == mounts.end()) return plain_error("the run plan has no project mount to stage");
  project->kind = MountKind::Overlay;
  project->upper = staging.upper;
  project->work = staging.work;
  if (auto direct = bind_direct_dirs(plan, staging.upper); !direct) return direct;
  for (const auto& dir : staging.hide) {
    if (!is_directory(dir) || is_within(plan.project, dir) || is_within(dir, plan.project))
      continue;
    // Outside the visible host paths, or under a filesystem the sandbox makes afresh, it is
    // gone anyway, and has no mount point to hide.
    if (!visible_inside(dir, mounts)) continue;
    plan.hidden.push_back(dir);
    mounts.push_back({MountKind::HideDir, dir});
  }
  order_mounts(mounts);
  return {};
}

void order_mounts(std::vector<MountSpec>& mounts) {
  std::ranges::stable_sort(mounts, {}, [](const MountSpec& m) { return depth(m.target); });
}

Result<> mount_caches(RunPlan& plan, const std::vector<CacheStaging>& caches) {
  auto& mounts = plan.spec.mounts;
  for (const auto& cache : caches) {
    if (!is_within(cache.target, plan.home) || cache.target == plan.home)
      return plain_error("the " + cache.decl.name + " cache's place " + cache.target +
                         " is not inside the home " + plan.home);
    MountSpec overlay{MountKind::Overlay, cache.target, cache.persistent};
    overlay.upper = cache.upper;
    overlay.work = cache.work;
    mounts.push_back(overlay);
    for (const auto& [name, value] : cache.env) set_variable(plan.spec.env, name, value);
    // Outside the visible host paths, under the throwaway home, /tmp or a hidden directory
    // it is gone anyway.
    if (visible_inside(cache.root, mounts) && is_directory(cache.root)) {
      plan.hidden.push_back(cache.root);
      mounts.push_back({MountKind::HideDir, cache.root});
    }
  }
  order_mounts(mounts);
  return {};
}

Result<RunPlan> make_run_plan(const Options& options, const BaseProfile& base,
                              const Invoker& invoker) {
  if (options.command.empty())
    return plain_error("no command given", "usage: safeinstall [options] [--] COMMAND [ARGS...]");
  RunPlan plan;
  auto project = resolve_project(options, invoker);
  if (!project) return propagate(project);
  plan.project = *project;
  plan.home = choose_home(invoker);
  if (auto r = check_project_is_safe(plan.project, plan.home, options, invoker); !r)
    return propagate(r);

  auto home_size = size_option(options.home_size, base.home_size, "--home-size");
  if (!home_size) return propagate(home_size);
  auto tmp_size = size_option(options.tmp_size, base.tmp_size, "--tmp-size");
  if (!tmp_size) return propagate(tmp_size);

  auto scrubbed =
      scrub_environment(invoker.env, {base.env_allow, base.env_secret, options.pass_env});
  plan.env_dropped = scrubbed.dropped;
  auto& spec = plan.spec;
  spec.env = sandbox_environment(scrubbed, invoker, plan.home);
  std::string path = env_value(spec.env, "PATH");
  std::string resolved = resolve_command(options.command.front(), path);
  plan.toolchains = toolchain_paths(plan.home, path, resolved, base.toolchains);
  plan.hidden = hidden_paths(base, plan.home, plan.project);
  keep_asked_for(plan.hidden, options.ro_binds);

  if (auto r = add_visible(plan, base.visible, options.ro_binds); !r) return propagate(r);
  add_hides(spec.mounts, plan.hidden);
  add_system_mounts(spec.mounts, *tmp_size);
  spec.mounts.push_back({MountKind::Tmpfs, plan.home, {}, *home_size, 0700});
  for (const auto& t : plan.toolchains)
    spec.mounts.push_back({MountKind::BindReadOnly, t.path, t.source});
  if (auto r = show_local_dependencies(plan, base); !r) return propagate(r);
  spec.mounts.push_back({MountKind::BindReadWrite, plan.project, plan.project});
  drop_needless_hides(plan);
  order_mounts(spec.mounts);

  spec.argv = options.command;
  spec.cwd = is_within(invoker.cwd, plan.project) ? invoker.cwd : plan.project;
  spec.hostname = random_hostname();
  spec.outer_uid = invoker.uid;
  spec.outer_gid = invoker.gid;
  spec.limits.open_files = base.open_files;
  spec.limits.processes = base.processes;
  spec.keep_terminal = invoker.stdin_is_terminal;
  spec.record_writes = {{"home", plan.home}, {"tmp", "/tmp"}};
  plan.timeout_seconds = options.timeout_seconds;
  if (auto r = plan_egress(plan, options, invoker); !r) return propagate(r);
  return plan;
}

}  // namespace safeinstall::runner
