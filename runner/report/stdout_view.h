#pragma once
// --format sarif|markdown|json: stdout carries one view of the run and nothing else, so a CI
// step can redirect it into a file. While the run lasts, the invoker's stdout is kept aside
// and descriptor 1 becomes a copy of stderr: the command's own output (npm's progress, a
// script's echo) and safeinstall's messages cannot mix into the SARIF or JSON.

#include <nlohmann/json.hpp>
#include <string>

#include "runner/record/run_record.h"
#include "sandbox/base/error.h"
#include "sandbox/base/fd.h"

namespace safeinstall::runner {

class StdoutView {
 public:
  // No view: stdout stays the command's.
  StdoutView() = default;
  // Takes stdout for `format` ("sarif", "markdown" or "json"); empty `format`: no view.
  static Result<StdoutView> take(const std::string& format);

  bool active() const { return out_.valid(); }
  // Writes the view to the kept stdout. `report` and `project_changes` as write_report takes
  // them; `version` is safeinstall's, for SARIF's tool.driver.version.
  Result<> write(const RunRecord& record, const nlohmann::json& report,
                 const ChangeList* project_changes, const std::string& report_path,
                 const std::string& version) const;

 private:
  std::string format_;
  sandbox::UniqueFd out_;
};

}  // namespace safeinstall::runner
