#pragma once
// The run as a Markdown summary, for a CI job's summary page ($GITHUB_STEP_SUMMARY) or a
// merge-request comment: the verdict, the risk and each finding, what changed, what the
// network saw, and what to run next.

#include <string>

#include "runner/record/run_record.h"

namespace safeinstall::runner {

std::string render_markdown_summary(const RunRecord& record, const std::string& report_path);

// Text put in a Markdown table cell: pipes, backticks, angle brackets and newlines are
// escaped, control characters shown as \DDD, so a hostile path cannot break the table or
// inject markup.
std::string markdown_cell(const std::string& text);

}  // namespace safeinstall::runner
