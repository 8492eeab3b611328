#pragma once
// Paths as text: containment and lexical normalisation, without touching the filesystem
// (the paths may be the sandbox's, not the host's).

#include <string>
#include <string_view>

namespace safeinstall {

// `path` is `dir` or lies below it, compared component by component after lexical
// normalisation: "/a/b/" is within "/a", "/a/bc" is not within "/a/b", "/a/../b" is not
// within "/a", and "/" contains every absolute path. An absolute path is never within a
// relative dir, nor the other way round; a relative path that climbs out ("../x") is not
// within "."; an empty path or dir is within nothing.
bool is_within(std::string_view path, std::string_view dir);

// "/a/./b/../c" -> "/a/c"; a relative path is first joined to `cwd`. ".." above the root
// stays at the root, as the kernel resolves it.
std::string lexically_normal(const std::string& path, const std::string& cwd = "/");

}  // namespace safeinstall
