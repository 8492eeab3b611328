#pragma once
// Absolute paths as text: containment and lexical normalisation, without touching the
// filesystem (the paths may be the sandbox's, not the host's).

#include <string>

namespace safeinstall::runner {

// `path` is `dir` or lies below it; "/" contains every absolute path.
bool is_within(const std::string& path, const std::string& dir);

// "/a/./b/../c" -> "/a/c"; a relative path is first joined to `cwd`. ".." above the root
// stays at the root, as the kernel resolves it.
std::string lexically_normal(const std::string& path, const std::string& cwd = "/");

}  // namespace safeinstall::runner
