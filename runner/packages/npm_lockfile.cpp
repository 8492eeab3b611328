// package-lock.json / npm-shrinkwrap.json (lockfileVersion 1, 2, 3), read as it is parsed.
//
// A 2,000-package lock is ≈ 1.7 MB of JSON; a document tree of it, even without the keys
// nobody reads, is over a megabyte more held while a run starts. The reader below takes
// nlohmann's parse events instead and keeps only what the package set needs: per install
// path its name, version, link and hasInstallScript; the project's own dependency names;
// for lockfileVersion 1, the nested tree of names and versions.
//
// It gives what a document tree would: objects are read as nlohmann's (a std::map), so
// entries come out in key order and a repeated key counts as its last occurrence, values of
// the wrong type read as absent, and a parse error anywhere wins over what was read.
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runner/packages/lockfile.h"
#include "runner/packages/lockfile_text.h"

namespace safeinstall::runner {
namespace {

using nlohmann::json;

// lockfileVersion 1 trees deeper than this are not read further: real trees are shallow and
// a hostile one nests without end.
constexpr int kMaxTreeDepth = 200;

const std::set<std::string, std::less<>> kDependencySections = {
    "dependencies", "devDependencies", "optionalDependencies", "peerDependencies"};

// One install path of "packages" (lockfileVersion 2 and 3).
struct PathEntry {
  bool is_object = false;
  std::string name;     // when a string
  std::string version;  // when a string
  bool link = false;    // "link": true
  bool install_script = false;
};

// One package of lockfileVersion 1's nested "dependencies", or (node 0) the top of the tree.
struct TreeNode {
  bool is_object = false;
  std::string version;  // when a string
  // Name → node, when "dependencies" is an object within the depth read.
  std::optional<std::map<std::string, std::size_t>> dependencies;
};

// "node_modules/a/node_modules/@s/b" → "@s/b"; empty for a workspace folder.
std::string name_from_path(const std::string& path) {
  static constexpr std::string_view kMarker = "node_modules/";
  auto at = path.rfind(kMarker);
  if (at == std::string::npos) return {};
  return path.substr(at + kMarker.size());
}

// "npm:real-name@1.2.3" (an aliased dependency) → {real-name, 1.2.3}.
void resolve_alias(std::string& name, std::string& version) {
  if (!version.starts_with("npm:")) return;
  std::string spec = version.substr(4);
  auto at = spec.rfind('@');
  if (at == std::string::npos || at == 0) return;
  name = spec.substr(0, at);
  version = spec.substr(at + 1);
}

// The parse events of one package-lock, kept where the package set needs them.
class NpmLockReader {
 public:
  // What the lock holds, once the parse has ended without an error.
  Result<std::vector<PackageVersion>> packages(const std::string& source,
                                               std::string_view manifest) const {
    if (!root_is_object_) return lockfile_error(source, 1, 1, "expected a JSON object");
    if (has_packages_) {
      if (!packages_is_object_)
        return lockfile_error(source, 0, 0, "\"packages\" must be an object");
      return path_packages(source);
    }
    std::vector<PackageVersion> out;
    if (!has_tree_) return out;
    if (!tree_is_object_) return lockfile_error(source, 0, 0, "\"dependencies\" must be an object");
    auto direct = json_manifest_names(
        manifest, {"dependencies", "devDependencies", "optionalDependencies", "peerDependencies"});
    tree_packages(0, direct, true, source, out);
    return out;
  }

  // The parse error, if the parse stopped at one: byte offset and what it was.
  struct Failure {
    std::size_t byte = 0;
    bool syntax = true;  // a parse error; else a value the library cannot hold
    std::string what;
  };
  const std::optional<Failure>& failure() const { return failure_; }

  // nlohmann's SAX interface.
  bool null() { return scalar(nullptr, false); }
  bool boolean(bool value) { return scalar(nullptr, value); }
  bool number_integer(json::number_integer_t) { return scalar(nullptr, false); }
  bool number_unsigned(json::number_unsigned_t) { return scalar(nullptr, false); }
  bool number_float(json::number_float_t, const json::string_t&) { return scalar(nullptr, false); }
  bool string(json::string_t& value) { return scalar(&value, false); }
  bool binary(json::binary_t&) { return scalar(nullptr, false); }
  bool start_object(std::size_t) { return open(true); }
  bool start_array(std::size_t) { return open(false); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(json::string_t& key);
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    failure_ = Failure{position, dynamic_cast<const json::parse_error*>(&e) != nullptr, e.what()};
    return false;
  }

 private:
  // What the value after the last key is, for this reader.
  enum class Slot {
    none,        // not read
    packages,    // the top-level "packages"
    tree,        // the top-level "dependencies" (lockfileVersion 1)
    path_entry,  // an install path's entry in "packages"
    entry_name,  // ... and its fields
    entry_version,
    entry_link,
    entry_script,
    project_entry,    // "packages"[""]: the project itself
    project_section,  // one of its dependency sections
    tree_entry,       // a package in a "dependencies" tree
    tree_version,     // ... its "version"
    tree_nested,      // ... its own "dependencies"
  };
  // The objects being read (any other container is skipped, counted in skipped_).
  enum class Frame { root, packages, path_entry, project_entry, project_section, tree, tree_entry };
  struct Open {
    Frame frame;
    std::size_t node = 0;  // tree, tree_entry: the node
    int depth = 0;         // tree, tree_entry: how deep in the tree
  };

  Slot take_slot() {
    Slot slot = slot_;
    slot_ = Slot::none;
    return slot;
  }

  bool scalar(json::string_t* text, bool flag);
  bool open(bool object);
  bool close() {
    if (skipped_ > 0)
      --skipped_;
    else if (!frames_.empty())
      frames_.pop_back();
    return true;
  }
  void start_object_at(Slot slot);

  std::vector<PackageVersion> path_packages(const std::string& source) const;
  void tree_packages(std::size_t node, const std::set<std::string>& direct, bool top,
                     const std::string& source, std::vector<PackageVersion>& out) const;

  bool started_ = false;
  bool root_is_object_ = false;
  std::vector<Open> frames_;
  std::size_t skipped_ = 0;
  Slot slot_ = Slot::none;
  std::optional<Failure> failure_;

  bool has_packages_ = false;
  bool packages_is_object_ = false;
  std::map<std::string, PathEntry> paths_;
  PathEntry* entry_ = nullptr;  // the entry whose key came last
  std::map<std::string, std::set<std::string>> project_sections_;
  std::string section_;  // the project section whose key came last

  bool has_tree_ = false;
  bool tree_is_object_ = false;
  std::vector<TreeNode> nodes_;
  std::size_t node_ = 0;  // the tree node whose key came last
  int node_depth_ = 0;
};

bool NpmLockReader::key(json::string_t& key) {
  if (skipped_ > 0 || frames_.empty()) return true;
  const Open& at = frames_.back();
  switch (at.frame) {
    case Frame::root:
      if (key == "packages") {
        slot_ = Slot::packages;
      } else if (key == "dependencies" && !has_packages_) {
        // lockfileVersion 2 keeps the old tree beside "packages" for npm 6; only one is read.
        slot_ = Slot::tree;
      }
      break;
    case Frame::packages:
      if (key.empty()) {
        slot_ = Slot::project_entry;
      } else {
        entry_ = &paths_[key];
        *entry_ = PathEntry{};
        slot_ = Slot::path_entry;
      }
      break;
    case Frame::path_entry:
      if (key == "name") slot_ = Slot::entry_name;
      if (key == "version") slot_ = Slot::entry_version;
      if (key == "link") slot_ = Slot::entry_link;
      if (key == "hasInstallScript") slot_ = Slot::entry_script;
      break;
    case Frame::project_entry:
      if (kDependencySections.contains(key)) {
        section_ = key;
        project_sections_[section_].clear();
        slot_ = Slot::project_section;
      }
      break;
    case Frame::project_section:
      project_sections_[section_].insert(std::move(key));
      break;
    case Frame::tree: {
      node_ = nodes_.size();
      node_depth_ = at.depth;
      nodes_.emplace_back();
      (*nodes_[at.node].dependencies)[std::move(key)] = node_;
      slot_ = Slot::tree_entry;
      break;
    }
    case Frame::tree_entry:
      node_ = at.node;
      node_depth_ = at.depth;
      if (key == "version") slot_ = Slot::tree_version;
      if (key == "dependencies" && at.depth < kMaxTreeDepth) slot_ = Slot::tree_nested;
      break;
  }
  return true;
}

// A value that is not an object (`text` for a string, `flag` for a boolean's value): the slot
// takes it where it is of the type wanted, and reads as absent (empty, false) otherwise.
bool NpmLockReader::scalar(json::string_t* text, bool flag) {
  if (!started_) {
    started_ = true;  // a document that is not an object: nothing is read
    return true;
  }
  if (skipped_ > 0) return true;
  auto text_or_empty = [&] { return text != nullptr ? std::move(*text) : std::string(); };
  switch (take_slot()) {
    case Slot::none:
    case Slot::path_entry:  // not an object: entry_ stays as reset
    case Slot::tree_entry:  // not an object: the node stays as made
      break;
    case Slot::packages:
      has_packages_ = true;
      packages_is_object_ = false;
      paths_.clear();
      project_sections_.clear();
      nodes_.clear();
      break;
    case Slot::tree:
      has_tree_ = true;
      tree_is_object_ = false;
      nodes_.clear();
      break;
    case Slot::entry_name:
      entry_->name = text_or_empty();
      break;
    case Slot::entry_version:
      entry_->version = text_or_empty();
      break;
    case Slot::entry_link:
      entry_->link = text == nullptr && flag;
      break;
    case Slot::entry_script:
      entry_->install_script = text == nullptr && flag;
      break;
    case Slot::project_entry:
      project_sections_.clear();
      break;
    case Slot::project_section:
      project_sections_.erase(section_);
      break;
    case Slot::tree_version:
      nodes_[node_].version = text_or_empty();
      break;
    case Slot::tree_nested:
      nodes_[node_].dependencies.reset();
      break;
  }
  return true;
}

// An object or array: read when its slot wants an object, else skipped with all inside it.
bool NpmLockReader::open(bool object) {
  if (!started_) {
    started_ = true;
    root_is_object_ = object;
    if (object)
      frames_.push_back({Frame::root});
    else
      ++skipped_;
    return true;
  }
  if (skipped_ > 0) {
    ++skipped_;
    return true;
  }
  if (!object) {
    scalar(nullptr, false);  // an array where a value was wanted reads as absent
    ++skipped_;
    return true;
  }
  start_object_at(take_slot());
  return true;
}

void NpmLockReader::start_object_at(Slot slot) {
  switch (slot) {
    case Slot::packages:
      has_packages_ = true;
      packages_is_object_ = true;
      paths_.clear();
      project_sections_.clear();
      nodes_.clear();  // never read once "packages" is there
      frames_.push_back({Frame::packages});
      return;
    case Slot::tree:
      has_tree_ = true;
      tree_is_object_ = true;
      nodes_.assign(1, TreeNode{true, {}, std::map<std::string, std::size_t>()});
      frames_.push_back({Frame::tree, 0, 0});
      return;
    case Slot::path_entry:
      entry_->is_object = true;
      frames_.push_back({Frame::path_entry});
      return;
    case Slot::project_entry:
      project_sections_.clear();
      frames_.push_back({Frame::project_entry});
      return;
    case Slot::project_section:
      frames_.push_back({Frame::project_section});
      return;
    case Slot::tree_entry:
      nodes_[node_].is_object = true;
      frames_.push_back({Frame::tree_entry, node_, node_depth_});
      return;
    case Slot::tree_nested:
      nodes_[node_].dependencies.emplace();
      frames_.push_back({Frame::tree, node_, node_depth_ + 1});
      return;
    case Slot::entry_name:
    case Slot::entry_version:
    case Slot::entry_link:
    case Slot::entry_script:
    case Slot::tree_version:
      slot_ = slot;
      scalar(nullptr, false);  // an object where a string or boolean was wanted
      ++skipped_;
      return;
    case Slot::none:
      ++skipped_;
      return;
  }
}

// lockfileVersion 2 and 3: "packages", keyed by install path, "" the project itself.
std::vector<PackageVersion> NpmLockReader::path_packages(const std::string& source) const {
  std::set<std::string> direct;
  for (const auto& [_, names] : project_sections_) direct.insert(names.begin(), names.end());
  std::vector<PackageVersion> out;
  for (const auto& [path, entry] : paths_) {
    if (!entry.is_object || entry.link) continue;
    std::string from_path = name_from_path(path);
    if (from_path.empty()) continue;  // a workspace's own folder
    std::string name = entry.name.empty() ? from_path : entry.name;
    std::string version = entry.version;
    resolve_alias(name, version);
    if (version.empty()) continue;
    bool top_level = path == "node_modules/" + from_path;
    out.push_back({Ecosystem::npm, name, version, top_level && direct.contains(from_path), source,
                   entry.install_script});
  }
  return out;
}

// lockfileVersion 1: nested "dependencies"; direct ones are named by package.json.
void NpmLockReader::tree_packages(std::size_t node, const std::set<std::string>& direct, bool top,
                                  const std::string& source,
                                  std::vector<PackageVersion>& out) const {
  for (const auto& [key, child] : *nodes_[node].dependencies) {
    const TreeNode& entry = nodes_[child];
    if (!entry.is_object) continue;
    std::string name = key;
    std::string version = entry.version;
    resolve_alias(name, version);
    if (!version.empty() && !version.starts_with("file:") && !version.starts_with("link:"))
      out.push_back({Ecosystem::npm, name, version, top && direct.contains(key), source});
    if (entry.dependencies) tree_packages(child, direct, false, source, out);
  }
}

}  // namespace

Result<std::vector<PackageVersion>> parse_npm_lock(std::string_view text, const std::string& source,
                                                   std::string_view manifest) {
  NpmLockReader reader;
  json::sax_parse(text, &reader);
  if (const auto& failure = reader.failure()) {
    if (!failure->syntax)  // a number too large for any type, and the like
      return lockfile_error(source, 0, 0, "not usable JSON: " + failure->what);
    auto [line, column] = line_column_at(text, failure->byte > 0 ? failure->byte - 1 : 0);
    return lockfile_error(source, line, column, "not valid JSON");
  }
  return reader.packages(source, manifest);
}

}  // namespace safeinstall::runner
