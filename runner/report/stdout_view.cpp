#include "runner/report/stdout_view.h"

#include <fcntl.h>
#include <unistd.h>

#include "runner/report/report.h"
#include "runner/report/sarif.h"
#include "runner/report/summary.h"

namespace safeinstall::runner {
namespace {

Result<> write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return sys_error("write the run's view to stdout");
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

}  // namespace

Result<StdoutView> StdoutView::take(const std::string& format) {
  StdoutView view;
  if (format.empty()) return view;
  view.format_ = format;
  view.out_.reset(::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3));
  if (!view.out_) return sys_error("keep stdout aside for --format " + format);
  if (::dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
    return sys_error("point stdout at stderr for --format " + format);
  return view;
}

Result<> StdoutView::write(const RunRecord& record, const nlohmann::json& report,
                           const ChangeList* project_changes, const std::string& report_path,
                           const std::string& version) const {
  if (!active()) return {};
  if (format_ == "json") return write_report_to(out_.get(), report, project_changes);
  if (format_ == "sarif") return write_all(out_.get(), build_sarif(record, version).dump(2) + "\n");
  return write_all(out_.get(), render_markdown_summary(record, report_path));
}

}  // namespace safeinstall::runner
