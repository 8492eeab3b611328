#include "runner/plan/broad_hosts.h"

#include <algorithm>
#include <fstream>
#include <set>

namespace safeinstall::runner {
namespace {

std::string parent_of(const std::string& host) {
  auto dot = host.find('.');
  return dot == std::string::npos ? std::string() : host.substr(dot + 1);
}

}  // namespace

std::vector<std::string> public_suffixes_among(const std::vector<std::string>& hosts,
                                               const std::string& list_file) {
  std::set<std::string> exact, wildcard_parents, exceptions;
  std::vector<std::string> multi_label;
  for (const auto& h : hosts)
    if (h.find('.') != std::string::npos) multi_label.push_back(h);
  if (!multi_label.empty()) {
    // One pass over the list, keeping only the rules that concern these hosts.
    std::set<std::string> wanted(multi_label.begin(), multi_label.end());
    std::set<std::string> parents;
    for (const auto& h : multi_label) parents.insert(parent_of(h));
    std::ifstream list(list_file);
    std::string line;
    while (std::getline(list, line)) {
      if (line.empty() || line.starts_with("//")) continue;
      if (auto space = line.find_first_of(" \t\r"); space != std::string::npos) line.resize(space);
      if (line.starts_with("!")) {
        if (wanted.count(line.substr(1)) > 0) exceptions.insert(line.substr(1));
      } else if (line.starts_with("*.")) {
        if (parents.count(line.substr(2)) > 0) wildcard_parents.insert(line.substr(2));
      } else if (wanted.count(line) > 0) {
        exact.insert(line);
      }
    }
  }
  std::vector<std::string> suffixes;
  for (const auto& h : hosts) {
    bool single = h.find('.') == std::string::npos;
    bool listed = exact.count(h) > 0 ||
                  (wildcard_parents.count(parent_of(h)) > 0 && exceptions.count(h) == 0);
    if (single || listed) suffixes.push_back(h);
  }
  return suffixes;
}

std::optional<std::string> too_broad(const sandbox::HostPattern& pattern, bool is_suffix) {
  if (pattern.kind != sandbox::HostPattern::Kind::Subdomains || !is_suffix) return std::nullopt;
  return pattern.text() + " allows every host under the public suffix " + pattern.host +
         ": name the registry's hosts instead (or add --allow-broad if that is really meant)";
}

}  // namespace safeinstall::runner
