#pragma once
// The popular package names per ecosystem (data/popular/<ecosystem>.txt, compiled in by
// CMakeLists.txt): one name a line, most popular first, '#' comment lines.

#include <string_view>

namespace safeinstall::runner {

// The list's text for "npm", "pypi", "crates" or "rubygems"; empty for any other.
std::string_view popular_list_text(std::string_view ecosystem);

}  // namespace safeinstall::runner
