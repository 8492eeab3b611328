#pragma once
// Typosquats: a new direct dependency named like a popular package of its ecosystem — one or
// two edits away, a separator swapped, added or dropped, a scope moved into the name, or a
// look-alike character — while not being that package, nor any other popular one, nor a name
// in the same npm scope (a scope has one owner).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace safeinstall::runner {

// Edits (insert, delete, substitute, swap two neighbours) from `a` to `b`, in the optimal
// string alignment form; any count above `limit` is returned as limit + 1, early.
std::size_t edit_distance(std::string_view a, std::string_view b, std::size_t limit);

// The name without its separators (- _ . and a scope's @ and /): "lodash.merge" -> "lodashmerge".
std::string without_separators(std::string_view name);

// Look-alike characters folded to one form: 0->o, 1/i->l, rn->m, vv->w; separators dropped.
std::string homoglyph_folded(std::string_view name);

struct Resemblance {
  std::string popular;  // the popular name it resembles
  std::string how;      // "1 edit away", "differs only in separators", "look-alike characters"
};

class PopularNames {
 public:
  // `text`: one name a line, most popular first, '#' comment lines. `pypi` folds names as
  // PyPI compares them (case, and runs of - _ . as one -).
  PopularNames(std::string_view text, bool pypi);

  // The popular list of "npm", "pypi", "crates" or "rubygems", built once.
  static const PopularNames& of(std::string_view ecosystem);

  bool contains(std::string_view name) const;
  std::size_t size() const { return names_.size(); }

  // The most popular name `name` resembles, unless it is popular itself.
  std::optional<Resemblance> resembled_by(std::string_view name) const;

 private:
  std::string canonical(std::string_view name) const;

  bool pypi_ = false;
  std::vector<std::string> names_;  // canonical, most popular first
  std::unordered_set<std::string> exact_;
  std::unordered_map<std::string, std::size_t> by_separators_;  // first (most popular) wins
  std::unordered_map<std::string, std::size_t> by_homoglyphs_;
};

}  // namespace safeinstall::runner
