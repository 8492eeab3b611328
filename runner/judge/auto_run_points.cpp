#include "runner/judge/auto_run_points.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <optional>

#include "runner/fs/digest.h"
#include "runner/judge/auto_run_content.h"
#include "runner/judge/bin_shims.h"
#include "runner/judge/composer_autoload.h"
#include "runner/judge/package_owners.h"

namespace safeinstall::runner {
namespace {

// Larger files at an auto-run point are not read: they cannot be a standard launcher or a
// known .pth, so they are reported as they are.
constexpr std::size_t kMaxCheckedBytes = 1 << 20;
constexpr std::size_t kPrefetchAhead = 16;

struct Context {
  const std::string& project;
  const StagedFiles& files;
  PackageOwners& owners;
  // package.json of npm package dirs, parsed once however many .bin links lead into them.
  mutable std::map<std::string, nlohmann::json> manifests;

  const nlohmann::json& manifest_of(const std::string& package_dir) const {
    auto [at, added] = manifests.try_emplace(package_dir);
    if (added) {
      auto text = files.read(package_dir + "/package.json", kMaxCheckedBytes);
      if (text) at->second = nlohmann::json::parse(*text, nullptr, false);
    }
    return at->second;
  }
};

// "name@version" from a package.json.
std::string package_id(const nlohmann::json& manifest) {
  if (!manifest.is_object() || !manifest.contains("name") || !manifest["name"].is_string())
    return {};
  std::string id = manifest["name"].get<std::string>();
  if (manifest.contains("version") && manifest["version"].is_string())
    id += "@" + manifest["version"].get<std::string>();
  return id;
}

// What a failed check found: why the file runs by itself, and whose it is when the check
// knows better than the path (a .bin link belongs to the package it points into).
struct Failure {
  std::string what;
  std::string package;
};

std::string dir_of(std::string_view path) {
  auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? std::string_view() : path.substr(0, slash));
}

std::string leaf(std::string_view path) {
  auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::optional<std::string> content_of(const Change& c, const Context& ctx) {
  if (c.type == EntryType::symlink) return c.symlink_target();
  if (c.type != EntryType::file) return std::nullopt;
  return ctx.files.read(c.path.str(), kMaxCheckedBytes);
}

std::optional<Failure> check_pth(const Change& c, const Context& ctx) {
  auto content = content_of(c, ctx);
  if (!content) return Failure{"a .pth file too large to read or not a regular file", {}};
  auto lines = unknown_executing_pth_lines(*content);
  if (lines.empty()) return std::nullopt;
  std::string first = lines.front().substr(0, 120);
  return Failure{"a .pth file whose import line site.py runs at every start of python: " + first,
                 {}};
}

std::optional<Failure> check_console_script(const Change& c, const Context& ctx) {
  if (c.type != EntryType::file || leaf(c.path).starts_with("activate")) return std::nullopt;
  auto content = content_of(c, ctx);
  bool replaced = c.change == ChangeKind::modified;
  if (!content) return Failure{"a bin/ file too large to check as a console-script launcher", {}};
  // A binary a wheel ships (ruff, uv) is the package's own program; only launcher-shaped
  // scripts, or a replaced one, are judged against the standard launcher.
  if (!content->starts_with("#!") && !replaced) return std::nullopt;
  std::string venv_bin = ctx.project + "/" + dir_of(c.path);
  if (is_standard_console_script(*content, venv_bin)) return std::nullopt;
  return Failure{std::string(replaced ? "a replaced" : "a") +
                     " bin/ script that is not the standard console-script launcher: it runs "
                     "whenever its command is typed in the venv",
                 {}};
}

std::optional<Failure> check_binstub(const Change& c, const Context& ctx) {
  if (c.type == EntryType::symlink)
    return Failure{"a gem bin wrapper replaced by a symlink to " + c.symlink_target(), {}};
  auto content = content_of(c, ctx);
  if (content && is_standard_rubygems_wrapper(*content)) return std::nullopt;
  return Failure{
      "a gem bin wrapper that is not the one RubyGems writes: it runs whenever its "
      "command is run through the bundle",
      {}};
}

// The bin entries an npm package.json declares, as package-relative normalized paths.
std::vector<std::pair<std::string, std::string>> declared_bins(const nlohmann::json& manifest) {
  std::vector<std::pair<std::string, std::string>> bins;
  if (!manifest.is_object() || !manifest.contains("bin")) return bins;
  const auto& bin = manifest["bin"];
  auto add = [&](const std::string& name, const std::string& target) {
    if (auto path = normalized(target)) bins.emplace_back(name, *path);
  };
  if (bin.is_string() && manifest.contains("name") && manifest["name"].is_string())
    add(leaf(manifest["name"].get<std::string>()), bin.get<std::string>());
  if (bin.is_object())
    for (const auto& [name, target] : bin.items())
      if (target.is_string()) add(leaf(name), target.get<std::string>());
  return bins;
}

// `directories.bin`: every file in that directory is a bin under its own name.
bool in_declared_bin_dir(const nlohmann::json& manifest, const std::string& name,
                         const std::string& inside) {
  if (!manifest.is_object() || manifest.contains("bin") || !manifest.contains("directories"))
    return false;
  const auto& dirs = manifest["directories"];
  if (!dirs.is_object() || !dirs.contains("bin") || !dirs["bin"].is_string()) return false;
  auto dir = normalized(dirs["bin"].get<std::string>());
  return dir && !dir->empty() && inside == *dir + "/" + name;
}

// Whether `package_dir` is a package of the node_modules at `modules`: `modules/x`,
// `modules/@s/x`, or in pnpm's virtual store, `modules/.pnpm/x@1/node_modules/[@s/]x`.
bool is_package_of(const std::string& package_dir, const std::string& modules) {
  std::string parent = dir_of(package_dir);
  if (parent == modules || dir_of(parent) == modules) return true;
  std::string store = modules + "/.pnpm/";
  if (!package_dir.starts_with(store)) return false;
  auto rest = package_dir.substr(store.size());  // x@1/node_modules/[@s/]x
  auto slash = rest.find('/');
  return slash != std::string::npos && rest.compare(slash, 14, "/node_modules/") == 0 &&
         npm_package_dir(package_dir) == package_dir;
}

// What a .bin entry runs: a link's target, or the target of a pnpm shim script.
struct BinTarget {
  std::string shown;                    // as the entry names it
  std::optional<std::string> resolved;  // project-relative, when inside the project
};

std::optional<BinTarget> bin_target_of(const Change& c, const Context& ctx) {
  if (c.type == EntryType::symlink) return BinTarget{c.symlink_target(), c.symlink_resolves_to()};
  if (c.type != EntryType::file) return std::nullopt;
  auto text = ctx.files.read(c.path.str(), kMaxBinShimBytes);
  auto target = text ? pnpm_shim_target(*text) : std::nullopt;
  if (!target) return std::nullopt;
  return BinTarget{*target, resolve_symlink_in_project(c.path, *target, ctx.project)};
}

std::optional<Failure> check_bin_link(const Change& c, const Context& ctx) {
  const std::string name = leaf(c.path);
  auto target = bin_target_of(c, ctx);
  if (!target)
    return Failure{"node_modules/.bin/" + name +
                       " is neither a link nor a package manager's shim into a package: it "
                       "runs as `" +
                       name + "` in every package script",
                   {}};
  const auto& resolved = target->resolved;
  std::string modules = dir_of(dir_of(c.path));  // the node_modules holding .bin
  std::string package_dir = resolved ? npm_package_dir(*resolved) : std::string();
  if (!resolved || package_dir.empty() || !is_package_of(package_dir, modules))
    return Failure{".bin/" + name + " points to " + target->shown +
                       ", outside the packages of its node_modules",
                   {}};
  const auto& manifest = ctx.manifest_of(package_dir);
  std::string package = package_id(manifest);
  std::string inside = resolved->substr(package_dir.size() + 1);
  for (const auto& [bin_name, declared] : declared_bins(manifest))
    if (bin_name == name && declared == inside) return std::nullopt;
  if (in_declared_bin_dir(manifest, name, inside)) return std::nullopt;
  return Failure{".bin/" + name + " points to " + inside + " in " +
                     (package.empty() ? package_dir : package) +
                     ", which that package does not declare as its `" + name +
                     "` bin: it runs as `" + name + "` in every package script",
                 package};
}

// vendor/bin/NAME: a link or Composer's proxy into vendor/VENDOR/PACKAGE, whose composer.json
// lists that file under `bin`.
std::optional<Failure> check_composer_bin(const Change& c, const Context& ctx) {
  const std::string name = leaf(c.path);
  std::optional<std::string> target;
  if (c.type == EntryType::symlink) {
    target = c.symlink_target();
  } else if (c.type == EntryType::file) {
    auto text = ctx.files.read(c.path.str(), kMaxBinShimBytes);
    if (text) target = composer_proxy_target(*text);
  }
  if (!target)
    return Failure{"vendor/bin/" + name +
                       " is neither a link nor Composer's proxy into a package: it runs as `" +
                       name + "` in every Composer script",
                   {}};
  auto resolved = resolve_symlink_in_project(c.path, *target, ctx.project);
  std::string vendor = dir_of(dir_of(c.path)) + "/";
  std::string inside_vendor =
      resolved && resolved->starts_with(vendor) ? resolved->substr(vendor.size()) : std::string();
  auto first = inside_vendor.find('/');
  auto second = first == std::string::npos ? first : inside_vendor.find('/', first + 1);
  if (second == std::string::npos || inside_vendor.starts_with("composer/") ||
      inside_vendor.starts_with("bin/"))
    return Failure{"vendor/bin/" + name + " runs " + *target + ", outside the installed packages",
                   {}};
  std::string package = inside_vendor.substr(0, second);
  std::string inside = inside_vendor.substr(second + 1);
  auto manifest = nlohmann::json::parse(
      ctx.files.read(vendor + package + "/composer.json", kMaxCheckedBytes).value_or(""), nullptr,
      false);
  if (manifest.is_object() && manifest.contains("bin") && manifest["bin"].is_array())
    for (const auto& bin : manifest["bin"])
      if (bin.is_string() && normalized(bin.get<std::string>()) == inside) return std::nullopt;
  return Failure{
      "vendor/bin/" + name + " runs " + inside + " in " + package +
          ", which that package's composer.json does not list under `bin`: it runs as `" + name +
          "` in every Composer script",
      package};
}

// vendor/composer/autoload_files.php or autoload_static.php: every file it includes must be
// one that installed.json or the root composer.json declares.
std::optional<Failure> check_composer_autoload(const Change& c, const Context& ctx) {
  auto content = content_of(c, ctx);
  if (!content) return Failure{"an autoload file too large to read or not a regular file", {}};
  std::string composer_dir = dir_of(c.path);  // vendor/composer
  std::string vendor = dir_of(composer_dir);
  auto installed = ctx.files.read(composer_dir + "/installed.json", kMaxCheckedBytes);
  auto root = ctx.files.read("composer.json", kMaxCheckedBytes);
  auto declared =
      composer_declared_autoload_files(installed.value_or(""), root.value_or(""), vendor);
  for (const auto& entry : composer_autoload_entries(*content, vendor)) {
    if (std::ranges::find(declared, entry) != declared.end()) continue;
    return Failure{"includes " + entry +
                       ", which no installed package and not composer.json declares as an "
                       "autoload file: it runs at every require of vendor/autoload.php",
                   {}};
  }
  return std::nullopt;
}

std::optional<Failure> check_change(const AutoRunPoint& point, const Change& c,
                                    const Context& ctx) {
  switch (point.check) {
    case AutoRunCheck::written:
      return Failure{std::string(c.change == ChangeKind::modified ? "replaced" : "written"), {}};
    case AutoRunCheck::replaced:
      if (c.change != ChangeKind::modified) return std::nullopt;
      return Failure{"replaced (the project had it)", {}};
    case AutoRunCheck::pth:
      return check_pth(c, ctx);
    case AutoRunCheck::console_script:
      return check_console_script(c, ctx);
    case AutoRunCheck::bin_link:
      return check_bin_link(c, ctx);
    case AutoRunCheck::binstub:
      return check_binstub(c, ctx);
    case AutoRunCheck::composer_autoload:
      return check_composer_autoload(c, ctx);
    case AutoRunCheck::composer_bin:
      return check_composer_bin(c, ctx);
    case AutoRunCheck::executable:
      if (c.type == EntryType::file && (c.flags.executable || has_runnable_extension(c.path)))
        return Failure{"an executable or loadable file", {}};
      return std::nullopt;
  }
  return std::nullopt;
}

const AutoRunAcceptance* acceptance_of(const Change& c, const AutoRunRules& rules,
                                       const Context& ctx) {
  const AutoRunAcceptance* candidate = nullptr;
  for (const auto& a : rules.accept)
    if (a.glob.matches(c.path)) candidate = &a;
  if (candidate == nullptr) return nullptr;
  auto content = content_of(c, ctx);
  if (!content) return nullptr;
  std::string digest = hex_digest("sha256", *content);
  for (const auto& a : rules.accept)
    if (a.sha256 == digest && a.glob.matches(c.path)) return &a;
  return nullptr;
}

// The .safeinstall.toml line that accepts this file at this content, for a file the user
// knows.
std::string how_to_accept(const Change& c, const Context& ctx) {
  auto content = content_of(c, ctx);
  if (!content) return {};
  return "; if it is known, accept it with [autorun] accept = [\"" + c.path +
         " sha256:" + hex_digest("sha256", *content) + "\"]";
}

std::string with_package(const std::string& package, const PackageOwners& owners) {
  if (!package.empty()) return " (" + package + ")";
  const auto& ran = owners.packages_that_ran();
  if (ran.empty()) return {};
  std::string list;
  for (const auto& p : ran) list += (list.empty() ? "" : ", ") + p;
  return " (written while code of " + list + " ran)";
}

}  // namespace

std::vector<Finding> auto_run_findings(const ChangeList& changes, const std::string& upper_dir,
                                       const std::string& project, const AutoRunRules& rules,
                                       const std::vector<ProcessRecord>& processes) {
  std::vector<Finding> out;
  if (rules.points.empty()) return out;
  StagedFiles files(upper_dir, project);
  PackageOwners owners(changes, files, processes);
  Context ctx{project, files, owners, {}};
  // Every point's globs in one set: a node_modules has tens of thousands of changes and
  // almost none is at any point, so each is tested once rather than once per point.
  DeepGlobSet any_point;
  for (const auto& point : rules.points) any_point.add_all(point.paths);
  const auto& all = changes.changes;
  for (std::size_t i = 0; i < all.size(); ++i) {
    // Paths lie in their list's arena, apart from the changes: asking for one a few changes
    // ahead hides the memory latency that otherwise dominates a walk over tens of thousands.
    if (i + kPrefetchAhead < all.size()) __builtin_prefetch(all[i + kPrefetchAhead].path.c_str());
    const Change& c = all[i];
    if (c.change == ChangeKind::deleted || c.type == EntryType::dir ||
        c.category != Category::expected || !any_point.matches(c.path))
      continue;
    for (const auto& point : rules.points) {
      if (!point.paths.matches(c.path)) continue;
      auto failure = check_change(point, c, ctx);
      if (!failure) continue;
      std::string package =
          failure->package.empty() ? owners.owner_of(c.path.str()) : failure->package;
      Finding f{FindingKind::auto_run, point.severity, {}, package, c.path.str(), 0};
      if (const auto* accepted = acceptance_of(c, rules, ctx)) {
        f.severity = Severity::info;
        f.detail =
            c.path + ": " + failure->what + " — accepted at this content by " + accepted->origin;
      } else {
        f.detail = c.path + ": " + failure->what + "; " + point.why +
                   with_package(package, owners) + how_to_accept(c, ctx);
      }
      out.push_back(std::move(f));
      break;  // one finding per file, from the first point that fails it
    }
  }
  return out;
}

}  // namespace safeinstall::runner
