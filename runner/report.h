#pragma once
// The run report (schema safeinstall.report/1, see docs/report.md): one JSON object per run.

#include <nlohmann/json.hpp>
#include <string>

#include "runner/run_record.h"
#include "sandbox/error.h"

namespace safeinstall::runner {

inline constexpr const char* kReportSchema = "safeinstall.report/1";

nlohmann::json build_report(const RunRecord& record);

// Written to a temporary file and renamed, so a reader never sees half a report.
sandbox::Result<> write_report(const std::string& path, const nlohmann::json& report);

}  // namespace safeinstall::runner
