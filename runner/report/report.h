#pragma once
// The run report (schema safeinstall.report/1, see docs/report.md): one JSON object per run.

#include <nlohmann/json.hpp>
#include <string>

#include "runner/record/run_record.h"
#include "sandbox/base/error.h"

namespace safeinstall::runner {

inline constexpr const char* kReportSchema = "safeinstall.report/1";

// Everything but the entries of files.project, which can number hundreds of thousands (a
// node_modules): build_report leaves a placeholder there and write_report streams the entries
// from the change list, so the report never has to be held in memory whole.
nlohmann::json build_report(const RunRecord& record);

// Written to a temporary file and renamed, so a reader never sees half a report.
// `project_changes` fills files.project (nullptr: it stays empty).
Result<> write_report(const std::string& path, const nlohmann::json& report,
                      const ChangeList* project_changes);

// The same report written to an open descriptor (stdout for --format json), left open.
Result<> write_report_to(int fd, const nlohmann::json& report, const ChangeList* project_changes);

// Whether a report can be written at `path`, tried before the command runs so that a run
// whose report would be lost fails before anything runs: its directory must take a new file
// (write_report writes a temporary sibling and renames it) and `path` must not be a directory.
// `option` names the flag in the error (--report, --sarif, --summary).
Result<> check_report_path(const std::string& path, const std::string& option = "--report");

// Whether a file the run appends to (the job summary) exists and takes writes, or can be
// created. `what` names it in the error.
Result<> check_appendable(const std::string& path, const std::string& what);

// The report already written at `written` (by write_report), copied to `path` the same way:
// serializing a node_modules' entries twice would cost more than the copy.
Result<> copy_report(const std::string& written, const std::string& path);

}  // namespace safeinstall::runner
