#pragma once
// The run as SARIF 2.1.0 (https://docs.oasis-open.org/sarif/sarif/v2.1.0/), for code-scanning
// services such as GitHub's: one result per finding, and per unexpected project change, each
// located at the file it concerns or, when it concerns none (a connect, a survivor), at the
// project's manifest.

#include <nlohmann/json.hpp>
#include <string>

#include "runner/record/run_record.h"

namespace safeinstall::runner {

// `version` is safeinstall's own, for tool.driver.version.
nlohmann::json build_sarif(const RunRecord& record, const std::string& version);

// "error" for high and critical, "warning" for medium, "note" below.
std::string_view sarif_level(Severity severity);

}  // namespace safeinstall::runner
