#pragma once
// The short human-readable summary printed after every run.

#include <string>

#include "runner/record/run_record.h"

namespace safeinstall::runner {

std::string render_receipt(const RunRecord& record, const std::string& report_path,
                           const std::vector<std::string>& secret_patterns, bool verbose);

}  // namespace safeinstall::runner
