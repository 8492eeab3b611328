#include "runner/packages/osv_entry.h"

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "runner/packages/lockfile.h"
#include "runner/packages/lockfile_text.h"

namespace safeinstall::runner {
namespace {

using nlohmann::json;

std::string string_at(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Index fields are separated by tabs and spaces: a value holding either (or any control
// character) cannot be stored, and no real package name or version does.
bool storable(std::string_view s) {
  return !s.empty() && std::ranges::none_of(s, [](char c) {
    return static_cast<unsigned char>(c) <= ' ' || c == ',' || c == '=';
  });
}

std::optional<Severity> label_severity(std::string label) {
  for (auto& c : label) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (label == "moderate") return Severity::medium;
  if (label == "critical" || label == "high" || label == "medium" || label == "low")
    return severity_from(label);
  return std::nullopt;
}

std::optional<Severity> entry_severity(const json& entry) {
  if (auto specific = entry.find("database_specific");
      specific != entry.end() && specific->is_object()) {
    if (auto s = label_severity(string_at(*specific, "severity"))) return s;
  }
  if (auto list = entry.find("severity"); list != entry.end() && list->is_array()) {
    for (const auto& s : *list) {
      if (!s.is_object()) continue;
      std::string type = string_at(s, "type");
      if (type == "CVSS_V3")
        if (auto from_vector = cvss3_severity(string_at(s, "score"))) return from_vector;
    }
  }
  return std::nullopt;
}

std::optional<AffectedRange> read_range(const json& range) {
  std::string type = string_at(range, "type");
  if (type != "SEMVER" && type != "ECOSYSTEM") return std::nullopt;
  AffectedRange out;
  out.semver = type == "SEMVER";
  auto events = range.find("events");
  if (events == range.end() || !events->is_array()) return std::nullopt;
  for (const auto& e : *events) {
    if (!e.is_object()) continue;
    for (auto [key, kind] : {std::pair{"introduced", RangeEvent::Kind::introduced},
                             std::pair{"fixed", RangeEvent::Kind::fixed},
                             std::pair{"last_affected", RangeEvent::Kind::last_affected},
                             std::pair{"limit", RangeEvent::Kind::limit}}) {
      std::string v = string_at(e, key);
      if (storable(v)) out.events.push_back({kind, v});
    }
  }
  if (out.events.empty()) return std::nullopt;
  return out;
}

void read_entry(const json& entry, std::vector<OsvRecord>& out) {
  if (!entry.is_object() || entry.contains("withdrawn")) return;
  std::string id = string_at(entry, "id");
  if (!storable(id)) return;
  auto severity = entry_severity(entry);
  auto affected = entry.find("affected");
  if (affected == entry.end() || !affected->is_array()) return;
  for (const auto& a : *affected) {
    if (!a.is_object()) continue;
    auto package = a.find("package");
    if (package == a.end() || !package->is_object()) continue;
    auto ecosystem = ecosystem_from(string_at(*package, "ecosystem"));
    std::string name = string_at(*package, "name");
    if (!ecosystem || !storable(name)) continue;
    OsvRecord record;
    record.ecosystem = *ecosystem;
    record.name = *ecosystem == Ecosystem::pypi ? normalize_pypi_name(name) : name;
    record.id = id;
    record.malicious = id.starts_with("MAL-");
    record.severity = severity;
    if (auto versions = a.find("versions"); versions != a.end() && versions->is_array()) {
      for (const auto& v : *versions) {
        if (v.is_string() && storable(v.get<std::string>()))
          record.versions.push_back(v.get<std::string>());
      }
    }
    if (auto ranges = a.find("ranges"); ranges != a.end() && ranges->is_array()) {
      for (const auto& r : *ranges) {
        if (!r.is_object()) continue;
        if (auto range = read_range(r)) record.ranges.push_back(std::move(*range));
      }
    }
    // An entry that names a package without versions or ranges affects every version.
    if (record.versions.empty() && record.ranges.empty())
      record.ranges.push_back({false, {{RangeEvent::Kind::introduced, "0"}}});
    out.push_back(std::move(record));
  }
}

char event_letter(RangeEvent::Kind kind) {
  switch (kind) {
    case RangeEvent::Kind::introduced:
      return 'i';
    case RangeEvent::Kind::fixed:
      return 'f';
    case RangeEvent::Kind::last_affected:
      return 'l';
    case RangeEvent::Kind::limit:
      return 'm';
  }
  return 'i';
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  if (s.empty()) return out;
  while (true) {
    auto at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) break;
    s.remove_prefix(at + 1);
  }
  return out;
}

}  // namespace

bool OsvRecord::affects(std::string_view version) const {
  for (const auto& v : versions) {
    if (same_version(ecosystem, v, version)) return true;
  }
  for (const auto& r : ranges) {
    if (in_range(ecosystem, version, r)) return true;
  }
  return false;
}

Result<std::vector<OsvRecord>> parse_osv_document(std::string_view text, const std::string& shown) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    auto [line, column] = line_column_at(text, e.byte > 0 ? e.byte - 1 : 0);
    return plain_error(shown + ":" + std::to_string(line) + ":" + std::to_string(column) +
                       ": not valid JSON");
  } catch (const json::exception& e) {
    // A number too large for any type, and the like.
    return plain_error(shown + ": not usable JSON: " + e.what());
  }
  std::vector<OsvRecord> out;
  if (doc.is_array()) {
    for (const auto& entry : doc) read_entry(entry, out);
  } else {
    read_entry(doc, out);
  }
  return out;
}

std::string index_key(Ecosystem ecosystem, std::string_view name) {
  std::string key(to_string(ecosystem));
  key += '\t';
  key += ecosystem == Ecosystem::pypi ? normalize_pypi_name(name) : std::string(name);
  key += '\t';
  return key;
}

std::string index_line(const OsvRecord& r) {
  std::string line = index_key(r.ecosystem, r.name);
  line += r.id;
  line += r.malicious ? "\tmal\t" : "\tvuln\t";
  line += r.severity ? std::string(to_string(*r.severity)) : "unknown";
  line += '\t';
  for (std::size_t i = 0; i < r.versions.size(); ++i) line += (i ? " " : "") + r.versions[i];
  if (r.versions.empty()) line += '-';
  line += '\t';
  for (std::size_t i = 0; i < r.ranges.size(); ++i) {
    if (i) line += ' ';
    line += r.ranges[i].semver ? "S:" : "E:";
    for (std::size_t j = 0; j < r.ranges[i].events.size(); ++j) {
      if (j) line += ',';
      line += event_letter(r.ranges[i].events[j].kind);
      line += '=';
      line += r.ranges[i].events[j].version;
    }
  }
  if (r.ranges.empty()) line += '-';
  return line;
}

std::optional<OsvRecord> record_from_line(std::string_view line) {
  auto fields = split(line, '\t');
  if (fields.size() != 7) return std::nullopt;
  auto ecosystem = ecosystem_from(fields[0]);
  if (!ecosystem) return std::nullopt;
  OsvRecord r;
  r.ecosystem = *ecosystem;
  r.name = std::string(fields[1]);
  r.id = std::string(fields[2]);
  r.malicious = fields[3] == "mal";
  r.severity = severity_from(fields[4]);
  if (fields[5] != "-") {
    for (auto v : split(fields[5], ' ')) r.versions.emplace_back(v);
  }
  if (fields[6] != "-") {
    for (auto range_text : split(fields[6], ' ')) {
      if (range_text.size() < 2 || range_text[1] != ':') return std::nullopt;
      AffectedRange range;
      range.semver = range_text[0] == 'S';
      for (auto event : split(range_text.substr(2), ',')) {
        if (event.size() < 3 || event[1] != '=') return std::nullopt;
        RangeEvent e;
        e.kind = event[0] == 'f'   ? RangeEvent::Kind::fixed
                 : event[0] == 'l' ? RangeEvent::Kind::last_affected
                 : event[0] == 'm' ? RangeEvent::Kind::limit
                                   : RangeEvent::Kind::introduced;
        e.version = std::string(event.substr(2));
        range.events.push_back(std::move(e));
      }
      r.ranges.push_back(std::move(range));
    }
  }
  return r;
}

std::optional<Severity> cvss3_severity(std::string_view vector) {
  if (!vector.starts_with("CVSS:3")) return std::nullopt;
  std::map<std::string, std::string, std::less<>> metric;
  for (auto part : split(vector, '/')) {
    auto colon = part.find(':');
    if (colon != std::string_view::npos)
      metric[std::string(part.substr(0, colon))] = std::string(part.substr(colon + 1));
  }
  auto pick =
      [&](const char* key,
          std::initializer_list<std::pair<const char*, double>> values) -> std::optional<double> {
    auto it = metric.find(key);
    if (it == metric.end()) return std::nullopt;
    for (auto [name, value] : values) {
      if (it->second == name) return value;
    }
    return std::nullopt;
  };
  bool changed = metric["S"] == "C";
  auto av = pick("AV", {{"N", 0.85}, {"A", 0.62}, {"L", 0.55}, {"P", 0.2}});
  auto ac = pick("AC", {{"L", 0.77}, {"H", 0.44}});
  auto pr = pick("PR", {{"N", 0.85}, {"L", changed ? 0.68 : 0.62}, {"H", changed ? 0.5 : 0.27}});
  auto ui = pick("UI", {{"N", 0.85}, {"R", 0.62}});
  auto c = pick("C", {{"H", 0.56}, {"L", 0.22}, {"N", 0.0}});
  auto i = pick("I", {{"H", 0.56}, {"L", 0.22}, {"N", 0.0}});
  auto a = pick("A", {{"H", 0.56}, {"L", 0.22}, {"N", 0.0}});
  if (!av || !ac || !pr || !ui || !c || !i || !a) return std::nullopt;
  double iss = 1 - (1 - *c) * (1 - *i) * (1 - *a);
  double impact = changed ? 7.52 * (iss - 0.029) - 3.25 * std::pow(iss - 0.02, 15) : 6.42 * iss;
  double exploitability = 8.22 * *av * *ac * *pr * *ui;
  if (impact <= 0) return std::nullopt;
  double raw = changed ? std::min(1.08 * (impact + exploitability), 10.0)
                       : std::min(impact + exploitability, 10.0);
  double score = std::ceil(raw * 10 - 1e-9) / 10;
  if (score >= 9.0) return Severity::critical;
  if (score >= 7.0) return Severity::high;
  if (score >= 4.0) return Severity::medium;
  return Severity::low;
}

}  // namespace safeinstall::runner
