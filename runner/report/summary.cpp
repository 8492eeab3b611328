#include "runner/report/summary.h"

#include "runner/record/redact.h"
#include "sandbox/base/escaped_text.h"

namespace safeinstall::runner {
namespace {

// Findings listed in the summary's table; the report has them all.
constexpr std::size_t kFindingRows = 50;

std::string verdict_heading(const RunRecord& record) {
  std::string verdict(to_string(record.verdict));
  RiskSummary risk = risk_of(record.findings);
  if (record.verdict == VerdictKind::held && risk.suspicious > 0) verdict += " as suspicious";
  return "### safeinstall: " + markdown_cell(shown_command(record.command)) + " — " + verdict +
         "\n\n";
}

void risk_section(std::string& out, const RunRecord& record) {
  if (record.findings.empty()) {
    out += "No findings.\n\n";
    return;
  }
  RiskSummary risk = risk_of(record.findings);
  out += "**Risk** " + std::to_string(risk.score) + "/100, highest severity " +
         std::string(to_string(*risk.highest)) + ": " + std::to_string(record.findings.size()) +
         " finding(s), " + std::to_string(risk.suspicious) + " at medium or above.\n\n";
  out += "| severity | finding | package | detail |\n| --- | --- | --- | --- |\n";
  std::size_t rows = 0;
  for (const auto& f : record.findings) {
    if (rows++ == kFindingRows) {
      out += "| | | | … " + std::to_string(record.findings.size() - kFindingRows) +
             " more in the report |\n";
      break;
    }
    out += "| " + std::string(to_string(f.severity)) + " | " + std::string(to_string(f.kind)) +
           " | " + markdown_cell(f.package) + " | " + markdown_cell(f.detail) + " |\n";
  }
  out += "\n";
}

void changes_section(std::string& out, const RunRecord& record) {
  if (!record.staging) return;
  out += "**Project**: " + std::to_string(record.staging->changes.changes.size()) + " changes " +
         record.staging->changes.category_counts() + ", " +
         (record.staging->promoted ? "promoted" : "not promoted") + ".\n\n";
}

void network_section(std::string& out, const RunRecord& record) {
  if (!record.outcome) return;
  const auto& net = record.outcome->network;
  std::string reached, refused;
  for (const auto& c : net.contacted)
    reached += (reached.empty() ? "" : ", ") + markdown_cell(c.host) + ":" + std::to_string(c.port);
  for (const auto& r : net.refused)
    refused += (refused.empty() ? "" : ", ") + markdown_cell(r.host) + ":" + std::to_string(r.port);
  if (!reached.empty()) out += "**Reached**: " + reached + "\n\n";
  if (!refused.empty()) out += "**Refused**: " + refused + "\n\n";
}

void reasons_section(std::string& out, const RunRecord& record) {
  for (const auto& reason : record.verdict_reasons) out += "- " + markdown_cell(reason) + "\n";
  if (record.staging) {
    for (const auto& step : record.staging->next_steps)
      out += "- next: " + markdown_cell(step) + "\n";
  }
  out += "\n";
}

}  // namespace

std::string markdown_cell(const std::string& text) {
  std::string shown = sandbox::printable(text);
  std::string out;
  for (char c : shown) {
    switch (c) {
      case '|':
      case '`':
      case '*':
      case '_':
      case '[':
      case ']':
      case '<':
      case '>':
      case '\\':
        out += '\\';
        out += c;
        break;
      case '\n':
      case '\r':
        out += ' ';
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string render_markdown_summary(const RunRecord& record, const std::string& report_path) {
  std::string out = verdict_heading(record);
  risk_section(out, record);
  changes_section(out, record);
  network_section(out, record);
  reasons_section(out, record);
  if (!report_path.empty()) out += "Report: " + markdown_cell(report_path) + "\n";
  return out;
}

}  // namespace safeinstall::runner
