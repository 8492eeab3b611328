#include "runner/plan/profile_loader.h"

#include <algorithm>
#include <filesystem>

#include "runner/fs/path_globs.h"
#include "runner/plan/broad_hosts.h"
#include "runner/plan/decoys.h"
#include "runner/plan/environment.h"
#include "runner/profile/build_outputs.h"
#include "runner/profile/carryover/url_userinfo.h"
#include "runner/profile/registry_discovery.h"
#include "runner/profile/tool_config_carryover.h"
#include "runner/supervise/decoy_watch.h"
#include "sandbox/base/env_vars.h"
#include "sandbox/base/path_text.h"
#include "sandbox/egress/gateway_listeners.h"

namespace safeinstall::runner {
namespace {

namespace fs = std::filesystem;
using sandbox::MountKind;
using sandbox::MountSpec;

// The invoker's real home, when there is one: the place their configuration lives.
fs::path real_home(const Invoker& invoker) {
  std::string home = env_value(invoker.env, "HOME");
  if (home.empty() || home.front() != '/') return {};
  std::error_code ec;
  auto real = fs::canonical(home, ec);
  if (ec || real == "/" || !fs::is_directory(real, ec)) return {};
  return real;
}

fs::path project_dir(const Options& options, const Invoker& invoker) {
  std::error_code ec;
  auto dir = fs::canonical(options.project.empty() ? invoker.cwd : options.project, ec);
  return ec ? fs::path() : dir;
}

// "~/x" in the invoker's home and where it appears in the sandbox's.
std::pair<fs::path, fs::path> home_path(const std::string& path, const fs::path& home,
                                        const std::string& sandbox_home) {
  if (!path.starts_with("~/")) return {path, path};
  if (home.empty()) return {};
  return {home / path.substr(2), fs::path(sandbox_home) / path.substr(2)};
}

Result<GlobSet> globs_of(const SourcedStrings& values, const char* skip_origin) {
  GlobSet set;
  for (const auto& v : values) {
    if (v.origin.file == skip_origin) continue;
    if (auto added = set.add(v.value); !added)
      return plain_error(v.origin.text() + ": " + added.error().step, added.error().hint);
  }
  return set;
}

// `*.com` and the like, from any layer or --allow-host, unless --allow-broad.
Result<> refuse_broad_hosts(const RunProfile& run) {
  if (run.options.allow_broad) return {};
  std::vector<std::pair<sandbox::HostPattern, const Sourced<std::string>*>> wildcards;
  std::vector<std::string> hosts;
  for (const auto& h : run.profile.merged.hosts) {
    auto parsed = sandbox::parse_host_pattern(h.value);
    // A pattern that does not parse fails later, with its own error.
    if (!parsed || parsed->kind != sandbox::HostPattern::Kind::Subdomains) continue;
    hosts.push_back(parsed->host);
    wildcards.emplace_back(*parsed, &h);
  }
  if (wildcards.empty()) return {};
  auto suffixes = public_suffixes_among(hosts);
  for (const auto& [pattern, value] : wildcards) {
    bool is_suffix = std::ranges::find(suffixes, pattern.host) != suffixes.end();
    if (auto why = too_broad(pattern, is_suffix))
      return plain_error(value->origin.text() + ": " + *why);
  }
  return {};
}

bool is_project_config(const Origin& origin) {
  return origin.file.ends_with("/.safeinstall.toml");
}

std::string project_values(const SourcedStrings& values) {
  std::string text;
  for (const auto& v : values)
    if (is_project_config(v.origin)) text += (text.empty() ? "" : ", ") + v.value;
  return text;
}

// What the project's own .safeinstall.toml loosens: a cloned project can ask for more than the
// user would give it.
std::vector<std::string> project_config_widening(const ProfileLayer& merged) {
  std::vector<std::string> added;
  auto note = [&](const char* what, const SourcedStrings& values) {
    if (auto text = project_values(values); !text.empty()) added.push_back(what + text);
  };
  note("hosts ", merged.hosts);
  note("expected writes ", merged.expected);
  note("build outputs ", merged.outputs);
  note("direct dirs ", merged.direct);
  note("environment variables ", merged.env_allow);
  note("credentials ", merged.credentials);
  // ---- [autorun] ----
  std::string accepted;
  for (const auto& a : merged.autorun_accept)
    if (is_project_config(a.origin)) accepted += (accepted.empty() ? "" : ", ") + a.glob;
  if (!accepted.empty()) added.push_back("accepted auto-run files " + accepted);
  // ---- end [autorun] ----
  // Only critical vulnerabilities hold the run: looser than the default (high).
  if (merged.vuln_severity && is_project_config(merged.vuln_severity->origin) &&
      merged.vuln_severity->value == "critical")
    added.push_back("vulnerability threshold critical");
  return added;
}

bool running_in_ci() {
  std::string ci = getenv_string("CI");
  return !ci.empty() && ci != "false" && ci != "0";
}

Result<> note_project_config(RunPlan& plan, const RunProfile& run) {
  auto added = project_config_widening(run.profile.merged);
  if (added.empty()) return {};
  std::string text;
  for (const auto& a : added) text += (text.empty() ? "" : "; ") + a;
  if (running_in_ci() && !run.options.trust_project_config)
    return plain_error("the project's .safeinstall.toml widens the sandbox (" + text +
                           "), which a CI run does not accept from the project it installs",
                       "review it, then pass --trust-project-config");
  plan.profile_notes.push_back("project config adds: " + text);
  return {};
}

Result<> add_hosts(RunPlan& plan, const RunProfile& run, const Invoker& invoker) {
  auto patterns = plan.egress.patterns();
  auto add = [&](const std::string& text, const std::string& where) -> Result<> {
    auto parsed = sandbox::parse_host_pattern(text);
    if (!parsed) return plain_error(where + ": " + parsed.error().step);
    if (std::ranges::none_of(patterns, [&](const auto& p) { return p.text() == parsed->text(); }))
      patterns.push_back(*parsed);
    return {};
  };
  for (const auto& host : run.profile.merged.hosts) {
    if (host.origin.file == "--allow-host") continue;  // already in the plan
    if (auto ok = add(host.value, host.origin.text()); !ok) return ok;
  }
  std::vector<std::string> readers;
  for (const auto& r : run.profile.merged.discover) readers.push_back(r.value);
  DiscoveryInput input{readers, run.options.command, &invoker.env, plan.project,
                       real_home(invoker)};
  auto discovery = discover_registries(input);
  for (const auto& found : discovery.hosts) {
    if (auto ok = add(found.pattern, found.source); !ok) continue;
    plan.profile_notes.push_back("allowed from " + found.source + ": " + found.pattern);
  }
  std::ranges::move(discovery.notes, std::back_inserter(plan.profile_notes));
  plan.egress = sandbox::EgressPolicy(std::move(patterns));
  return {};
}

// PIP_INDEX_URL=https://user:token@host/ passes as https://host/ unless --pass-env names it
// (a password with '/' in it included: see runner/profile/carryover/url_userinfo.h).
void strip_url_credentials(std::vector<std::string>& env, const std::vector<std::string>& pass) {
  for (auto& entry : env) {
    auto eq = entry.find('=');
    if (eq == std::string::npos || entry.find('@', eq) == std::string::npos) continue;
    if (std::ranges::find(pass, entry.substr(0, eq)) != pass.end()) continue;
    entry =
        entry.substr(0, eq + 1) + text_without_url_userinfo(std::string_view(entry).substr(eq + 1));
  }
}

void add_environment(RunPlan& plan, const RunProfile& run) {
  strip_url_credentials(plan.spec.env, run.options.pass_env);
  for (const auto& cache : run.profile.merged.caches) {
    if (cache.env.empty()) continue;
    set_variable(plan.spec.env, cache.env, plan.home + "/" + cache.path.substr(2));
  }
  for (const auto& [name, value] : run.profile.merged.env_set)
    set_variable(plan.spec.env, name, expand_placeholders(value.value, plan));
}

void add_mounts(RunPlan& plan, const RunProfile& run, const Invoker& invoker) {
  fs::path home = real_home(invoker);
  std::vector<fs::path> credentials;
  for (const auto& c : run.profile.merged.credentials) {
    if (c.origin.file != "--credentials") continue;  // the profile's list is what may be named
    auto [source, target] = home_path(c.value, home, plan.home);
    std::error_code ec;
    auto real = fs::canonical(source, ec);
    if (ec) {
      plan.profile_notes.push_back("--credentials " + c.value + ": not found, not mounted");
      continue;
    }
    credentials.push_back(real);
    if (!home.empty() && real != home && is_within(real.string(), home.string()))
      target = fs::path(plan.home) / real.lexically_relative(home);
    else
      target = real;
    plan.spec.mounts.push_back({MountKind::BindReadOnly, target.string(), real.string()});
    plan.profile_notes.push_back("credentials: " + c.value + " mounted read-only");
  }
  for (auto carried : {carry_over_tool_config(home, plan.home, credentials),
                       cover_project_configs(plan.project, credentials)}) {
    for (auto& m : carried.mounts) {
      // A file named with --credentials is mounted above already.
      if (std::ranges::any_of(plan.spec.mounts,
                              [&](const MountSpec& x) { return x.target == m.target; }))
        continue;
      plan.spec.mounts.push_back(std::move(m));
    }
    std::ranges::move(carried.notes, std::back_inserter(plan.profile_notes));
    std::ranges::move(carried.withheld, std::back_inserter(plan.config_dropped));
  }
  for (const auto& r : run.profile.merged.readonly) {
    auto [source, target] = home_path(r.value, home, plan.home);
    std::error_code ec;
    if (source.empty() || !fs::exists(source, ec)) continue;
    plan.spec.mounts.push_back({MountKind::BindReadOnly, target.string(), source.string()});
  }
  // Parents before children, as the plan orders them.
  std::ranges::stable_sort(plan.spec.mounts, {},
                           [](const MountSpec& m) { return std::ranges::count(m.target, '/'); });
}

// The profile's [limits] stand in for the limit flags that were not given.
void use_default_limits(Options& options, const BaseProfile& base) {
  if (options.memory.empty() && base.memory) options.memory = std::to_string(*base.memory);
  if (!options.pids && base.pids) options.pids = static_cast<long>(*base.pids);
  if (!options.cpu_time_seconds && base.cpu_time)
    options.cpu_time_seconds = static_cast<double>(*base.cpu_time);
  if (!options.timeout_seconds && base.timeout)
    options.timeout_seconds = static_cast<double>(*base.timeout);
  if (options.disk.empty() && base.disk) options.disk = std::to_string(*base.disk);
  if (!options.files && base.files) options.files = static_cast<long>(*base.files);
}

}  // namespace

std::string expand_placeholders(const std::string& value, const RunPlan& plan) {
  const std::pair<std::string, std::string> values[] = {
      {"${HOME}", plan.home},
      {"${PROJECT}", plan.project},
      {"${PROXY_HOST}", "127.0.0.1"},
      {"${PROXY_PORT}", std::to_string(sandbox::kGatewayProxyPort)},
      {"${PROXY_URL}", std::string(sandbox::kGatewayProxyUrl)},
  };
  std::string out = value;
  for (const auto& [name, replacement] : values) {
    for (auto at = out.find(name); at != std::string::npos;
         at = out.find(name, at + replacement.size()))
      out.replace(at, name.size(), replacement);
  }
  return out;
}

Result<RunProfile> resolve_run_profile(const Options& given, const Invoker& invoker) {
  auto dirs = default_layer_dirs(invoker.env, project_dir(given, invoker).string());
  if (!dirs) return propagate(dirs);
  FlagLayer flags;
  if (!given.profile.empty()) flags.profile = given.profile;
  flags.allow_hosts = given.allow_hosts;
  flags.expect = given.expect;
  if (given.scripts_given) flags.scripts = given.scripts;
  flags.credentials = given.credentials;
  auto resolved = resolve_profile(given.command, flags, *dirs);
  if (!resolved) return propagate(resolved);
  RunProfile run{std::move(*resolved), given, {}};
  run.base = run.profile.base();
  use_default_limits(run.options, run.base);
  if (run.profile.merged.scripts) run.options.scripts = run.profile.merged.scripts->value;
  if (run.options.osv_db.empty() && run.profile.merged.osv_db)
    run.options.osv_db = run.profile.merged.osv_db->value;
  if (run.profile.merged.vuln_severity)
    run.options.vuln_severity = run.profile.merged.vuln_severity->value;
  auto extra_protected = globs_of(run.profile.merged.protected_paths, "");
  if (!extra_protected) return propagate(extra_protected);
  use_profile_protected(*extra_protected);
  return run;
}

Result<BaseProfile> housekeeping_profile(const Invoker& invoker) {
  auto dirs = default_layer_dirs(invoker.env, "");
  if (!dirs) return propagate(dirs);
  auto resolved = resolve_named_profile("base", {}, *dirs);
  if (!resolved) return propagate(resolved);
  return resolved->base();
}

namespace {

// [files] outputs as globs for this command, each with the place it was set.
SourcedStrings build_outputs_of(const RunProfile& run, const RunPlan& plan) {
  SourcedStrings globs;
  for (const auto& entry : run.profile.merged.outputs)
    for (auto& glob :
         build_output_globs({entry.value}, run.options.command, plan.project, plan.spec.cwd))
      globs.push_back({std::move(glob), entry.origin});
  return globs;
}

}  // namespace

Result<> apply_profile(RunPlan& plan, const RunProfile& run, const Invoker& invoker) {
  std::string hosts;
  for (const auto& h : run.profile.merged.hosts) {
    if (h.origin.file != "--allow-host") hosts += (hosts.empty() ? "" : ", ") + h.value;
  }
  plan.profile_notes.insert(plan.profile_notes.begin(),
                            run.profile.name + " (" + run.profile.reason + ")" +
                                (hosts.empty() ? std::string() : "; allows " + hosts));
  if (auto ok = refuse_broad_hosts(run); !ok) return ok;
  if (auto ok = note_project_config(plan, run); !ok) return ok;
  if (auto ok = add_hosts(plan, run, invoker); !ok) return ok;
  add_environment(plan, run);
  add_mounts(plan, run, invoker);
  // After the carried configuration: a decoy joins a sanitized copy, never a real file.
  auto decoys = decoy_settings(run.profile.merged, decoy_reads_have_pids());
  if (run.options.no_decoys) decoys.enabled = false;
  plan_decoys(plan, decoys);
  for (const auto& d : run.profile.merged.direct) plan.direct_dirs.push_back(d.value);
  for (const auto& log : run.profile.merged.logs)
    plan.log_places.push_back({plan.home + "/" + log.path.substr(2), log.env, log.file});
  if (run.profile.is_install(run.options.command)) {
    for (const auto& m : run.profile.merged.manifests) plan.dependency_manifests.push_back(m.value);
  }
  // The flag layer holds --expect too; with_expect_flags adds those with the flag's own errors.
  auto profile_expected = globs_of(run.profile.merged.expected, "--expect");
  if (!profile_expected) return propagate(profile_expected);
  // A build command's outputs (npm run build: dist/**) are expected for it alone.
  if (run.profile.is_build(run.options.command)) {
    auto outputs = globs_of(build_outputs_of(run, plan), "");
    if (!outputs) return propagate(outputs);
    profile_expected->add_all(*outputs);
  }
  auto expected = with_expect_flags(std::move(*profile_expected), run.options.expect);
  if (!expected) return propagate(expected);
  plan.expected_writes = std::move(*expected);
  auto autorun = auto_run_rules_of(run.profile.merged);
  if (!autorun) return propagate(autorun);
  plan.autorun = std::move(*autorun);
  plan.package_policy = run.profile.merged.policy;
  return {};
}

}  // namespace safeinstall::runner
