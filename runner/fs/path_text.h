#pragma once
// The path helpers live in sandbox/base/path_text.h, shared with the sandbox; this name is
// kept for the runner files that include it.

#include "sandbox/base/path_text.h"
