#include "tests/support/ecosystem_registries.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "tests/support/registry_files.h"
#include "tests/support/temp_dir.h"

namespace safeinstall::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace registry_files;

std::string with_slash(const std::string& base_url) {
  return base_url.ends_with('/') ? base_url : base_url + "/";
}

void require_fields(const std::string& what, const std::string& name, const std::string& version) {
  if (name.empty() || version.empty())
    throw std::runtime_error(what + " registry: a package needs a name and a version (got '" +
                             name + "' '" + version + "')");
}

json read_json_or(const fs::path& path, json fallback) {
  if (!fs::exists(path)) return fallback;
  try {
    return json::parse(read_file(path));
  } catch (const json::exception& e) {
    throw std::runtime_error("registry: " + path.string() + ": " + e.what());
  }
}

// ---- PyPI ----

// PEP 503: lowercase, runs of -_. as one '-'.
std::string pypi_normalized(const std::string& name) {
  std::string out;
  for (char c : name) {
    bool separator = c == '-' || c == '_' || c == '.';
    if (separator) {
      if (!out.ends_with('-')) out += '-';
    } else {
      out += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
  }
  return out;
}

// The name as it appears in file names (wheel and PEP 625 sdist): '-' becomes '_'.
std::string pypi_file_name(const std::string& name) {
  std::string out = pypi_normalized(name);
  std::replace(out.begin(), out.end(), '-', '_');
  return out;
}

std::string pypi_metadata(const PypiPackage& package) {
  std::string out = "Metadata-Version: 2.1\nName: " + package.name +
                    "\nVersion: " + package.version + "\nSummary: " + package.name + "\n";
  for (const auto& requirement : package.requires_dist)
    out += "Requires-Dist: " + requirement + "\n";
  return out;
}

std::string record_hash(const std::string& content) {
  std::string hash = digest_base64(Digest::Sha256, content);
  std::replace(hash.begin(), hash.end(), '+', '-');
  std::replace(hash.begin(), hash.end(), '/', '_');
  while (hash.ends_with('=')) hash.pop_back();
  return "sha256=" + hash;
}

// A pure-Python wheel, zipped as a wheel builder would: the files, then the .dist-info with
// METADATA, WHEEL and a RECORD of every other file's hash.
std::string build_wheel(const PypiPackage& package, const fs::path& files_dir) {
  const std::string file =
      pypi_file_name(package.name) + "-" + package.version + "-py3-none-any.whl";
  const std::string dist_info = pypi_file_name(package.name) + "-" + package.version + ".dist-info";
  TempDir staging("si-pypi-wheel");
  std::map<std::string, std::string> contents = package.files;
  contents[dist_info + "/METADATA"] = pypi_metadata(package);
  contents[dist_info + "/WHEEL"] =
      "Wheel-Version: 1.0\nGenerator: safeinstall-tests\nRoot-Is-Purelib: true\n"
      "Tag: py3-none-any\n";
  std::string record;
  for (const auto& [path, content] : contents) {
    record += path + "," + record_hash(content) + "," + std::to_string(content.size()) + "\n";
    write_file(fs::path(staging.path()) / path, content);
  }
  record += dist_info + "/RECORD,,\n";
  write_file(fs::path(staging.path()) / dist_info / "RECORD", record);
  std::vector<std::string> entries;
  for (const auto& item : fs::directory_iterator(staging.path()))
    entries.push_back(item.path().filename().string());
  make_zip(staging.path(), entries, files_dir / file,
           "pypi registry: zipping " + package.name + " " + package.version);
  return file;
}

// An sdist whose setup.py runs package.setup_code first, then setuptools' setup().
std::string build_sdist(const PypiPackage& package, const fs::path& files_dir) {
  const std::string top = pypi_file_name(package.name) + "-" + package.version;
  TempDir staging("si-pypi-sdist");
  fs::path dir = fs::path(staging.path()) / top;
  std::vector<std::string> modules;
  for (const auto& [path, content] : package.files) {
    write_file(dir / path, content);
    if (path.find('/') == std::string::npos && path.ends_with(".py"))
      modules.push_back(path.substr(0, path.size() - 3));
  }
  json requires_list = package.requires_dist;
  json modules_list = modules;
  write_file(dir / "PKG-INFO", pypi_metadata(package));
  write_file(dir / "setup.py", package.setup_code +
                                   "\nfrom setuptools import setup, find_packages\n" +
                                   "setup(name=" + json(package.name).dump() +
                                   ", version=" + json(package.version).dump() +
                                   ", packages=find_packages(), py_modules=" + modules_list.dump() +
                                   ", install_requires=" + requires_list.dump() + ")\n");
  const std::string file = top + ".tar.gz";
  make_tar_gz(staging.path(), {top}, files_dir / file,
              "pypi registry: packing " + package.name + " " + package.version);
  return file;
}

void write_simple_page(const fs::path& path, const std::string& title,
                       const std::vector<std::pair<std::string, std::string>>& links) {
  std::string html =
      "<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" "
      "content=\"1.0\"><title>" +
      title + "</title></head><body>\n";
  for (const auto& [href, text] : links) html += "<a href=\"" + href + "\">" + text + "</a><br>\n";
  html += "</body></html>\n";
  write_file(path, html);
}

// Every file of one project, as written so far: what its simple page lists.
std::vector<std::pair<std::string, std::string>> project_links(const fs::path& files_dir,
                                                               const std::string& base,
                                                               const std::string& name) {
  std::vector<std::pair<std::string, std::string>> links;
  const std::string prefix = pypi_file_name(name) + "-";
  std::set<std::string> files;
  for (const auto& item : fs::directory_iterator(files_dir)) {
    std::string file = item.path().filename().string();
    // name-version...: the character after the prefix starts the version, a digit.
    if (file.starts_with(prefix) && file.size() > prefix.size() &&
        std::isdigit(static_cast<unsigned char>(file[prefix.size()])))
      files.insert(file);
  }
  for (const auto& file : files) {
    links.emplace_back(base + "pypi/files/" + file +
                           "#sha256=" + digest_hex(Digest::Sha256, read_file(files_dir / file)),
                       file);
  }
  return links;
}

// ---- RubyGems ----

std::string ruby_string(const std::string& text) {
  return json(text).dump();  // a JSON string literal is a valid Ruby double-quoted string
}

std::string gemspec_of(const GemPackage& package, const std::vector<std::string>& files) {
  std::string out = "Gem::Specification.new do |s|\n";
  out += "  s.name = " + ruby_string(package.name) + "\n";
  out += "  s.version = " + ruby_string(package.version) + "\n";
  out += "  s.summary = " + ruby_string(package.name) + "\n";
  out += "  s.authors = [\"safeinstall tests\"]\n  s.license = \"MIT\"\n";
  out += "  s.required_ruby_version = \">= 2.0\"\n";
  out += "  s.files = " + json(files).dump() + "\n";
  if (!package.extconf_rb.empty())
    out += "  s.extensions = [" + ruby_string("ext/" + package.name + "/extconf.rb") + "]\n";
  if (!package.executables.empty())
    out += "  s.bindir = \"bin\"\n  s.executables = " + json(package.executables).dump() + "\n";
  for (const auto& [name, requirement] : package.dependencies)
    out +=
        "  s.add_runtime_dependency " + ruby_string(name) + ", " + ruby_string(requirement) + "\n";
  out += "end\n";
  return out;
}

void build_gem(const GemPackage& package, const fs::path& gems_dir) {
  require_fields("gem", package.name, package.version);
  TempDir staging("si-gem-build");
  std::vector<std::string> files;
  auto add = [&](const std::string& path, const std::string& content) {
    write_file(fs::path(staging.path()) / path, content);
    files.push_back(path);
  };
  for (const auto& [path, content] : package.files) add(path, content);
  if (!package.extconf_rb.empty()) add("ext/" + package.name + "/extconf.rb", package.extconf_rb);
  std::sort(files.begin(), files.end());
  write_file(fs::path(staging.path()) / (package.name + ".gemspec"), gemspec_of(package, files));
  fix_times(staging.path());
  const std::string context = "gem registry: building " + package.name + " " + package.version;
  run_checked({"gem", "build", package.name + ".gemspec"}, context, staging.path(),
              {"SOURCE_DATE_EPOCH=946684800", "HOME=" + staging.path()});
  const std::string file = package.name + "-" + package.version + ".gem";
  fs::create_directories(gems_dir);
  fs::copy_file(fs::path(staging.path()) / file, gems_dir / file,
                fs::copy_options::overwrite_existing);
}

// ---- cargo ----

// The index path of a crate: 1/a, 2/ab, 3/a/abc, ab/cd/abcd...
std::string cargo_index_path(const std::string& name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  switch (lower.size()) {
    case 1:
      return "1/" + lower;
    case 2:
      return "2/" + lower;
    case 3:
      return "3/" + lower.substr(0, 1) + "/" + lower;
    default:
      return lower.substr(0, 2) + "/" + lower.substr(2, 2) + "/" + lower;
  }
}

std::string toml_string(const std::string& text) {
  return json(text).dump();  // TOML basic strings escape as JSON does for what we write
}

std::string cargo_toml_of(const CratePackage& package) {
  std::string out = "[package]\nname = " + toml_string(package.name) +
                    "\nversion = " + toml_string(package.version) + "\nedition = \"2018\"\n";
  if (!package.build_rs.empty()) out += "build = \"build.rs\"\n";
  out += "\n[lib]\npath = \"src/lib.rs\"\n\n[dependencies]\n";
  for (const auto& [name, requirement] : package.dependencies)
    out += name + " = " + toml_string(requirement) + "\n";
  return out;
}

// ---- go ----

// Module paths in proxy URLs: an upper-case letter becomes '!' and its lower case.
std::string go_escaped(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c >= 'A' && c <= 'Z') {
      out += '!';
      out += static_cast<char>(c - 'A' + 'a');
    } else {
      out += c;
    }
  }
  return out;
}

std::string go_mod_of(const GoModule& module) {
  std::string out = "module " + module.path + "\n\ngo 1.19\n";
  if (!module.requires_modules.empty()) {
    out += "\nrequire (\n";
    for (const auto& [path, version] : module.requires_modules)
      out += "\t" + path + " " + version + "\n";
    out += ")\n";
  }
  return out;
}

// "v1.2.3" -> comparable numbers, for the order of @v/list.
std::vector<unsigned long> go_version_numbers(const std::string& version) {
  std::vector<unsigned long> numbers;
  std::string_view rest = std::string_view(version).substr(version.starts_with('v') ? 1 : 0);
  while (!rest.empty()) {
    numbers.push_back(std::strtoul(std::string(rest).c_str(), nullptr, 10));
    std::size_t dot = rest.find('.');
    rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
  }
  return numbers;
}

// ---- composer ----

std::string composer_normalized_version(const std::string& version) {
  std::size_t dots = static_cast<std::size_t>(std::count(version.begin(), version.end(), '.'));
  std::string out = version;
  for (std::size_t i = dots; i < 3; ++i) out += ".0";
  return out;
}

}  // namespace

void write_pypi_registry(const std::string& root, const std::string& base_url,
                         const std::vector<PypiPackage>& packages) {
  const std::string base = with_slash(base_url);
  const fs::path files_dir = fs::path(root) / "pypi/files";
  fs::create_directories(files_dir);
  for (const auto& package : packages) {
    require_fields("pypi", package.name, package.version);
    if (package.format == PypiPackage::Format::Wheel && !package.setup_code.empty())
      throw std::runtime_error("pypi registry: " + package.name +
                               ": setup_code needs an sdist; a wheel runs no code at install");
    if (package.format == PypiPackage::Format::Wheel)
      build_wheel(package, files_dir);
    else
      build_sdist(package, files_dir);
  }
  // The pages of these projects list every file written so far (earlier calls included).
  std::set<std::string> names;
  for (const auto& package : packages) names.insert(package.name);
  for (const auto& name : names) {
    write_simple_page(fs::path(root) / "simple" / pypi_normalized(name) / "index.html",
                      "Links for " + name, project_links(files_dir, base, name));
  }
  std::vector<std::pair<std::string, std::string>> projects;
  for (const auto& item : fs::directory_iterator(fs::path(root) / "simple")) {
    if (item.is_directory()) {
      std::string project = item.path().filename().string();
      projects.emplace_back(base + "simple/" + project + "/", project);
    }
  }
  std::sort(projects.begin(), projects.end());
  write_simple_page(fs::path(root) / "simple/index.html", "Simple index", projects);
}

void write_gem_registry(const std::string& root, const std::string& base_url,
                        const std::vector<GemPackage>& packages) {
  (void)base_url;  // the index names gems by name and version; clients add their source URL
  const fs::path source = fs::path(root) / "gems";
  for (const auto& package : packages) build_gem(package, source / "gems");
  run_checked({"gem", "generate_index", "--directory", source.string()},
              "gem registry: gem generate_index", source.string(),
              {"SOURCE_DATE_EPOCH=946684800", "HOME=" + source.string()});
}

void write_cargo_registry(const std::string& root, const std::string& base_url,
                          const std::vector<CratePackage>& packages) {
  const std::string base = with_slash(base_url);
  const fs::path registry = fs::path(root) / "cargo";
  write_file(registry / "index/config.json",
             json{{"dl", base + "cargo/crates/{crate}/{version}.crate"}}.dump() + "\n");
  for (const auto& package : packages) {
    require_fields("cargo", package.name, package.version);
    const std::string context = "cargo registry: packing " + package.name + " " + package.version;
    TempDir staging("si-cargo-crate");
    const std::string top = package.name + "-" + package.version;
    fs::path dir = fs::path(staging.path()) / top;
    if (package.files.contains("Cargo.toml"))
      throw std::runtime_error(context + ": Cargo.toml is generated; do not give it in files");
    write_file(dir / "Cargo.toml", cargo_toml_of(package));
    for (const auto& [path, content] : package.files) write_file(dir / path, content);
    if (!package.files.contains("src/lib.rs")) write_file(dir / "src/lib.rs", "");
    if (!package.build_rs.empty()) write_file(dir / "build.rs", package.build_rs);
    const fs::path crate = registry / "crates" / package.name / (package.version + ".crate");
    make_tar_gz(staging.path(), {top}, crate, context);

    json deps = json::array();
    for (const auto& [name, requirement] : package.dependencies) {
      deps.push_back({{"name", name},
                      {"req", requirement},
                      {"features", json::array()},
                      {"optional", false},
                      {"default_features", true},
                      {"target", nullptr},
                      {"kind", "normal"}});
    }
    json entry = {{"name", package.name},
                  {"vers", package.version},
                  {"deps", deps},
                  {"cksum", digest_hex(Digest::Sha256, read_file(crate))},
                  {"features", json::object()},
                  {"yanked", false}};
    // One line per version; a version written again replaces its line.
    fs::path index_file = registry / "index" / cargo_index_path(package.name);
    std::string kept;
    if (fs::exists(index_file)) {
      std::string old = read_file(index_file);
      for (std::size_t at = 0; at < old.size();) {
        std::size_t end = old.find('\n', at);
        if (end == std::string::npos) end = old.size();
        std::string line = old.substr(at, end - at);
        if (!line.empty() && json::parse(line).value("vers", "") != package.version)
          kept += line + "\n";
        at = end + 1;
      }
    }
    write_file(index_file, kept + entry.dump() + "\n");
  }
}

void write_go_proxy(const std::string& root, const std::vector<GoModule>& modules) {
  for (const auto& module : modules) {
    require_fields("go", module.path, module.version);
    const std::string context = "go proxy: packing " + module.path + " " + module.version;
    if (module.files.contains("go.mod"))
      throw std::runtime_error(context + ": go.mod is generated; do not give it in files");
    const fs::path at = fs::path(root) / "go" / go_escaped(module.path) / "@v";
    const std::string go_mod = go_mod_of(module);
    write_file(at / (module.version + ".mod"), go_mod);
    write_file(at / (module.version + ".info"),
               json{{"Version", module.version}, {"Time", "2000-01-01T00:00:00Z"}}.dump() + "\n");
    // The module zip: every file under "<module>@<version>/".
    TempDir staging("si-go-module");
    const std::string prefix = module.path + "@" + module.version;
    write_file(fs::path(staging.path()) / prefix / "go.mod", go_mod);
    for (const auto& [path, content] : module.files)
      write_file(fs::path(staging.path()) / prefix / path, content);
    std::string top = prefix.substr(0, prefix.find('/'));
    make_zip(staging.path(), {top}, at / (module.version + ".zip"), context);

    std::vector<std::string> versions;
    for (const auto& item : fs::directory_iterator(at)) {
      if (item.path().extension() == ".info") versions.push_back(item.path().stem().string());
    }
    std::sort(versions.begin(), versions.end(), [](const auto& a, const auto& b) {
      return go_version_numbers(a) < go_version_numbers(b);
    });
    std::string list;
    for (const auto& version : versions) list += version + "\n";
    write_file(at / "list", list);
  }
}

void write_composer_registry(const std::string& root, const std::string& base_url,
                             const std::vector<ComposerPackage>& packages) {
  const std::string base = with_slash(base_url);
  const fs::path repository = fs::path(root) / "composer";
  json index = read_json_or(repository / "packages.json", json{{"packages", json::object()}});
  for (const auto& package : packages) {
    require_fields("composer", package.name, package.version);
    const std::string context =
        "composer registry: packing " + package.name + " " + package.version;
    if (package.name.find('/') == std::string::npos)
      throw std::runtime_error(context + ": a composer name is vendor/name");
    if (package.files.contains("composer.json"))
      throw std::runtime_error(context + ": composer.json is generated; do not give it in files");
    json manifest = {{"name", package.name}, {"version", package.version}, {"type", package.type}};
    if (!package.extra.empty()) manifest["extra"] = package.extra;
    if (!package.require.empty()) manifest["require"] = package.require;
    if (!package.autoload_psr4.empty()) manifest["autoload"] = {{"psr-4", package.autoload_psr4}};
    if (!package.scripts.empty()) manifest["scripts"] = package.scripts;

    TempDir staging("si-composer-dist");
    write_file(fs::path(staging.path()) / "composer.json", manifest.dump(4) + "\n");
    for (const auto& [path, content] : package.files)
      write_file(fs::path(staging.path()) / path, content);
    std::vector<std::string> entries;
    for (const auto& item : fs::directory_iterator(staging.path()))
      entries.push_back(item.path().filename().string());
    const std::string relative = "composer/dists/" + package.name + "-" + package.version + ".zip";
    make_zip(staging.path(), entries, fs::path(root) / relative, context);

    manifest["version_normalized"] = composer_normalized_version(package.version);
    manifest["dist"] = {{"type", "zip"},
                        {"url", base + relative},
                        {"shasum", digest_hex(Digest::Sha1, read_file(fs::path(root) / relative))}};
    index["packages"][package.name][package.version] = manifest;
  }
  write_file(repository / "packages.json", index.dump(4) + "\n");
}

}  // namespace safeinstall::test
