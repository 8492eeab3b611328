#include "runner/packages/lockfile.h"

#include <nlohmann/json.hpp>
#include <unordered_map>

#include "runner/packages/lockfile_text.h"

namespace safeinstall::runner {

std::unexpected<Error> lockfile_error(const std::string& source, std::size_t line,
                                      std::size_t column, const std::string& what) {
  std::string place = source;
  if (line > 0) place += ":" + std::to_string(line) + ":" + std::to_string(column);
  return plain_error(place + ": " + what);
}

std::pair<std::size_t, std::size_t> line_column_at(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

std::set<std::string> json_manifest_names(std::string_view manifest,
                                          std::initializer_list<const char*> sections) {
  std::set<std::string> names;
  if (manifest.empty()) return names;
  auto json = nlohmann::json::parse(manifest, nullptr, false);
  if (!json.is_object()) return names;
  for (const char* section : sections) {
    auto it = json.find(section);
    if (it == json.end() || !it->is_object()) continue;
    for (const auto& [name, _] : it->items()) names.insert(name);
  }
  return names;
}

std::string normalize_pypi_name(std::string_view name) {
  std::string out;
  bool separator = false;
  for (char c : name) {
    if (c == '-' || c == '_' || c == '.') {
      separator = true;
      continue;
    }
    if (separator && !out.empty()) out += '-';
    separator = false;
    out += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  return out;
}

void keep_unique(std::vector<PackageVersion>& packages) {
  std::unordered_map<std::string, std::size_t> first;
  std::vector<PackageVersion> kept;
  kept.reserve(packages.size());
  for (auto& p : packages) {
    std::string key = std::string(to_string(p.ecosystem)) + '\t' + p.name + '\t' + p.version;
    auto [at, fresh] = first.emplace(key, kept.size());
    if (fresh) {
      kept.push_back(std::move(p));
    } else {
      kept[at->second].direct = kept[at->second].direct || p.direct;
    }
  }
  packages = std::move(kept);
}

std::optional<LockfileFormat> lockfile_format(std::string_view name) {
  if (name == "package-lock.json" || name == "npm-shrinkwrap.json") return LockfileFormat::npm;
  if (name == "yarn.lock") return LockfileFormat::yarn;
  if (name == "pnpm-lock.yaml") return LockfileFormat::pnpm;
  if (name == "poetry.lock") return LockfileFormat::poetry;
  if (name == "uv.lock") return LockfileFormat::uv;
  if (name == "Cargo.lock") return LockfileFormat::cargo;
  if (name == "go.sum") return LockfileFormat::go_sum;
  if (name == "Gemfile.lock" || name == "gems.locked") return LockfileFormat::gemfile;
  if (name == "composer.lock") return LockfileFormat::composer;
  if (name.starts_with("requirements") && name.ends_with(".txt"))
    return LockfileFormat::requirements;
  return std::nullopt;
}

std::string_view manifest_of(LockfileFormat format) {
  switch (format) {
    case LockfileFormat::npm:
    case LockfileFormat::yarn:
      return "package.json";
    case LockfileFormat::poetry:
    case LockfileFormat::uv:
      return "pyproject.toml";
    case LockfileFormat::go_sum:
      return "go.mod";
    case LockfileFormat::composer:
      return "composer.json";
    default:
      return {};
  }
}

namespace {

Result<std::vector<PackageVersion>> dispatch(LockfileFormat format, std::string_view text,
                                             const std::string& source, std::string_view manifest) {
  switch (format) {
    case LockfileFormat::npm:
      return parse_npm_lock(text, source, manifest);
    case LockfileFormat::yarn:
      return parse_yarn_lock(text, source, manifest);
    case LockfileFormat::pnpm:
      return parse_pnpm_lock(text, source);
    case LockfileFormat::requirements:
      return parse_requirements(text, source);
    case LockfileFormat::poetry:
      return parse_poetry_lock(text, source, manifest);
    case LockfileFormat::uv:
      return parse_uv_lock(text, source, manifest);
    case LockfileFormat::cargo:
      return parse_cargo_lock(text, source);
    case LockfileFormat::go_sum:
      return parse_go_sum(text, source, manifest);
    case LockfileFormat::gemfile:
      return parse_gemfile_lock(text, source);
    case LockfileFormat::composer:
      return parse_composer_lock(text, source, manifest);
  }
  return lockfile_error(source, 0, 0, "unknown lockfile format");
}

}  // namespace

Result<std::vector<PackageVersion>> parse_lockfile(LockfileFormat format, std::string_view text,
                                                   const std::string& source,
                                                   std::string_view manifest) {
  // The readers check types as they go; this is the last line against a library throwing on
  // input nobody foresaw.
  try {
    auto packages = dispatch(format, text, source, manifest);
    if (packages) keep_unique(*packages);
    return packages;
  } catch (const std::exception& e) {
    return lockfile_error(source, 0, 0, e.what());
  }
}

}  // namespace safeinstall::runner
