#include "runner/record/expected_globs.h"

#include <algorithm>
#include <map>
#include <set>

namespace safeinstall::runner {
namespace {

std::string top_level_of(const std::string& path) {
  return path.substr(0, path.find('/'));
}

// Directories the run created (not there before): everything beneath them is the run's.
std::set<std::string> added_directories(const ChangeList& changes) {
  std::set<std::string> dirs;
  for (const auto& c : changes.changes)
    if (c.type == EntryType::dir && c.change == ChangeKind::added) dirs.insert(c.path.str());
  return dirs;
}

// The shallowest directory the run created that holds `path` (or is it), or "".
std::string created_ancestor(const std::string& path, const std::set<std::string>& created) {
  for (std::size_t slash = path.find('/');; slash = path.find('/', slash + 1)) {
    std::string prefix = path.substr(0, slash);
    if (created.contains(prefix)) return prefix;
    if (slash == std::string::npos) return {};
  }
}

bool covered_by(const std::string& path, const std::set<std::string>& subtrees) {
  for (std::size_t slash = path.find('/'); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    if (subtrees.contains(path.substr(0, slash))) return true;
  }
  return false;
}

}  // namespace

std::string literal_glob(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == '*' || c == '?' || c == '[' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::vector<std::string> expected_globs_for(const ChangeList& changes,
                                            const std::vector<std::string>& leave_out) {
  const auto created = added_directories(changes);
  std::set<std::string> subtrees;  // directories covered whole: `dir/**`
  std::set<std::string> files;     // paths covered one by one
  for (const auto& c : changes.changes) {
    if (c.category != Category::unexpected) continue;
    if (std::ranges::find(leave_out, c.path.view()) != leave_out.end()) continue;
    const std::string path = c.path.str();
    if (auto dir = created_ancestor(path, created); !dir.empty()) {
      subtrees.insert(dir);
    } else {
      files.insert(path);
    }
  }
  // Several writes in one existing top-level directory (a build's `dist/`, rewritten): that
  // directory is the build's output.
  std::map<std::string, std::size_t> per_top;
  for (const auto& f : files)
    if (f.find('/') != std::string::npos) ++per_top[top_level_of(f)];
  for (const auto& [top, count] : per_top)
    if (count >= kWritesForDirectoryGlob) subtrees.insert(top);
  // A created directory inside a subtree already covered adds nothing.
  std::set<std::string> outermost;
  for (const auto& dir : subtrees)
    if (!covered_by(dir, subtrees)) outermost.insert(dir);
  std::vector<std::string> globs;
  for (const auto& dir : outermost) globs.push_back(literal_glob(dir) + "/**");
  for (const auto& f : files)
    if (!covered_by(f, outermost) && !outermost.contains(f)) globs.push_back(literal_glob(f));
  std::ranges::sort(globs);
  return globs;
}

}  // namespace safeinstall::runner
