#pragma once
// Bin entries that are scripts rather than links: pnpm's node_modules/.bin shims (a shell
// script, written by @zkochan/cmd-shim, that execs node on the package's bin) and Composer's
// vendor/bin proxies (a PHP file that includes the package's bin, or a shell script that
// runs it). Their text is the package manager's template with the target's path filled in;
// it is read here as hostile data: every line must be a line of one of the templates or a
// line naming the target in the template's own quoting, and all of them the same target.
// Anything else in the file — one more command, a variable in a path, another interpreter —
// makes it no shim, so that the auto-run check reports it as it is.

#include <optional>
#include <string>
#include <string_view>

namespace safeinstall::runner {

// Files larger than this are no shim (cmd-shim's are about 1 KiB, Composer's PHP proxy 4).
inline constexpr std::size_t kMaxBinShimBytes = 64 * 1024;

// The path a pnpm (cmd-shim) shell shim runs: relative to the shim's directory
// ("../typescript/bin/tsc") or absolute; nullopt when `text` is not such a shim.
std::optional<std::string> pnpm_shim_target(std::string_view text);

// The path a Composer bin proxy (PHP or shell) runs, likewise.
std::optional<std::string> composer_proxy_target(std::string_view text);

}  // namespace safeinstall::runner
