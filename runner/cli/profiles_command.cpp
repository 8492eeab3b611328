#include "runner/cli/profiles_command.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "runner/messages.h"
#include "runner/plan/environment.h"

namespace safeinstall::runner {
namespace {

namespace fs = std::filesystem;

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

void value_line(std::string& out, const std::string& key, const std::string& value,
                const Origin& origin) {
  out += key + " = " + value + "  # " + origin.text() + "\n";
}

void list_lines(std::string& out, const std::string& key, const SourcedStrings& values) {
  if (values.empty()) return;
  out += key + " = [\n";
  for (const auto& v : values) out += "  " + quoted(v.value) + ",  # " + v.origin.text() + "\n";
  out += "]\n";
}

struct ListKey {
  const char* key;
  const SourcedStrings& values;
};

// "[name]" and its lists, those with values.
void list_section(std::string& out, const char* name, std::initializer_list<ListKey> lists) {
  out += "\n[" + std::string(name) + "]\n";
  for (const auto& list : lists) list_lines(out, list.key, list.values);
}

void optional_line(std::string& out, const std::string& key,
                   const std::optional<Sourced<std::string>>& value) {
  if (value) value_line(out, key, quoted(value->value), value->origin);
}

void number_line(std::string& out, const std::string& key,
                 const std::optional<Sourced<std::uint64_t>>& value) {
  if (value) value_line(out, key, std::to_string(value->value), value->origin);
}

// ---- Package policy: [policy], [policy.<ecosystem>], [scripts] ----

void bool_line(std::string& out, const std::string& key,
               const std::optional<Sourced<bool>>& value) {
  if (value) value_line(out, key, value->value ? "true" : "false", value->origin);
}

void release_age_lines(std::string& out, const ReleaseAgeLayer& layer) {
  optional_line(out, "min_release_age", layer.min_release_age);
  list_lines(out, "min_release_age_exclude", layer.exclude);
}

bool policy_is_set(const PolicyLayer& p) {
  return p.release_age.min_release_age || !p.release_age.exclude.empty() || !p.ecosystems.empty() ||
         p.release_age_required || p.typosquats || !p.allow_packages.empty() ||
         !p.allow_maintainers.empty();
}

void policy_sections(std::string& out, const ProfileLayer& m) {
  const PolicyLayer& p = m.policy;
  bool known_bad = m.osv_db || m.vuln_severity;
  if (policy_is_set(p) || known_bad) {
    out += "\n[policy]\n";
    release_age_lines(out, p.release_age);
    bool_line(out, "release_age_required", p.release_age_required);
    list_lines(out, "allow_packages", p.allow_packages);
    list_lines(out, "allow_maintainers", p.allow_maintainers);
    bool_line(out, "typosquats", p.typosquats);
    optional_line(out, "osv_db", m.osv_db);
    optional_line(out, "vuln_severity", m.vuln_severity);
    for (const auto& [name, layer] : p.ecosystems) {
      out += "\n[policy." + name + "]\n";
      release_age_lines(out, layer);
    }
  }
  if (!p.scripts_allow.empty()) list_section(out, "scripts", {{"allow", p.scripts_allow}});
}

// ---- end of package policy ----

// "built-in" or the path of each file, lowest layer first.
std::string layers_of(const std::string& name, const LayerDirs& dirs) {
  std::string out;
  for (const auto& file : profile_files(name, dirs))
    out += (out.empty() ? "" : ", ") + shown_origin(file);
  return out;
}

}  // namespace

std::string render_profile_list(const LayerDirs& dirs) {
  std::string out;
  for (const auto& name : available_profiles(dirs)) {
    FlagLayer none;
    LayerDirs without_project = dirs;
    without_project.project.clear();
    auto profile = resolve_named_profile(name, none, without_project);
    if (!profile) {
      out += name + "  (broken: " + profile.error().message() + ")\n";
      continue;
    }
    std::string commands;
    for (const auto& c : profile->merged.commands)
      commands += (commands.empty() ? "" : ", ") + c.value;
    out += name;
    if (profile->merged.description) out += " — " + profile->merged.description->value;
    out += "\n";
    if (!commands.empty()) out += "    matches: " + commands + "\n";
    out += "    from:    " + layers_of(name, dirs) + "\n";
  }
  auto project_file = dirs.project / ".safeinstall.toml";
  if (!dirs.project.empty() && ::access(project_file.c_str(), R_OK) == 0)
    out += "project layer: " + project_file.string() + "\n";
  out +=
      "Without a matching profile a command runs under base: nothing is allowed on the network.\n";
  return out;
}

std::string render_profile(const ResolvedProfile& p) {
  const auto& m = p.merged;
  std::string out = "# profile " + p.name + ", layers applied in order:\n";
  for (const auto& f : p.files) out += "#   " + f.string() + "\n";
  optional_line(out, "extends", m.extends);
  optional_line(out, "description", m.description);
  optional_line(out, "scripts", m.scripts);
  optional_line(out, "profile", m.profile);
  list_section(out, "match",
               {{"commands", m.commands},
                {"install", m.install},
                {"build", m.build},
                {"project_files", m.project_files},
                {"always", m.always},
                {"bare", m.bare},
                {"global", m.global},
                {"value_options", m.value_options},
                {"option_prefixes", m.option_prefixes}});
  list_section(out, "network", {{"allow", m.hosts}, {"discover", m.discover}});
  list_section(out, "files",
               {{"expected", m.expected},
                {"protected", m.protected_paths},
                {"direct", m.direct},
                {"manifests", m.manifests},
                {"outputs", m.outputs}});
  out +=
      "# and always protected: .git/**, .github/**, CI, editor and package manager config "
      "(built in)\n";
  list_section(out, "env", {{"allow", m.env_allow}, {"secret", m.env_secret}});
  if (!m.env_set.empty()) {
    out += "\n[env.set]\n";
    for (const auto& [name, value] : m.env_set)
      value_line(out, name, quoted(value.value), value.origin);
  }
  if (!m.credentials.empty()) {
    out += "\n[credentials]\n";
    list_lines(out, "files", m.credentials);
  }
  for (const auto& cache : m.caches) {
    out += "\n[[cache]]  # " + cache.origin.text() + "\n";
    out += "path = " + quoted(cache.path) + "\n";
    if (!cache.env.empty()) out += "env = " + quoted(cache.env) + "\n";
  }
  for (const auto& log : m.logs) {
    out += "\n[[logs]]  # " + log.origin.text() + "\n";
    out += "path = " + quoted(log.path) + "\n";
    if (!log.env.empty()) out += "env = " + quoted(log.env) + "\n";
    if (!log.file.empty()) out += "file = " + quoted(log.file) + "\n";
  }
  list_section(out, "filesystem",
               {{"visible", m.visible}, {"hide", m.hide}, {"readonly", m.readonly}});
  if (m.hide_user_homes)
    value_line(out, "hide_user_homes", m.hide_user_homes->value ? "true" : "false",
               m.hide_user_homes->origin);
  number_line(out, "home_size", m.home_size);
  number_line(out, "tmp_size", m.tmp_size);
  for (const auto& t : m.toolchains) {
    std::string dirs;
    for (const auto& d : t.dirs) dirs += (dirs.empty() ? "" : ", ") + quoted(d);
    out += "# toolchain " + t.name + ": [" + dirs + "]  # " + t.origin.text() + "\n";
  }
  out += "\n[limits]\n";
  number_line(out, "open_files", m.open_files);
  number_line(out, "processes", m.processes);
  number_line(out, "memory", m.memory);
  number_line(out, "pids", m.pids);
  number_line(out, "cpu_time", m.cpu_time);
  number_line(out, "timeout", m.timeout);
  number_line(out, "disk", m.disk);
  number_line(out, "files", m.files);
  policy_sections(out, m);
  return out;
}

int profiles_command(const std::string& name, const Options& options) {
  std::error_code ec;
  auto project =
      fs::canonical(options.project.empty() ? fs::current_path(ec) : fs::path(options.project), ec);
  auto dirs = default_layer_dirs(current_environment(), ec ? std::string() : project.string());
  if (!dirs) return fail(dirs.error().message());
  if (name.empty()) {
    std::fputs(render_profile_list(*dirs).c_str(), stdout);
    return 0;
  }
  FlagLayer flags;
  flags.allow_hosts = options.allow_hosts;
  flags.expect = options.expect;
  if (options.scripts_given) flags.scripts = options.scripts;
  flags.credentials = options.credentials;
  auto profile = resolve_named_profile(name, flags, *dirs);
  if (!profile) return fail(profile.error().message());
  std::fputs(render_profile(*profile).c_str(), stdout);
  return 0;
}

}  // namespace safeinstall::runner
