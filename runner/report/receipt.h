#pragma once
// The short human-readable summary printed after every run.

#include <string>

#include "runner/record/run_record.h"

namespace safeinstall::runner {

std::string render_receipt(const RunRecord& record, const std::string& report_path,
                           const std::vector<std::string>& secret_patterns, bool verbose);

// A clean run in one line, for -q (the default of aliases and shims): what was promoted, the
// manifest's dependency edits and the hosts reached, each list cut short.
std::string render_receipt_line(const RunRecord& record);

}  // namespace safeinstall::runner
