#pragma once
// Whether a call through an alias or a PATH shim runs in the sandbox or as the tool itself.
// Only installs are sandboxed (the profile's [match] install forms: `npm ci`, `pip install`,
// `go mod download`); `npm --version`, `npm run dev`, `npm publish` or `npm i -g` run the real
// tool untouched. Decided on every call before anything else happens, so it allocates
// nothing.

#include <span>

#include "runner/shim/shim_table.h"

namespace safeinstall::runner {

enum class Route { tool, sandbox };

// `args`: the call's arguments after the tool's name.
Route route_of(const ShimTable& table, std::span<const char* const> args);

}  // namespace safeinstall::runner
