#include "runner/redact.h"

#include <regex>

namespace safeinstall::runner {
namespace {

constexpr const char* kMask = "***";

const std::regex& url_credentials() {
  static const std::regex re(R"(([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+@)");
  return re;
}

// Tokens whose shape gives them away wherever they appear.
const std::regex& known_tokens() {
  static const std::regex re(
      R"((gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|npm_[A-Za-z0-9]{20,}|glpat-[A-Za-z0-9_-]{16,}|xox[abposr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|ASIA[0-9A-Z]{16}|sk-[A-Za-z0-9_-]{20,}|pypi-[A-Za-z0-9_-]{20,}|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}))");
  return re;
}

// --token=x, --password=x, NPM_TOKEN=x, _authToken=x, api-key: x
const std::regex& secret_assignment() {
  static const std::regex re(
      R"(((?:^|[\s;,&?])-{0,2}[A-Za-z0-9_.:/-]*(?:token|password|passwd|secret|apikey|api[_-]key|auth|credential|private[_-]key)[A-Za-z0-9_-]*\s*[=:]\s*)[^\s;,&]+)",
      std::regex::icase);
  return re;
}

// A flag that takes its secret in the next argument: --token abc, -p abc stays as is.
bool is_secret_flag(const std::string& arg) {
  static const std::regex re(
      R"(--?[A-Za-z0-9_-]*(token|password|passwd|secret|api-?key|auth|credential)[A-Za-z0-9_-]*)",
      std::regex::icase);
  return std::regex_match(arg, re);
}

}  // namespace

std::string redact(const std::string& text) {
  std::string out = std::regex_replace(text, url_credentials(), std::string("$1") + kMask + "@");
  out = std::regex_replace(out, known_tokens(), kMask);
  return std::regex_replace(out, secret_assignment(), std::string("$1") + kMask);
}

std::vector<std::string> redact_argv(const std::vector<std::string>& argv) {
  std::vector<std::string> out;
  bool next_is_secret = false;
  for (const auto& arg : argv) {
    if (next_is_secret) {
      out.emplace_back(kMask);
      next_is_secret = false;
      continue;
    }
    next_is_secret = is_secret_flag(arg);
    out.push_back(redact(arg));
  }
  return out;
}

}  // namespace safeinstall::runner
