#pragma once
// The block `safeinstall setup` keeps in a shell rc file: everything from the begin marker
// line to the end marker line is safeinstall's, every other byte is the user's. Writing it
// again replaces the block where it stands (running setup twice changes nothing); removing it
// takes out exactly those lines.

#include <string>
#include <string_view>

#include "sandbox/base/error.h"

namespace safeinstall::runner {

inline constexpr std::string_view kBlockBegin = "# >>> safeinstall setup >>>";
inline constexpr std::string_view kBlockEnd = "# <<< safeinstall setup <<<";

// `text` with `block` (its lines without the markers, each ending in '\n') between the
// markers: in place of the existing block, else appended. An error when a begin marker has no
// end marker (or the other way round): the file was edited by hand and is left alone.
Result<std::string> with_block(std::string_view text, std::string_view block);

// `text` without the block (and its markers); unchanged when it holds none.
Result<std::string> without_block(std::string_view text);

bool has_block(std::string_view text);

// Whether the file at `path` holds the block; false when it is missing.
Result<bool> file_has_block(const std::string& path);

enum class RcChange { written, unchanged, removed, absent };

// with_block on the file at `path`, created with its parent directories when missing. A
// symlink (a dotfile manager's) is followed, so the file it points to is edited; the file's
// mode is kept.
Result<RcChange> write_block(const std::string& path, std::string_view block);

// without_block on the file at `path`; `absent` when there is no file or no block. With
// `remove_if_empty` (a file of safeinstall's own, such as fish's conf.d/safeinstall.fish), a
// file left empty is removed.
Result<RcChange> remove_block(const std::string& path, bool remove_if_empty);

}  // namespace safeinstall::runner
