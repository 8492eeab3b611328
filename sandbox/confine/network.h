#pragma once
// The sandbox's network namespace: loopback only.

#include "sandbox/base/error.h"

namespace safeinstall::sandbox {

// A fresh network namespace has `lo` down; tools that talk to themselves over 127.0.0.1
// (test servers, language servers, the egress gateway's listeners) need it up.
Result<> bring_loopback_up();

}  // namespace safeinstall::sandbox
