#pragma once
// Finding the real tool behind a shim on PATH: never the shim itself (however its directory is
// spelled on PATH: twice, through a symlink, relative) and never another safeinstall shim, so a
// shim can never call itself. The lookup allocates nothing; only the sandbox route, which
// starts safeinstall anyway, builds a new PATH.

#include <sys/stat.h>

#include <climits>
#include <string>
#include <string_view>

namespace safeinstall::runner {

// Whether the file at `path` starts as a shim file does.
bool is_shim_file(const char* path);

// The first `tool` on `path_list` (PATH's value) that is an executable regular file, is not
// the file `self` names (the shim being run) and is not a shim file; its path is written to
// `found`. False when there is none.
bool find_real_tool(std::string_view path_list, std::string_view tool, const struct stat& self,
                    char (&found)[PATH_MAX]);

// `path_list` without the entries where `tool` is a shim file or `self`: the PATH the sandbox
// gets, so that nothing inside reaches a shim again.
std::string path_without_shims(std::string_view path_list, std::string_view tool,
                               const struct stat& self);

}  // namespace safeinstall::runner
