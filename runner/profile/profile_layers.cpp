#include "runner/profile/profile_layers.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <map>

#include "runner/fs/fs_tree.h"
#include "runner/fs/user_dirs.h"
#include "runner/profile/command_matcher.h"
#include "sandbox/base/env_vars.h"

namespace safeinstall::runner {
namespace {

namespace fs = std::filesystem;

constexpr const char* kProjectFile = ".safeinstall.toml";

bool readable(const fs::path& file) {
  return ::access(file.c_str(), R_OK) == 0;
}

void append_unique(SourcedStrings& into, const SourcedStrings& from) {
  for (const auto& value : from) {
    if (std::ranges::none_of(into, [&](const auto& v) { return v.value == value.value; }))
      into.push_back(value);
  }
}

template <typename T>
void replace_if_set(std::optional<T>& into, const std::optional<T>& from) {
  if (from) into = from;
}

// The layers of one profile name, lowest first.
Result<std::vector<ProfileLayer>> own_layers(const std::string& name, const LayerDirs& dirs) {
  std::vector<ProfileLayer> layers;
  for (const auto& file : profile_files(name, dirs)) {
    auto layer = load_profile_file(file, LayerKind::Profile);
    if (!layer) return propagate(layer);
    layers.push_back(std::move(*layer));
  }
  return layers;
}

std::string list_of(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// The extends chain, base first, then the profile's own layers (from `own_from` on).
struct Chain {
  std::vector<ProfileLayer> layers;
  std::size_t own_from = 0;
};

Result<Chain> chain_of(const std::string& name, const LayerDirs& dirs,
                       std::vector<std::string>& visiting) {
  if (std::ranges::find(visiting, name) != visiting.end())
    return plain_error("profile `" + name + "` extends itself through " + list_of(visiting),
                       "make the chain of `extends` end at \"base\"");
  visiting.push_back(name);
  auto own = own_layers(name, dirs);
  if (!own) return propagate(own);
  if (own->empty())
    return plain_error("no profile named `" + name + "`",
                       "profiles: " + list_of(available_profiles(dirs)));
  std::optional<Sourced<std::string>> extends;
  for (const auto& layer : *own) replace_if_set(extends, layer.extends);
  Chain chain;
  std::string parent = extends ? extends->value : (name == "base" ? "" : "base");
  if (!parent.empty()) {
    if (profile_files(parent, dirs).empty())
      return plain_error((extends ? extends->origin.text() + ": " : std::string()) + "profile `" +
                             name + "` extends `" + parent + "`, which does not exist",
                         "profiles: " + list_of(available_profiles(dirs)));
    auto parents = chain_of(parent, dirs, visiting);
    if (!parents) return propagate(parents);
    chain.layers = std::move(parents->layers);
  }
  chain.own_from = chain.layers.size();
  std::ranges::move(*own, std::back_inserter(chain.layers));
  return chain;
}

ProfileLayer flag_layer(const FlagLayer& flags) {
  ProfileLayer layer;
  layer.file = "command line";
  for (const auto& h : flags.allow_hosts) layer.hosts.push_back({h, {"--allow-host"}});
  for (const auto& g : flags.expect) layer.expected.push_back({g, {"--expect"}});
  for (const auto& c : flags.credentials) layer.credentials.push_back({c, {"--credentials"}});
  if (flags.scripts) layer.scripts = Sourced<std::string>{*flags.scripts, {"--scripts"}};
  return layer;
}

Result<std::optional<ProfileLayer>> project_layer(const LayerDirs& dirs) {
  if (dirs.project.empty()) return std::optional<ProfileLayer>();
  auto file = dirs.project / kProjectFile;
  if (!readable(file)) return std::optional<ProfileLayer>();
  auto layer = load_profile_layer(file, LayerKind::Project);
  if (!layer) return propagate(layer);
  return std::optional<ProfileLayer>(std::move(*layer));
}

struct Match {
  std::string name;
  std::string form;
  std::size_t words = 0;
  bool conditional = false;
};

bool project_has_any(const SourcedStrings& files, const fs::path& project) {
  std::error_code ec;
  return std::ranges::any_of(
      files, [&](const auto& f) { return !project.empty() && fs::exists(project / f.value, ec); });
}

// The profile whose command forms fit argv best: more words first, then a profile whose
// project condition holds over one without.
// "pip3.11" → "pip": every command form that can match argv[0] starts with this.
std::string command_stem(std::span<const std::string> argv) {
  if (argv.empty()) return {};
  std::string name = leaf_of(argv[0]);
  while (!name.empty() && ((name.back() >= '0' && name.back() <= '9') || name.back() == '.'))
    name.pop_back();
  return name;
}

// Whether any file of the profile mentions the stem as the start of a string: a profile that
// does not cannot match, and is not parsed (the common case costs one read per file).
bool may_match(const std::string& name, const LayerDirs& dirs, const std::string& stem) {
  for (const auto& file : profile_files(name, dirs)) {
    auto text = read_profile_text(file);
    if (!text) continue;
    if (text->find("\"" + stem) != std::string::npos || text->find("'" + stem) != std::string::npos)
      return true;
  }
  return false;
}

Result<std::optional<Match>> best_match(std::span<const std::string> argv, const LayerDirs& dirs) {
  std::optional<Match> best;
  std::string stem = command_stem(argv);
  if (stem.empty()) return best;
  for (const auto& name : available_profiles(dirs)) {
    if (!may_match(name, dirs, stem)) continue;
    auto layers = own_layers(name, dirs);
    if (!layers) return propagate(layers);
    ProfileLayer merged;
    for (const auto& layer : *layers) merge_layer(merged, layer, true);
    bool conditional = !merged.project_files.empty();
    if (conditional && !project_has_any(merged.project_files, dirs.project)) continue;
    for (const auto& form : merged.commands) {
      auto words = match_command_form(form.value, argv);
      if (!words) continue;
      bool better = !best || *words > best->words ||
                    (*words == best->words && conditional && !best->conditional);
      if (better) best = Match{name, form.value, *words, conditional};
    }
  }
  return best;
}

Result<ResolvedProfile> assemble(const std::string& name, const LayerDirs& dirs,
                                 const std::optional<ProfileLayer>& project,
                                 const FlagLayer& flags) {
  std::vector<std::string> visiting;
  auto chain = chain_of(name, dirs, visiting);
  if (!chain) return propagate(chain);
  ResolvedProfile resolved;
  resolved.name = name;
  const auto& layers = chain->layers;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    merge_layer(resolved.merged, layers[i], i >= chain->own_from);
    resolved.files.push_back(layers[i].file);
  }
  if (project) {
    merge_layer(resolved.merged, *project, false);
    resolved.files.push_back(project->file);
  }
  merge_layer(resolved.merged, flag_layer(flags), false);
  resolved.merged.file = resolved.files.empty() ? fs::path() : resolved.files.back();
  return resolved;
}

}  // namespace

namespace {

std::vector<std::string> values_of(const SourcedStrings& list) {
  std::vector<std::string> values;
  for (const auto& v : list) values.push_back(v.value);
  return values;
}

std::vector<std::string_view> views_of(const SourcedStrings& list) {
  std::vector<std::string_view> views;
  for (const auto& v : list) views.emplace_back(v.value);
  return views;
}

// One of `forms` behind the matched command form, the profile's global options skipped.
bool matches_forms(const ProfileLayer& merged, const SourcedStrings& forms,
                   std::span<const std::string> argv, std::size_t matched_words) {
  auto value_options = views_of(merged.value_options);
  auto prefixes = views_of(merged.option_prefixes);
  return is_install_command(values_of(forms), argv, matched_words,
                            OptionSyntax{value_options, prefixes});
}

}  // namespace

bool ResolvedProfile::is_install(std::span<const std::string> argv) const {
  return matches_forms(merged, merged.install, argv, matched_words);
}

bool ResolvedProfile::is_build(std::span<const std::string> argv) const {
  return matches_forms(merged, merged.build, argv, matched_words);
}

BaseProfile ResolvedProfile::base() const {
  BaseProfile base;
  base.source = files.empty() ? fs::path() : files.front();
  for (const auto& v : merged.env_allow) base.env_allow.push_back(v.value);
  for (const auto& v : merged.env_secret) base.env_secret.push_back(v.value);
  for (const auto& v : merged.visible) base.visible.push_back(v.value);
  for (const auto& v : merged.hide) base.hide.push_back(v.value);
  if (merged.hide_user_homes) base.hide_user_homes = merged.hide_user_homes->value;
  if (merged.home_size) base.home_size = merged.home_size->value;
  if (merged.tmp_size) base.tmp_size = merged.tmp_size->value;
  for (const auto& t : merged.toolchains) base.toolchains.push_back({t.name, t.dirs});
  if (merged.open_files) base.open_files = merged.open_files->value;
  if (merged.processes) base.processes = merged.processes->value;
  auto value_of = [](const auto& sourced) {
    return sourced ? std::optional<std::uint64_t>(sourced->value) : std::nullopt;
  };
  base.memory = value_of(merged.memory);
  base.pids = value_of(merged.pids);
  base.cpu_time = value_of(merged.cpu_time);
  base.timeout = value_of(merged.timeout);
  base.disk = value_of(merged.disk);
  base.files = value_of(merged.files);
  base.runs_keep = value_of(merged.runs_keep);
  base.runs_max_age = value_of(merged.runs_max_age);
  return base;
}

Result<BaseProfile> load_base_profile(const std::filesystem::path& file) {
  // One schema for every profile file: base.toml is read like the others.
  auto layer = load_profile_layer(file, LayerKind::Profile);
  if (!layer) return propagate(layer);
  ResolvedProfile profile;
  profile.name = file.stem().string();
  profile.files = {file};
  merge_layer(profile.merged, *layer, true);
  return profile.base();
}

namespace {

LayerDirs builtin_layer_dirs(const std::string& profile_dir) {
  LayerDirs dirs;
  dirs.builtin = profile_dir;
  dirs.installed = installed_profile_dir();
  dirs.compiled_in = true;
  return dirs;
}

}  // namespace

Result<BaseProfile> load_default_base_profile() {
  const char* env = std::getenv("SAFEINSTALL_PROFILE_DIR");
  auto files = profile_files("base", builtin_layer_dirs(env == nullptr ? "" : env));
  if (files.empty()) return plain_error("no base profile found");
  auto layer = load_profile_file(files.front(), LayerKind::Profile);
  if (!layer) return propagate(layer);
  ResolvedProfile profile;
  profile.name = "base";
  profile.files = {files.front().origin};
  merge_layer(profile.merged, *layer, true);
  return profile.base();
}

Result<LayerDirs> default_layer_dirs(const std::vector<std::string>& env,
                                     const std::string& project) {
  LayerDirs dirs = builtin_layer_dirs(env_value(env, "SAFEINSTALL_PROFILE_DIR"));
  std::string system = env_value(env, "SAFEINSTALL_SYSTEM_DIR");
  dirs.system = system.empty() ? fs::path("/etc/safeinstall") : fs::path(system);
  if (auto config =
          xdg_base_dir(env_value(env, "XDG_CONFIG_HOME"), env_value(env, "HOME"), ".config"))
    dirs.user = fs::path(*config) / "safeinstall";
  dirs.project = project;
  return dirs;
}

// ---- Package policy: lists add up, single values are replaced, per ecosystem too ----
namespace {

void merge_release_age(ReleaseAgeLayer& into, const ReleaseAgeLayer& from) {
  replace_if_set(into.min_release_age, from.min_release_age);
  append_unique(into.exclude, from.exclude);
}

void merge_policy(PolicyLayer& into, const PolicyLayer& from) {
  merge_release_age(into.release_age, from.release_age);
  for (const auto& [name, layer] : from.ecosystems) {
    auto same =
        std::ranges::find_if(into.ecosystems, [&](const auto& e) { return e.first == name; });
    if (same != into.ecosystems.end())
      merge_release_age(same->second, layer);
    else
      into.ecosystems.emplace_back(name, layer);
  }
  replace_if_set(into.release_age_required, from.release_age_required);
  replace_if_set(into.typosquats, from.typosquats);
  append_unique(into.allow_packages, from.allow_packages);
  append_unique(into.allow_maintainers, from.allow_maintainers);
  append_unique(into.scripts_allow, from.scripts_allow);
}

}  // namespace
// ---- end of package policy ----

void merge_layer(ProfileLayer& into, const ProfileLayer& from, bool with_match) {
  replace_if_set(into.extends, from.extends);
  replace_if_set(into.description, from.description);
  replace_if_set(into.scripts, from.scripts);
  replace_if_set(into.profile, from.profile);
  if (with_match) {
    append_unique(into.commands, from.commands);
    append_unique(into.install, from.install);
    append_unique(into.build, from.build);
    append_unique(into.project_files, from.project_files);
    append_unique(into.always, from.always);
    append_unique(into.bare, from.bare);
    append_unique(into.global, from.global);
    append_unique(into.value_options, from.value_options);
    append_unique(into.option_prefixes, from.option_prefixes);
  }
  append_unique(into.hosts, from.hosts);
  append_unique(into.discover, from.discover);
  append_unique(into.expected, from.expected);
  append_unique(into.protected_paths, from.protected_paths);
  append_unique(into.direct, from.direct);
  append_unique(into.manifests, from.manifests);
  append_unique(into.outputs, from.outputs);
  append_unique(into.env_allow, from.env_allow);
  append_unique(into.env_secret, from.env_secret);
  for (const auto& [name, value] : from.env_set) {
    auto same = std::ranges::find_if(into.env_set, [&](const auto& e) { return e.first == name; });
    if (same != into.env_set.end())
      same->second = value;
    else
      into.env_set.push_back({name, value});
  }
  append_unique(into.credentials, from.credentials);
  replace_if_set(into.decoys_enabled, from.decoys_enabled);
  append_unique(into.decoy_skip, from.decoy_skip);
  append_unique(into.decoy_tool_reads, from.decoy_tool_reads);
  for (const auto& cache : from.caches) {
    auto same =
        std::ranges::find_if(into.caches, [&](const auto& c) { return c.path == cache.path; });
    if (same != into.caches.end())
      *same = cache;
    else
      into.caches.push_back(cache);
  }
  for (const auto& log : from.logs) {
    auto same = std::ranges::find_if(into.logs, [&](const auto& l) { return l.path == log.path; });
    if (same != into.logs.end())
      *same = log;
    else
      into.logs.push_back(log);
  }
  append_unique(into.visible, from.visible);
  append_unique(into.hide, from.hide);
  append_unique(into.readonly, from.readonly);
  replace_if_set(into.hide_user_homes, from.hide_user_homes);
  replace_if_set(into.home_size, from.home_size);
  replace_if_set(into.tmp_size, from.tmp_size);
  for (const auto& t : from.toolchains) {
    auto same =
        std::ranges::find_if(into.toolchains, [&](const auto& x) { return x.name == t.name; });
    if (same != into.toolchains.end())
      *same = t;
    else
      into.toolchains.push_back(t);
  }
  replace_if_set(into.open_files, from.open_files);
  replace_if_set(into.processes, from.processes);
  replace_if_set(into.memory, from.memory);
  replace_if_set(into.pids, from.pids);
  replace_if_set(into.cpu_time, from.cpu_time);
  replace_if_set(into.timeout, from.timeout);
  replace_if_set(into.runs_keep, from.runs_keep);
  replace_if_set(into.runs_max_age, from.runs_max_age);
  replace_if_set(into.disk, from.disk);
  replace_if_set(into.files, from.files);
  // ---- [autorun] ----
  for (const auto& point : from.autorun_points) {
    bool same = std::ranges::any_of(into.autorun_points, [&](const auto& p) {
      return p.check == point.check && p.paths == point.paths;
    });
    if (!same) into.autorun_points.push_back(point);
  }
  for (const auto& accept : from.autorun_accept) {
    bool same = std::ranges::any_of(into.autorun_accept, [&](const auto& a) {
      return a.glob == accept.glob && a.sha256 == accept.sha256;
    });
    if (!same) into.autorun_accept.push_back(accept);
  }
  // ---- end [autorun] ----
  replace_if_set(into.osv_db, from.osv_db);
  replace_if_set(into.vuln_severity, from.vuln_severity);
  merge_policy(into.policy, from.policy);
}

Result<ResolvedProfile> resolve_named_profile(const std::string& name, const FlagLayer& flags,
                                              const LayerDirs& dirs) {
  auto project = project_layer(dirs);
  if (!project) return propagate(project);
  return assemble(name, dirs, *project, flags);
}

Result<ResolvedProfile> resolve_profile(std::span<const std::string> argv, const FlagLayer& flags,
                                        const LayerDirs& dirs) {
  auto project = project_layer(dirs);
  if (!project) return propagate(project);
  std::string name;
  std::string reason;
  std::size_t words = 1;
  bool fallback = false;
  if (flags.profile) {
    name = *flags.profile;
    reason = "--profile " + name;
  } else if (*project && (*project)->profile) {
    name = (*project)->profile->value;
    reason = "profile = \"" + name + "\" at " + (*project)->profile->origin.text();
  }
  if (!name.empty()) {
    // An explicit profile still skips the words of its own command form, if one fits.
    auto layers = own_layers(name, dirs);
    if (layers) {
      for (const auto& layer : *layers) {
        for (const auto& form : layer.commands) {
          if (auto w = match_command_form(form.value, argv)) words = std::max(words, *w);
        }
      }
    }
  } else {
    auto match = best_match(argv, dirs);
    if (!match) return propagate(match);
    if (*match) {
      name = (*match)->name;
      reason = "matched `" + (*match)->form + "`";
      words = (*match)->words;
    } else {
      name = "base";
      fallback = true;
      reason = "no profile matches `" + (argv.empty() ? std::string() : leaf_of(argv[0])) +
               "`: nothing is allowed on the network (use --profile NAME or --allow-host)";
    }
  }
  auto resolved = assemble(name, dirs, *project, flags);
  if (!resolved) return resolved;
  resolved->reason = reason;
  resolved->fallback = fallback;
  resolved->matched_words = argv.empty() ? 0 : words;
  return resolved;
}

}  // namespace safeinstall::runner
