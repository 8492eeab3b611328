#pragma once
// What the lockfile readers share: errors that name file and place, and the library
// exceptions turned into them.

#include <cstddef>
#include <set>
#include <string>
#include <string_view>

#include "sandbox/base/error.h"

namespace safeinstall::runner {

// "file:line:col: what" (line and column 1-based; 0 leaves the place out).
std::unexpected<Error> lockfile_error(const std::string& source, std::size_t line,
                                      std::size_t column, const std::string& what);

// line:col of a byte offset into `text`.
std::pair<std::size_t, std::size_t> line_column_at(std::string_view text, std::size_t offset);

// The dependency names package.json (or composer.json: "require", "require-dev") lists under
// these keys; an unreadable manifest lists none.
std::set<std::string> json_manifest_names(std::string_view manifest,
                                          std::initializer_list<const char*> sections);

}  // namespace safeinstall::runner
