#include "runner/profile/profile_schema.h"

#include <toml++/toml.h>
#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "runner/fs/deep_glob.h"
#include "runner/fs/path_globs.h"
#include "runner/fs/toml_input.h"
#include "runner/profile/build_outputs.h"
#include "runner/profile/byte_size.h"
#include "runner/profile/decoy_names.h"
#include "runner/profile/package_pattern.h"
#include "runner/profile/release_age.h"
#include "runner/profile/script_policy.h"
#include "sandbox/egress/egress_policy.h"

namespace safeinstall::runner {
namespace {

// The reader of one file: every error names the file and the place in it.
class Reader {
 public:
  Reader(std::filesystem::path file, LayerKind kind) : file_(std::move(file)), kind_(kind) {}

  Origin origin(const toml::source_region& region) const {
    return {file_.string(), region.begin.line, region.begin.column};
  }
  std::unexpected<Error> fail(const toml::source_region& region, const std::string& what,
                              const std::string& expected) const {
    return plain_error(origin(region).text() + ": " + what, expected);
  }

  Result<> known_keys(const toml::table& table, const std::string& section,
                      std::initializer_list<const char*> known) const {
    for (const auto& [key, node] : table) {
      std::string name(key.str());
      if (std::ranges::any_of(known, [&](const char* k) { return name == k; })) continue;
      std::string list;
      for (const char* k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return fail(key.source(), "unknown key `" + name + "` in " + section,
                  "expected one of: " + list + " (see docs/profiles.md)");
    }
    return {};
  }

  Result<const toml::table*> table(const toml::table& parent, const char* key,
                                   const std::string& shown) const {
    const toml::node* node = parent.get(key);
    if (node == nullptr) return static_cast<const toml::table*>(nullptr);
    if (!node->is_table())
      return fail(node->source(), "`" + shown + "` must be a table", "[" + shown + "]");
    return node->as_table();
  }

  Result<std::optional<Sourced<std::string>>> string(const toml::table& parent, const char* key,
                                                     const std::string& shown,
                                                     const std::string& example) const {
    const toml::node* node = parent.get(key);
    if (node == nullptr) return std::optional<Sourced<std::string>>();
    if (!node->is_string())
      return fail(node->source(), "`" + shown + "` must be a string", shown + " = " + example);
    return Sourced<std::string>{node->as_string()->get(), origin(node->source())};
  }

  Result<SourcedStrings> strings(const toml::table& parent, const char* key,
                                 const std::string& shown, const std::string& example) const {
    SourcedStrings out;
    const toml::node* node = parent.get(key);
    if (node == nullptr) return out;
    const auto* array = node->as_array();
    if (array == nullptr)
      return fail(node->source(), "`" + shown + "` must be an array of strings",
                  shown + " = " + example);
    for (const auto& item : *array) {
      if (!item.is_string())
        return fail(item.source(), "every element of `" + shown + "` must be a string",
                    shown + " = " + example);
      if (item.as_string()->get().empty())
        return fail(item.source(), "empty string in `" + shown + "`", shown + " = " + example);
      out.push_back({item.as_string()->get(), origin(item.source())});
    }
    return out;
  }

  Result<std::optional<Sourced<std::uint64_t>>> count(const toml::table& parent, const char* key,
                                                      const std::string& shown) const {
    const toml::node* node = parent.get(key);
    if (node == nullptr) return std::optional<Sourced<std::uint64_t>>();
    const auto* integer = node->as_integer();
    if (integer == nullptr || integer->get() <= 0)
      return fail(node->source(), "`" + shown + "` must be a positive integer", shown + " = 4096");
    return Sourced<std::uint64_t>{static_cast<std::uint64_t>(integer->get()),
                                  origin(node->source())};
  }

  Result<std::optional<Sourced<std::uint64_t>>> size(const toml::table& parent, const char* key,
                                                     const std::string& shown) const {
    const toml::node* node = parent.get(key);
    if (node == nullptr) return std::optional<Sourced<std::uint64_t>>();
    if (const auto* integer = node->as_integer(); integer != nullptr && integer->get() > 0)
      return Sourced<std::uint64_t>{static_cast<std::uint64_t>(integer->get()),
                                    origin(node->source())};
    if (const auto* text = node->as_string(); text != nullptr) {
      if (auto parsed = parse_size(text->get()))
        return Sourced<std::uint64_t>{*parsed, origin(node->source())};
    }
    return fail(node->source(), "`" + shown + "` must be a size",
                shown + " = \"512M\", \"2G\" or a byte count");
  }

  const std::filesystem::path& file() const { return file_; }
  LayerKind kind() const { return kind_; }

 private:
  std::filesystem::path file_;
  LayerKind kind_;
};

template <typename T>
Result<> take(Result<T> result, T& into) {
  if (!result) return propagate(result);
  into = std::move(*result);
  return {};
}

bool is_env_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front()))) return false;
  return std::ranges::all_of(
      name, [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

bool is_profile_name(std::string_view name) {
  return !name.empty() && std::ranges::all_of(name, [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  }) && name.front() != '.';
}

bool is_home_relative(std::string_view path) {
  return path.starts_with("~/") && path.size() > 2 && path.find("/../") == std::string_view::npos &&
         !path.ends_with("/..");
}

// Unknown ${...} placeholders are refused: a typo would otherwise reach the tool verbatim.
std::optional<std::string> unknown_placeholder(const std::string& value) {
  for (std::size_t at = value.find("${"); at != std::string::npos; at = value.find("${", at + 2)) {
    auto end = value.find('}', at);
    if (end == std::string::npos) return value.substr(at);
    std::string name = value.substr(at, end - at + 1);
    if (std::ranges::none_of(kEnvPlaceholders, [&](const char* p) { return name == p; }))
      return name;
  }
  return std::nullopt;
}

Result<> check_each(const Reader& r, const SourcedStrings& values, const toml::table& parent,
                    const char* key, auto&& check) {
  const auto* array = parent.get(key)->as_array();
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (auto ok = check(values[i].value, (*array)[i].source()); !ok) return ok;
  }
  (void)r;
  return {};
}

Result<> read_match(const Reader& r, const toml::table& root, ProfileLayer& out) {
  auto match = r.table(root, "match", "match");
  if (!match) return propagate(match);
  if (*match == nullptr) return {};
  const auto& t = **match;
  if (auto ok = r.known_keys(t, "[match]",
                             {"commands", "install", "build", "project_files", "always", "bare",
                              "global", "value_options", "option_prefixes"});
      !ok)
    return ok;
  struct List {
    const char* key;
    const char* where;
    const char* example;
    SourcedStrings ProfileLayer::*into;
  };
  static constexpr List kLists[] = {
      {"always", "match.always", "[\"npx\"]", &ProfileLayer::always},
      {"bare", "match.bare", "[\"yarn\"]", &ProfileLayer::bare},
      {"global", "match.global", "[\"-g\", \"--global\"]", &ProfileLayer::global},
      {"value_options", "match.value_options", "[\"--prefix\", \"-C\"]",
       &ProfileLayer::value_options},
      {"option_prefixes", "match.option_prefixes", "[\"+\"]", &ProfileLayer::option_prefixes},
      {"project_files", "match.project_files", "[\".yarnrc.yml\"]", &ProfileLayer::project_files},
      {"commands", "match.commands", "[\"npm\", \"python -m pip\"]", &ProfileLayer::commands},
      {"install", "match.install", "[\"install\", \"ci\", \"add\"]", &ProfileLayer::install},
      {"build", "match.build", "[\"run build\", \"test\"]", &ProfileLayer::build},
  };
  for (const auto& list : kLists)
    if (auto ok = take(r.strings(t, list.key, list.where, list.example), out.*list.into); !ok)
      return ok;
  if (!out.value_options.empty()) {
    auto an_option = [&](const std::string& option, const toml::source_region& at) -> Result<> {
      if (option.size() < 2 || option.front() != '-' ||
          option.find_first_of("= ") != std::string::npos)
        return r.fail(at, "value option `" + option + "` must be one option word",
                      "\"--prefix\" or \"-C\" (its value is the next word)");
      return {};
    };
    if (auto ok = check_each(r, out.value_options, t, "value_options", an_option); !ok) return ok;
  }
  if (!out.option_prefixes.empty()) {
    auto a_prefix = [&](const std::string& prefix, const toml::source_region& at) -> Result<> {
      if (prefix.size() != 1 || std::isalnum(static_cast<unsigned char>(prefix.front())) != 0)
        return r.fail(at, "option prefix `" + prefix + "` must be one punctuation character",
                      "\"+\" (for `cargo +nightly build`)");
      return {};
    };
    if (auto ok = check_each(r, out.option_prefixes, t, "option_prefixes", a_prefix); !ok)
      return ok;
  }
  if (!out.commands.empty()) {
    auto first_word_is_name = [&](const std::string& form,
                                  const toml::source_region& at) -> Result<> {
      if (form.front() == ' ' || form.find('/') != std::string::npos)
        return r.fail(at, "command form `" + form + "` must start with a program's base name",
                      "\"npm\", \"pip3\" or \"python -m pip\" (words separated by one space)");
      return {};
    };
    if (auto ok = check_each(r, out.commands, t, "commands", first_word_is_name); !ok) return ok;
  }
  return {};
}

Result<> read_network(const Reader& r, const toml::table& root, ProfileLayer& out) {
  auto network = r.table(root, "network", "network");
  if (!network) return propagate(network);
  if (*network == nullptr) return {};
  const auto& t = **network;
  if (auto ok = r.known_keys(t, "[network]", {"allow", "discover"}); !ok) return ok;
  if (auto ok = take(r.strings(t, "discover", "network.discover", "[\"npmrc\", \"yarnrc\"]"),
                     out.discover);
      !ok)
    return ok;
  if (!out.discover.empty()) {
    auto known_reader = [&](const std::string& name, const auto& at) -> Result<> {
      if (std::ranges::none_of(kDiscoveryReaders, [&](const char* k) { return name == k; })) {
        std::string list;
        for (const char* k : kDiscoveryReaders) list += (list.empty() ? "" : ", ") + std::string(k);
        return r.fail(at, "unknown registry discovery `" + name + "`", "one of: " + list);
      }
      return {};
    };
    if (auto ok = check_each(r, out.discover, t, "discover", known_reader); !ok) return ok;
  }
  if (auto ok = take(
          r.strings(t, "allow", "network.allow", "[\"registry.npmjs.org\", \"*.example.org\"]"),
          out.hosts);
      !ok)
    return ok;
  if (out.hosts.empty()) return {};
  return check_each(
      r, out.hosts, t, "allow", [&](const std::string& host, const auto& at) -> Result<> {
        if (auto parsed = sandbox::parse_host_pattern(host); !parsed)
          return r.fail(
              at, "bad host pattern: " + parsed.error().step,
              "registry.npmjs.org, *.pythonhosted.org (subdomains), host:8080 or an exact IP");
        return {};
      });
}

Result<> check_glob(const Reader& r, const std::string& glob, const toml::source_region& at) {
  GlobSet set;
  if (auto added = set.add(glob); !added) return r.fail(at, added.error().step, added.error().hint);
  return {};
}

Result<> check_globs(const Reader& r, const SourcedStrings& globs, const toml::table& t,
                     const char* key) {
  if (globs.empty()) return {};
  return check_each(r, globs, t, key, [&](const std::string& glob, const auto& at) {
    return check_glob(r, glob, at);
  });
}

// [files] outputs: globs, or `${-OPTION}` for the path a build command gives that option.
Result<> check_outputs(const Reader& r, const SourcedStrings& outputs, const toml::table& t) {
  if (outputs.empty()) return {};
  return check_each(
      r, outputs, t, "outputs", [&](const std::string& entry, const auto& at) -> Result<> {
        if (entry.find("${") == std::string::npos) return check_glob(r, entry, at);
        auto option = output_option_of(entry);
        bool option_like =
            option && std::ranges::all_of(*option, [](char c) {
              return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
            });
        if (!option_like)
          return r.fail(at, "`" + entry + "` is neither a glob nor an option's value",
                        "a glob (\"dist/**\") or ${-o}: the path the command gives option -o");
        return {};
      });
}

// [files] direct names top-level directories of the project: one path component each.
Result<> check_directory_names(const Reader& r, const SourcedStrings& names, const toml::table& t,
                               const char* key) {
  if (names.empty()) return {};
  return check_each(r, names, t, key, [&](const std::string& name, const auto& at) -> Result<> {
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos)
      return r.fail(at, "'" + name + "' is not the name of a top-level directory",
                    "a single directory name, like \"node_modules\"");
    return {};
  });
}

Result<> read_files(const Reader& r, const toml::table& root, ProfileLayer& out) {
  auto files = r.table(root, "files", "files");
  if (!files) return propagate(files);
  if (*files == nullptr) return {};
  const auto& t = **files;
  if (auto ok =
          r.known_keys(t, "[files]", {"expected", "protected", "direct", "manifests", "outputs"});
      !ok)
    return ok;
  if (auto ok =
          take(r.strings(t, "outputs", "files.outputs", "[\"dist/**\", \"${-o}\"]"), out.outputs);
      !ok)
    return ok;
  if (auto ok = check_outputs(r, out.outputs, t); !ok) return ok;
  if (auto ok =
          take(r.strings(t, "manifests", "files.manifests", "[\"package.json\"]"), out.manifests);
      !ok)
    return ok;
  if (auto ok =
          take(r.strings(t, "expected", "files.expected", "[\"node_modules/**\", \"*.lock\"]"),
               out.expected);
      !ok)
    return ok;
  if (auto ok = take(r.strings(t, "protected", "files.protected", "[\"deploy/**\"]"),
                     out.protected_paths);
      !ok)
    return ok;
  if (auto ok = take(r.strings(t, "direct", "files.direct", "[\"node_modules\"]"), out.direct); !ok)
    return ok;
  if (auto ok = check_globs(r, out.expected, t, "expected"); !ok) return ok;
  if (auto ok = check_directory_names(r, out.direct, t, "direct"); !ok) return ok;
  return check_globs(r, out.protected_paths, t, "protected");
}

Result<> read_env(const Reader& r, const toml::table& root, ProfileLayer& out) {
  auto env = r.table(root, "env", "env");
  if (!env) return propagate(env);
  if (*env == nullptr) return {};
  const auto& t = **env;
  if (r.kind() == LayerKind::Project) {
    if (const toml::node* allow = t.get("allow"))
      return r.fail(allow->source(), "env.allow cannot be widened by a project",
                    "pass a variable with --pass-env NAME, or allow it in "
                    "~/.config/safeinstall/NAME.toml");
  }
  if (auto ok = r.known_keys(t, "[env]", {"allow", "secret", "set"}); !ok) return ok;
  if (auto ok = take(r.strings(t, "allow", "env.allow", "[\"PATH\", \"LC_*\"]"), out.env_allow);
      !ok)
    return ok;
  if (auto ok = take(r.strings(t, "secret", "env.secret", "[\"*TOKEN*\"]"), out.env_secret); !ok)
    return ok;
  const toml::node* set = t.get("set");
  if (set == nullptr) return {};
  const auto* table = set->as_table();
  if (table == nullptr)
    return r.fail(set->source(), "`env.set` must be a table of strings",
                  "[env.set] npm_config_update_notifier = \"false\"");
  for (const auto& [key, node] : *table) {
    std::string name(key.str());
    if (!is_env_name(name))
      return r.fail(key.source(), "`" + name + "` is not an environment variable name",
                    "letters, digits and _, not starting with a digit");
    if (!node.is_string())
      return r.fail(node.source(), "`env.set." + name + "` must be a string",
                    name + " = \"value\" (quote numbers and booleans)");
    std::string value = node.as_string()->get();
    if (auto bad = unknown_placeholder(value))
      return r.fail(node.source(), "unknown placeholder " + *bad + " in `env.set." + name + "`",
                    "placeholders: ${HOME} ${PROJECT} ${PROXY_HOST} ${PROXY_PORT} ${PROXY_URL}");
    out.env_set.push_back({name, {value, r.origin(node.source())}});
  }
  return {};
}

Result<> read_credentials(const Reader& r, const toml::table& root, ProfileLayer& out) {
  auto credentials = r.table(root, "credentials", "credentials");
  if (!credentials) return propagate(credentials);
  if (*credentials == nullptr) return {};
  const auto& t = **credentials;
  if (auto ok = r.known_keys(t, "[credentials]", {"files"}); !ok) return ok;
  if (auto ok = take(r.strings(t, "files", "credentials.files", "[\"~/.npmrc\"]"), out.credentials);
      !ok)
    return ok;
  if (out.credentials.empty()) return {};
  return check_each(
      r, out.credentials, t, "files", [&](const std::string& path, const auto& at) -> Result<> {
        if (!is_home_relative(path) &&
            !(path.front() == '/' && path.find("..") == std::string::npos))
          return r.fail(at, "credentials file `" + path + "` must be ~/relative or absolute",
                        "\"~/.npmrc\" or \"/etc/pip.conf\"");
        return {};
      });
}

Result<> read_decoys(const Reader& r, const toml::table& root, ProfileLayer& out) {
  auto decoys = r.table(root, "decoys", "decoys");
  if (!decoys) return propagate(decoys);
  if (*decoys == nullptr) return {};
  const auto& t = **decoys;
  if (auto ok = r.known_keys(t, "[decoys]", {"enabled", "skip", "tool_reads"}); !ok) return ok;
  if (const toml::node* n = t.get("enabled")) {
    if (!n->is_boolean())
      return r.fail(n->source(), "`decoys.enabled` must be true or false", "enabled = true");
    out.decoys_enabled = Sourced<bool>{n->as_boolean()->get(), r.origin(n->source())};
  }
  auto known = [&](const std::string& name, const auto& at) -> Result<> {
    if (is_decoy_file(name)) return {};
    std::string names;
    for (auto f : kDecoyFiles) names += (names.empty() ? "" : ", ") + std::string(f);
    return r.fail(at, "`" + name + "` is not a decoy file", "one of " + names);
  };
  for (auto [key, into] :
       {std::pair{"skip", &out.decoy_skip}, std::pair{"tool_reads", &out.decoy_tool_reads}}) {
    std::string name = std::string("decoys.") + key;
    if (auto ok = take(r.strings(t, key, name.c_str(), "[\"~/.npmrc\"]"), *into); !ok) return ok;
    if (into->empty()) continue;
    if (auto ok = check_each(r, *into, t, key, known); !ok) return ok;
  }
  return {};
}

Result<> read_caches(const Reader& r, const toml::table& root, ProfileLayer& out) {
  const toml::node* node = root.get("cache");
  if (node == nullptr) return {};
  const auto* array = node->as_array();
  if (array == nullptr)
    return r.fail(node->source(), "`cache` must be a list of tables",
                  "[[cache]] path = \"~/.npm\" env = \"npm_config_cache\"");
  for (const auto& item : *array) {
    const auto* t = item.as_table();
    if (t == nullptr)
      return r.fail(item.source(), "each [[cache]] must be a table",
                    "[[cache]] path = \"~/.npm\" env = \"npm_config_cache\"");
    if (auto ok = r.known_keys(*t, "[[cache]]", {"path", "env"}); !ok) return ok;
    std::optional<Sourced<std::string>> path, env;
    if (auto ok = take(r.string(*t, "path", "cache.path", "\"~/.npm\""), path); !ok) return ok;
    if (auto ok = take(r.string(*t, "env", "cache.env", "\"npm_config_cache\""), env); !ok)
      return ok;
    if (!path || !is_home_relative(path->value))
      return r.fail(path ? t->get("path")->source() : item.source(),
                    "[[cache]] needs `path`, a directory in the home", "path = \"~/.cache/pip\"");
    if (env && !is_env_name(env->value))
      return r.fail(t->get("env")->source(),
                    "`" + env->value + "` is not an environment variable name",
                    "env = \"PIP_CACHE_DIR\"");
    out.caches.push_back({path->value, env ? env->value : std::string(), r.origin(item.source())});
  }
  return {};
}

Result<> read_logs(const Reader& r, const toml::table& root, ProfileLayer& out) {
  static constexpr const char* kForm =
      "[[logs]] path = \"~/.npm/_logs\" env = \"npm_config_logs_dir\" (file = \"pip.log\")";
  const toml::node* node = root.get("logs");
  if (node == nullptr) return {};
  const auto* array = node->as_array();
  if (array == nullptr) return r.fail(node->source(), "`logs` must be a list of tables", kForm);
  for (const auto& item : *array) {
    const auto* t = item.as_table();
    if (t == nullptr) return r.fail(item.source(), "each [[logs]] must be a table", kForm);
    if (auto ok = r.known_keys(*t, "[[logs]]", {"path", "env", "file"}); !ok) return ok;
    std::optional<Sourced<std::string>> path, env, file;
    if (auto ok = take(r.string(*t, "path", "logs.path", "\"~/.npm/_logs\""), path); !ok) return ok;
    if (auto ok = take(r.string(*t, "env", "logs.env", "\"PIP_LOG\""), env); !ok) return ok;
    if (auto ok = take(r.string(*t, "file", "logs.file", "\"pip.log\""), file); !ok) return ok;
    if (!path || !is_home_relative(path->value))
      return r.fail(path ? t->get("path")->source() : item.source(),
                    "[[logs]] needs `path`, a directory in the home", "path = \"~/.npm/_logs\"");
    if (env && !is_env_name(env->value))
      return r.fail(t->get("env")->source(),
                    "`" + env->value + "` is not an environment variable name",
                    "env = \"npm_config_logs_dir\"");
    if (file && (file->value.empty() || file->value.find('/') != std::string::npos ||
                 file->value.front() == '.' || !file->value.ends_with(".log")))
      return r.fail(t->get("file")->source(), "`" + file->value + "` is not a log file's name",
                    "file = \"pip.log\": a name ending in .log, no '/'");
    if (file && !env)
      return r.fail(t->get("file")->source(), "[[logs]] `file` needs `env`, the variable naming it",
                    kForm);
    out.logs.push_back({path->value, env ? env->value : std::string(),
                        file ? file->value : std::string(), r.origin(item.source())});
  }
  return {};
}

Result<> read_toolchains(const Reader& r, const toml::table& fs, ProfileLayer& out) {
  const toml::node* node = fs.get("toolchain");
  if (node == nullptr) return {};
  const auto* array = node->as_array();
  if (array == nullptr)
    return r.fail(node->source(), "use [[filesystem.toolchain]] entries",
                  "[[filesystem.toolchain]] name = \"rust\" dirs = [\".cargo\"]");
  for (const auto& item : *array) {
    const auto* t = item.as_table();
    if (t == nullptr)
      return r.fail(item.source(),
                    "each [[filesystem.toolchain]] must be a table with `name` and `dirs`",
                    "[[filesystem.toolchain]] name = \"rust\" dirs = [\".cargo\"]");
    if (auto ok = r.known_keys(*t, "[[filesystem.toolchain]]", {"name", "dirs"}); !ok) return ok;
    ToolchainEntry entry;
    entry.origin = r.origin(item.source());
    const auto* name = t->get_as<std::string>("name");
    if (name == nullptr)
      return r.fail(item.source(), "toolchain needs `name = \"...\"`", "name = \"rust\"");
    entry.name = name->get();
    if (t->get("dirs") == nullptr)
      return r.fail(item.source(), "toolchain `" + entry.name + "` needs `dirs = [...]`",
                    "dirs = [\".cargo\", \".rustup\"]");
    SourcedStrings dirs;
    if (auto ok = take(r.strings(*t, "dirs", "dirs", "[\".cargo\"]"), dirs); !ok) return ok;
    for (const auto& dir : dirs) {
      if (dir.value.front() == '/' || dir.value.find("..") != std::string::npos)
        return plain_error(dir.origin.text() + ": toolchain dir `" + dir.value +
                               "` must be a path relative to the home directory",
                           "dirs = [\".cargo\"]");
      entry.dirs.push_back(dir.value);
    }
    out.toolchains.push_back(std::move(entry));
  }
  return {};
}

Result<> read_filesystem(const Reader& r, const toml::table& root, ProfileLayer& out) {
  auto fs = r.table(root, "filesystem", "filesystem");
  if (!fs) return propagate(fs);
  if (*fs == nullptr) return {};
  const auto& t = **fs;
  if (auto ok = r.known_keys(
          t, "[filesystem]",
          {"visible", "hide", "hide_user_homes", "home_size", "tmp_size", "toolchain", "readonly"});
      !ok)
    return ok;
  if (auto ok =
          take(r.strings(t, "visible", "filesystem.visible", "[\"/usr\", \"/etc\"]"), out.visible);
      !ok)
    return ok;
  if (auto ok = take(r.strings(t, "hide", "filesystem.hide", "[\"/run/secrets\"]"), out.hide); !ok)
    return ok;
  if (auto ok =
          take(r.strings(t, "readonly", "filesystem.readonly", "[\"~/.gradle/wrapper/dists\"]"),
               out.readonly);
      !ok)
    return ok;
  if (!out.hide.empty()) {
    auto absolute = [&](const std::string& p, const auto& at) -> Result<> {
      if (p.front() != '/')
        return r.fail(at, "hidden path `" + p + "` must be absolute", "\"/run/secrets\"");
      return {};
    };
    if (auto ok = check_each(r, out.hide, t, "hide", absolute); !ok) return ok;
  }
  if (!out.visible.empty()) {
    auto system_path = [&](const std::string& p, const auto& at) -> Result<> {
      if (p.front() != '/' || p == "/" || p.find("..") != std::string::npos)
        return r.fail(at, "visible path `" + p + "` must be absolute, not / itself",
                      "\"/usr\" or \"/opt/toolchains\"");
      return {};
    };
    if (auto ok = check_each(r, out.visible, t, "visible", system_path); !ok) return ok;
  }
  if (!out.readonly.empty()) {
    auto usable = [&](const std::string& p, const auto& at) -> Result<> {
      if (!is_home_relative(p) && !(p.front() == '/' && p.find("..") == std::string::npos))
        return r.fail(at, "read-only path `" + p + "` must be ~/relative or absolute",
                      "\"~/.gradle/wrapper/dists\" or \"/opt/jdk\"");
      return {};
    };
    if (auto ok = check_each(r, out.readonly, t, "readonly", usable); !ok) return ok;
  }
  if (const toml::node* n = t.get("hide_user_homes")) {
    if (!n->is_boolean())
      return r.fail(n->source(), "`hide_user_homes` must be true or false",
                    "hide_user_homes = true");
    out.hide_user_homes = Sourced<bool>{n->as_boolean()->get(), r.origin(n->source())};
  }
  if (auto ok = take(r.size(t, "home_size", "home_size"), out.home_size); !ok) return ok;
  if (auto ok = take(r.size(t, "tmp_size", "tmp_size"), out.tmp_size); !ok) return ok;
  return read_toolchains(r, t, out);
}

Result<> read_limits(const Reader& r, const toml::table& root, ProfileLayer& out) {
  auto limits = r.table(root, "limits", "limits");
  if (!limits) return propagate(limits);
  if (*limits == nullptr) return {};
  const auto& t = **limits;
  if (auto ok = r.known_keys(
          t, "[limits]",
          {"open_files", "processes", "memory", "pids", "cpu_time", "timeout", "disk", "files"});
      !ok)
    return ok;
  for (auto [key, into] :
       {std::pair{"open_files", &out.open_files}, std::pair{"processes", &out.processes},
        std::pair{"pids", &out.pids}, std::pair{"cpu_time", &out.cpu_time},
        std::pair{"timeout", &out.timeout}, std::pair{"files", &out.files}}) {
    if (auto ok = take(r.count(t, key, key), *into); !ok) return ok;
  }
  for (auto [key, into] : {std::pair{"memory", &out.memory}, std::pair{"disk", &out.disk}}) {
    if (auto ok = take(r.size(t, key, key), *into); !ok) return ok;
  }
  return {};
}

// [runs]: the user's own housekeeping, so never a project's (see read_top_level).
Result<> read_runs(const Reader& r, const toml::table& root, ProfileLayer& out) {
  auto runs = r.table(root, "runs", "runs");
  if (!runs) return propagate(runs);
  if (*runs == nullptr) return {};
  const auto& t = **runs;
  if (auto ok = r.known_keys(t, "[runs]", {"keep", "max_age"}); !ok) return ok;
  if (auto ok = take(r.count(t, "keep", "keep"), out.runs_keep); !ok) return ok;
  if (const toml::node* node = t.get("max_age")) {
    const auto* text = node->as_string();
    auto age = text != nullptr ? parse_age(std::string_view(text->get()))
                               : Result<std::chrono::seconds>(std::chrono::seconds(0));
    if (text == nullptr || !age || age->count() == 0)
      return r.fail(node->source(), "`max_age` must be an age",
                    "max_age = \"30d\" (a whole number and m, h, d or w)");
    out.runs_max_age =
        Sourced<std::uint64_t>{static_cast<std::uint64_t>(age->count()), r.origin(node->source())};
  }
  return {};
}

// ---- [autorun] ----

constexpr const char* kAutoRunPointExample =
    "[[autorun.point]] check = \"pth\" paths = [\"**/site-packages/*.pth\"] severity = \"high\" "
    "why = \"site.py runs its import lines at every start of python\"";
constexpr const char* kAutoRunAcceptExample =
    "accept = [\".venv/lib/python3.11/site-packages/foo.pth sha256:<64 hex digits>\"]";

std::optional<AutoRunCheck> auto_run_check_named(std::string_view name) {
  for (const auto& [check, text] : kAutoRunCheckNames)
    if (name == text) return check;
  return std::nullopt;
}

std::string auto_run_check_list() {
  std::string list;
  for (const auto& [check, text] : kAutoRunCheckNames)
    list += (list.empty() ? "" : ", ") + std::string(text);
  return list;
}

bool is_sha256_hex(std::string_view text) {
  return text.size() == 64 && std::ranges::all_of(text, [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c)) != 0;
         });
}

Result<AutoRunPointEntry> read_auto_run_point(const Reader& r, const toml::node& item) {
  const auto* t = item.as_table();
  if (t == nullptr)
    return r.fail(item.source(), "each [[autorun.point]] must be a table", kAutoRunPointExample);
  if (auto ok = r.known_keys(*t, "[[autorun.point]]", {"check", "paths", "severity", "why"}); !ok)
    return propagate(ok);
  AutoRunPointEntry entry;
  entry.origin = r.origin(item.source());
  std::optional<Sourced<std::string>> check, severity, why;
  if (auto ok = take(r.string(*t, "check", "autorun.point.check", "\"pth\""), check); !ok)
    return propagate(ok);
  if (!check) return r.fail(item.source(), "[[autorun.point]] needs `check`", kAutoRunPointExample);
  auto named = auto_run_check_named(check->value);
  if (!named)
    return r.fail(t->get("check")->source(), "unknown auto-run check `" + check->value + "`",
                  "one of: " + auto_run_check_list());
  entry.check = *named;
  SourcedStrings paths;
  if (auto ok = take(r.strings(*t, "paths", "autorun.point.paths", "[\"**/site-packages/*.pth\"]"),
                     paths);
      !ok)
    return propagate(ok);
  if (paths.empty())
    return r.fail(item.source(), "[[autorun.point]] needs `paths`, a non-empty list of globs",
                  kAutoRunPointExample);
  if (auto ok = check_each(r, paths, *t, "paths",
                           [&](const std::string& glob, const auto& at) -> Result<> {
                             DeepGlobSet set;
                             if (auto added = set.add(glob); !added)
                               return r.fail(at, added.error().step, added.error().hint);
                             return {};
                           });
      !ok)
    return propagate(ok);
  for (auto& p : paths) entry.paths.push_back(std::move(p.value));
  if (auto ok = take(r.string(*t, "severity", "autorun.point.severity", "\"high\""), severity); !ok)
    return propagate(ok);
  if (severity) {
    auto level = severity_from(severity->value);
    if (!level)
      return r.fail(t->get("severity")->source(), "unknown severity `" + severity->value + "`",
                    "one of: info, low, medium, high, critical");
    entry.severity = *level;
  }
  if (auto ok = take(r.string(*t, "why", "autorun.point.why", "\"sourced by every shell\""), why);
      !ok)
    return propagate(ok);
  if (!why || why->value.empty())
    return r.fail(item.source(), "[[autorun.point]] needs `why`: how a file there runs by itself",
                  kAutoRunPointExample);
  entry.why = why->value;
  return entry;
}

Result<AutoRunAcceptEntry> read_auto_run_accept(const Reader& r, const std::string& text,
                                                const toml::source_region& at) {
  auto space = text.find_last_of(' ');
  std::string glob = space == std::string::npos ? std::string() : text.substr(0, space);
  while (!glob.empty() && glob.back() == ' ') glob.pop_back();
  std::string hash = space == std::string::npos ? text : text.substr(space + 1);
  if (glob.empty() || !hash.starts_with("sha256:"))
    return r.fail(at, "`" + text + "` is not \"GLOB sha256:HEX\"", kAutoRunAcceptExample);
  hash.erase(0, 7);
  if (!is_sha256_hex(hash))
    return r.fail(at, "`" + hash + "` is not a sha256 digest (64 hex digits)",
                  kAutoRunAcceptExample);
  std::ranges::transform(hash, hash.begin(),
                         [](char c) { return static_cast<char>(std::tolower(c)); });
  GlobSet set;
  if (auto added = set.add(glob); !added) return r.fail(at, added.error().step, added.error().hint);
  return AutoRunAcceptEntry{glob, hash, r.origin(at)};
}

Result<> read_autorun(const Reader& r, const toml::table& root, ProfileLayer& out) {
  auto autorun = r.table(root, "autorun", "autorun");
  if (!autorun) return propagate(autorun);
  if (*autorun == nullptr) return {};
  const auto& t = **autorun;
  if (auto ok = r.known_keys(t, "[autorun]", {"point", "accept"}); !ok) return ok;
  if (const toml::node* points = t.get("point")) {
    const auto* array = points->as_array();
    if (array == nullptr)
      return r.fail(points->source(), "`autorun.point` must be a list of tables",
                    kAutoRunPointExample);
    for (const auto& item : *array) {
      auto point = read_auto_run_point(r, item);
      if (!point) return propagate(point);
      out.autorun_points.push_back(std::move(*point));
    }
  }
  SourcedStrings accept;
  if (auto ok = take(r.strings(t, "accept", "autorun.accept", "[\"GLOB sha256:HEX\"]"), accept);
      !ok)
    return ok;
  const auto* array = accept.empty() ? nullptr : t.get("accept")->as_array();
  for (std::size_t i = 0; i < accept.size(); ++i) {
    auto entry = read_auto_run_accept(r, accept[i].value, (*array)[i].source());
    if (!entry) return propagate(entry);
    out.autorun_accept.push_back(std::move(*entry));
  }
  return {};
}

// ---- end [autorun] ----
// ---- Package policy: [policy], [policy.<ecosystem>], [scripts] (docs/policy.md) ----

Result<> check_package_patterns(const Reader& r, const SourcedStrings& values, const toml::table& t,
                                const char* key) {
  if (values.empty()) return {};
  return check_each(r, values, t, key, [&](const std::string& text, const auto& at) -> Result<> {
    if (auto parsed = parse_package_pattern(text); !parsed)
      return r.fail(at, parsed.error().step, parsed.error().hint);
    return {};
  });
}

Result<std::optional<Sourced<bool>>> boolean(const Reader& r, const toml::table& t, const char* key,
                                             const std::string& shown) {
  const toml::node* node = t.get(key);
  if (node == nullptr) return std::optional<Sourced<bool>>();
  if (!node->is_boolean())
    return r.fail(node->source(), "`" + shown + "` must be true or false", shown + " = true");
  return Sourced<bool>{node->as_boolean()->get(), r.origin(node->source())};
}

Result<> read_release_age(const Reader& r, const toml::table& t, const std::string& section,
                          ReleaseAgeLayer& out) {
  if (auto ok = take(r.string(t, "min_release_age", section + ".min_release_age", "\"3d\""),
                     out.min_release_age);
      !ok)
    return ok;
  if (out.min_release_age) {
    if (auto age = parse_age(out.min_release_age->value); !age)
      return r.fail(t.get("min_release_age")->source(), age.error().step, age.error().hint);
  }
  if (auto ok = take(r.strings(t, "min_release_age_exclude", section + ".min_release_age_exclude",
                               "[\"@myorg/*\", \"lodash\"]"),
                     out.exclude);
      !ok)
    return ok;
  return check_package_patterns(r, out.exclude, t, "min_release_age_exclude");
}

Result<> read_policy_ecosystem(const Reader& r, const std::string& name, const toml::node& node,
                               PolicyLayer& out) {
  const std::string section = "policy." + name;
  if (!node.is_table())
    return r.fail(node.source(), "`" + section + "` must be a table",
                  "[" + section + "] min_release_age = \"1d\"");
  const auto& t = *node.as_table();
  if (auto ok =
          r.known_keys(t, "[" + section + "]", {"min_release_age", "min_release_age_exclude"});
      !ok)
    return ok;
  ReleaseAgeLayer layer;
  if (auto ok = read_release_age(r, t, section, layer); !ok) return ok;
  out.ecosystems.emplace_back(name, std::move(layer));
  return {};
}

// [policy] osv_db and vuln_severity: the known-bad check (docs/policy.md).
Result<> read_known_bad(const Reader& r, const toml::table& t, ProfileLayer& out) {
  if (auto ok = take(r.string(t, "osv_db", "policy.osv_db", "\"~/osv\""), out.osv_db); !ok)
    return ok;
  if (out.osv_db) {
    if (out.osv_db->value.empty())
      return r.fail(t.get("osv_db")->source(), "`policy.osv_db` is empty",
                    "policy.osv_db = \"/var/lib/osv\" (a directory)");
    std::filesystem::path db = out.osv_db->value;
    if (db.is_relative()) out.osv_db->value = (r.file().parent_path() / db).lexically_normal();
  }
  if (auto ok =
          take(r.string(t, "vuln_severity", "policy.vuln_severity", "\"high\""), out.vuln_severity);
      !ok)
    return ok;
  if (out.vuln_severity) {
    const std::string& v = out.vuln_severity->value;
    if (v != "low" && v != "medium" && v != "high" && v != "critical")
      return r.fail(t.get("vuln_severity")->source(),
                    "`policy.vuln_severity = \"" + v + "\"` is not a severity",
                    "policy.vuln_severity = \"low\", \"medium\", \"high\" or \"critical\"");
  }
  return {};
}

Result<> read_policy(const Reader& r, const toml::table& root, ProfileLayer& out) {
  auto policy = r.table(root, "policy", "policy");
  if (!policy) return propagate(policy);
  if (*policy == nullptr) return {};
  const auto& t = **policy;
  PolicyLayer& p = out.policy;
  for (const auto& [key, node] : t) {
    std::string name(key.str());
    if (std::ranges::any_of(kPolicyEcosystems, [&](const char* e) { return name == e; })) {
      if (auto ok = read_policy_ecosystem(r, name, node, p); !ok) return ok;
    } else if (node.is_table()) {
      std::string list;
      for (const char* e : kPolicyEcosystems) list += (list.empty() ? "" : ", ") + std::string(e);
      return r.fail(key.source(), "unknown ecosystem `" + name + "` in [policy." + name + "]",
                    "one of: " + list + " (see docs/policy.md)");
    }
  }
  if (auto ok = r.known_keys(t, "[policy]",
                             {"min_release_age", "min_release_age_exclude", "release_age_required",
                              "allow_packages", "allow_maintainers", "typosquats", "npm", "pypi",
                              "crates", "rubygems", "osv_db", "vuln_severity"});
      !ok)
    return ok;
  if (auto ok = read_release_age(r, t, "policy", p.release_age); !ok) return ok;
  if (auto ok = take(boolean(r, t, "release_age_required", "release_age_required"),
                     p.release_age_required);
      !ok)
    return ok;
  if (auto ok = take(boolean(r, t, "typosquats", "typosquats"), p.typosquats); !ok) return ok;
  if (auto ok = take(r.strings(t, "allow_packages", "policy.allow_packages",
                               "[\"lodash\", \"@myorg/*\", \"react@^18\"]"),
                     p.allow_packages);
      !ok)
    return ok;
  if (auto ok = check_package_patterns(r, p.allow_packages, t, "allow_packages"); !ok) return ok;
  if (auto ok = take(r.strings(t, "allow_maintainers", "policy.allow_maintainers", "[\"alice\"]"),
                     p.allow_maintainers);
      !ok)
    return ok;
  return read_known_bad(r, t, out);
}

// [scripts] allow = ["esbuild", "sharp@0.33"]: the script policy becomes allow:esbuild,sharp
// (names are what the lifecycle environment gives when a script starts); the versions stay in
// the policy, which names a new package whose version the list does not take.
Result<> read_scripts_table(const Reader& r, const toml::table& t, ProfileLayer& out) {
  if (auto ok = r.known_keys(t, "[scripts]", {"allow"}); !ok) return ok;
  if (auto ok = take(r.strings(t, "allow", "scripts.allow", "[\"esbuild\", \"sharp@0.33\"]"),
                     out.policy.scripts_allow);
      !ok)
    return ok;
  std::string names;
  const auto* array = t.get("allow") ? t.get("allow")->as_array() : nullptr;
  for (std::size_t i = 0; i < out.policy.scripts_allow.size(); ++i) {
    const auto& at = (*array)[i].source();
    auto pattern = parse_package_pattern(out.policy.scripts_allow[i].value);
    if (!pattern) return r.fail(at, pattern.error().step, pattern.error().hint);
    if (pattern->name.find('*') != std::string::npos)
      return r.fail(at, "[scripts] allow names packages exactly, without *",
                    "allow = [\"esbuild\", \"sharp@0.33\"]");
    names += (names.empty() ? "" : ",") + pattern->name;
  }
  out.scripts =
      Sourced<std::string>{names.empty() ? "none" : "allow:" + names, r.origin(t.source())};
  return {};
}

// ---- end of package policy ----

Result<> read_top_level(const Reader& r, const toml::table& root, ProfileLayer& out) {
  if (r.kind() == LayerKind::Profile) {
    if (auto ok =
            r.known_keys(root, "a profile",
                         {"extends", "description", "scripts", "match", "network", "files", "env",
                          "credentials", "cache", "logs", "filesystem", "limits", "decoys", "runs",
                          // package policy
                          "policy",
                          // auto-run points
                          "autorun"});
        !ok)
      return ok;
  } else {
    // A project may come from anyone: it can name hosts, globs and settings for the tool,
    // never make more of the host visible or pass more of the invoker's environment.
    if (const toml::node* match = root.get("match"))
      return r.fail(match->source(), "[match] belongs in a profile file, not in .safeinstall.toml",
                    "choose the profile for this project with profile = \"NAME\"");
    for (const char* key :
         {"filesystem", "limits", "cache", "logs", "credentials", "decoys", "runs"}) {
      if (const toml::node* node = root.get(key))
        return r.fail(node->source(), "[" + std::string(key) + "] cannot be set by a project",
                      "set it in ~/.config/safeinstall/NAME.toml or /etc/safeinstall/NAME.toml");
    }
    if (auto ok = r.known_keys(root, ".safeinstall.toml",
                               {"profile", "description", "scripts", "network", "files", "env",
                                // package policy
                                "policy",
                                // auto-run points
                                "autorun"});
        !ok)
      return ok;
  }
  if (auto ok = take(r.string(root, "extends", "extends", "\"base\""), out.extends); !ok) return ok;
  if (auto ok = take(r.string(root, "profile", "profile", "\"npm\""), out.profile); !ok) return ok;
  for (auto* name : {&out.extends, &out.profile}) {
    if (*name && !is_profile_name((*name)->value))
      return plain_error(
          (*name)->origin.text() + ": `" + (*name)->value + "` is not a profile name",
          "lowercase letters, digits, '-', '_' and '.', as in \"npm\"");
  }
  if (auto ok =
          take(r.string(root, "description", "description", "\"npm and npx\""), out.description);
      !ok)
    return ok;
  if (const toml::node* scripts = root.get("scripts"); scripts && scripts->is_table())
    return read_scripts_table(r, *scripts->as_table(), out);
  if (auto ok =
          take(r.string(root, "scripts", "scripts", "\"all\", \"none\" or \"allow:esbuild,sharp\""),
               out.scripts);
      !ok)
    return ok;
  if (out.scripts) {
    if (auto policy = parse_script_policy(out.scripts->value); !policy)
      return plain_error(out.scripts->origin.text() + ": `scripts = \"" + out.scripts->value +
                             "\"` is not a script policy",
                         "scripts = \"all\", \"none\" or \"allow:PKG[,PKG...]\"");
  }
  return {};
}

Result<ProfileLayer> read_layer(const toml::table& root, const Reader& r) {
  ProfileLayer out;
  out.file = r.file();
  for (auto step : {read_top_level, read_match, read_network, read_files, read_env,
                    read_credentials, read_decoys, read_caches, read_logs, read_filesystem,
                    read_limits, read_runs, read_policy, read_autorun}) {
    if (auto ok = step(r, root, out); !ok) return propagate(ok);
  }
  return out;
}

}  // namespace

std::string_view to_string(AutoRunCheck check) {
  for (const auto& [value, name] : kAutoRunCheckNames)
    if (value == check) return name;
  return "?";
}

std::string Origin::text() const {
  if (line == 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

Result<ProfileLayer> parse_profile_layer(std::string_view text, const std::filesystem::path& file,
                                         LayerKind kind) {
  Reader reader(file, kind);
  toml::table root;
  try {
    root = toml::parse(toml_input(text), file.string());
  } catch (const toml::parse_error& e) {
    return reader.fail(e.source(), std::string(e.description()),
                       "fix the TOML syntax (https://toml.io)");
  }
  return read_layer(root, reader);
}

Result<ProfileLayer> load_profile_layer(const std::filesystem::path& file, LayerKind kind) {
  Reader reader(file, kind);
  toml::table root;
  std::ifstream in(file, std::ios::binary);
  if (!in) return plain_error(file.string() + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  try {
    root = toml::parse(toml_input(text.str()), file.string());
  } catch (const toml::parse_error& e) {
    if (e.source().begin.line == 0)
      return plain_error(file.string() + ": " + std::string(e.description()));
    return reader.fail(e.source(), std::string(e.description()),
                       "fix the TOML syntax (https://toml.io)");
  }
  return read_layer(root, reader);
}

}  // namespace safeinstall::runner
