#include "runner/packages/versions.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>

namespace safeinstall::runner {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

int sign(int v) {
  return v < 0 ? -1 : (v > 0 ? 1 : 0);
}

// Two digit runs as numbers of any length: leading zeros dropped, then length, then text.
int compare_digits(std::string_view a, std::string_view b) {
  while (a.size() > 1 && a.front() == '0') a.remove_prefix(1);
  while (b.size() > 1 && b.front() == '0') b.remove_prefix(1);
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  return sign(a.compare(b));
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::ranges::all_of(s, is_digit);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    auto at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) break;
    s.remove_prefix(at + 1);
  }
  return out;
}

struct SemVer {
  std::vector<std::string_view> core;  // major, minor, patch
  std::vector<std::string_view> pre;
};

std::optional<SemVer> parse_semver(std::string_view v) {
  if (!v.empty() && (v.front() == 'v' || v.front() == 'V')) v.remove_prefix(1);
  if (auto plus = v.find('+'); plus != std::string_view::npos) v = v.substr(0, plus);
  SemVer out;
  auto dash = v.find('-');
  out.core = split(v.substr(0, dash), '.');
  if (out.core.empty() || out.core.size() > 3) return std::nullopt;
  for (auto part : out.core) {
    if (!all_digits(part)) return std::nullopt;
  }
  while (out.core.size() < 3) out.core.push_back("0");
  if (dash != std::string_view::npos) {
    out.pre = split(v.substr(dash + 1), '.');
    for (auto id : out.pre) {
      if (id.empty()) return std::nullopt;
    }
  }
  return out;
}

int compare_identifiers(std::string_view a, std::string_view b) {
  bool na = all_digits(a), nb = all_digits(b);
  if (na && nb) return compare_digits(a, b);
  if (na != nb) return na ? -1 : 1;  // numeric identifiers sort first
  return sign(a.compare(b));
}

// PEP 440, to the degree OSV ranges need: N!R1.R2…[{a,b,rc}N][.postN][.devN][+local].
struct Pep440 {
  std::string epoch = "0";
  std::vector<std::string> release;
  int pre_kind = 3;  // 0 a, 1 b, 2 rc, 3 none
  std::string pre_num = "0";
  bool post = false;
  std::string post_num = "0";
  bool dev = false;
  std::string dev_num = "0";
};

// Reads letters and the number after them ("rc1", ".post2", "-dev") from `s` at `i`.
std::string read_number(const std::string& s, std::size_t& i) {
  while (i < s.size() && (s[i] == '.' || s[i] == '-' || s[i] == '_')) ++i;
  std::size_t start = i;
  while (i < s.size() && is_digit(s[i])) ++i;
  return start == i ? std::string("0") : s.substr(start, i - start);
}

std::optional<Pep440> parse_pep440(std::string_view text) {
  std::string s = lower(text);
  if (auto plus = s.find('+'); plus != std::string::npos) s.resize(plus);
  if (!s.empty() && s.front() == 'v') s.erase(0, 1);
  Pep440 out;
  std::size_t i = 0;
  if (auto bang = s.find('!'); bang != std::string::npos) {
    out.epoch = s.substr(0, bang);
    if (!all_digits(out.epoch)) return std::nullopt;
    i = bang + 1;
  }
  while (i < s.size()) {
    std::size_t start = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (start == i) return std::nullopt;
    out.release.push_back(s.substr(start, i - start));
    if (i + 1 < s.size() && s[i] == '.' && is_digit(s[i + 1])) {
      ++i;
      continue;
    }
    break;
  }
  if (out.release.empty()) return std::nullopt;
  while (out.release.size() > 1 && out.release.back().find_first_not_of('0') == std::string::npos)
    out.release.pop_back();
  while (i < s.size()) {
    std::size_t j = i;
    while (j < s.size() && (s[j] == '.' || s[j] == '-' || s[j] == '_')) ++j;
    std::size_t word_start = j;
    while (j < s.size() && std::isalpha(static_cast<unsigned char>(s[j]))) ++j;
    std::string word = s.substr(word_start, j - word_start);
    i = j;
    if (word == "a" || word == "alpha") {
      out.pre_kind = 0, out.pre_num = read_number(s, i);
    } else if (word == "b" || word == "beta") {
      out.pre_kind = 1, out.pre_num = read_number(s, i);
    } else if (word == "rc" || word == "c" || word == "pre" || word == "preview") {
      out.pre_kind = 2, out.pre_num = read_number(s, i);
    } else if (word == "post" || word == "r" || word == "rev") {
      out.post = true, out.post_num = read_number(s, i);
    } else if (word == "dev") {
      out.dev = true, out.dev_num = read_number(s, i);
    } else if (word.empty() && i < s.size() && s[i - 1] == '-' && is_digit(s[i])) {
      out.post = true, out.post_num = read_number(s, i);  // "1.0-1": an implicit post release
    } else {
      return std::nullopt;
    }
  }
  return out;
}

int compare_release(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (std::size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    std::string_view x = i < a.size() ? std::string_view(a[i]) : "0";
    std::string_view y = i < b.size() ? std::string_view(b[i]) : "0";
    if (int c = compare_digits(x, y); c != 0) return c;
  }
  return 0;
}

// Where a version sits among those sharing its release: a dev release of the final version
// comes before its pre-releases.
int pep440_phase(const Pep440& v) {
  if (v.pre_kind == 3 && !v.post && v.dev) return -1;
  return 0;
}

// Splits at '.', '-', '_', '+' and at letter/digit boundaries.
std::vector<std::string> segments(std::string_view v) {
  std::vector<std::string> out;
  std::string current;
  auto flush = [&] {
    if (!current.empty()) out.push_back(std::exchange(current, {}));
  };
  for (char c : v) {
    if (c == '.' || c == '-' || c == '_' || c == '+') {
      flush();
      continue;
    }
    if (!current.empty() && is_digit(current.back()) != is_digit(c)) flush();
    current += c;
  }
  flush();
  return out;
}

int composer_rank(const std::string& s) {
  std::string w = lower(s);
  if (w == "dev") return 0;
  if (w == "alpha" || w == "a") return 1;
  if (w == "beta" || w == "b") return 2;
  if (w == "rc" || w == "c") return 3;
  if (w == "pl" || w == "p" || w == "patch") return 5;
  return -1;  // any other text sorts first, as PHP's version_compare does
}

}  // namespace

int compare_loose(std::string_view a, std::string_view b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (is_digit(a[i]) && is_digit(b[j])) {
      std::size_t si = i, sj = j;
      while (i < a.size() && is_digit(a[i])) ++i;
      while (j < b.size() && is_digit(b[j])) ++j;
      if (int c = compare_digits(a.substr(si, i - si), b.substr(sj, j - sj)); c != 0) return c;
      continue;
    }
    if (a[i] != b[j]) return a[i] < b[j] ? -1 : 1;
    ++i, ++j;
  }
  if (i < a.size()) return 1;
  if (j < b.size()) return -1;
  return 0;
}

int compare_semver(std::string_view a, std::string_view b) {
  auto x = parse_semver(a), y = parse_semver(b);
  if (!x || !y) return compare_loose(a, b);
  for (std::size_t i = 0; i < 3; ++i) {
    if (int c = compare_digits(x->core[i], y->core[i]); c != 0) return c;
  }
  if (x->pre.empty() != y->pre.empty()) return x->pre.empty() ? 1 : -1;
  for (std::size_t i = 0; i < std::min(x->pre.size(), y->pre.size()); ++i) {
    if (int c = compare_identifiers(x->pre[i], y->pre[i]); c != 0) return c;
  }
  return x->pre.size() == y->pre.size() ? 0 : (x->pre.size() < y->pre.size() ? -1 : 1);
}

int compare_pep440(std::string_view a, std::string_view b) {
  auto x = parse_pep440(a), y = parse_pep440(b);
  if (!x || !y) return compare_loose(a, b);
  if (int c = compare_digits(x->epoch, y->epoch); c != 0) return c;
  if (int c = compare_release(x->release, y->release); c != 0) return c;
  if (int c = pep440_phase(*x) - pep440_phase(*y); c != 0) return sign(c);
  if (x->pre_kind != y->pre_kind) return x->pre_kind < y->pre_kind ? -1 : 1;
  if (int c = compare_digits(x->pre_num, y->pre_num); c != 0) return c;
  if (x->post != y->post) return x->post ? 1 : -1;
  if (int c = compare_digits(x->post_num, y->post_num); c != 0) return c;
  if (x->dev != y->dev) return x->dev ? -1 : 1;
  return compare_digits(x->dev_num, y->dev_num);
}

int compare_rubygems(std::string_view a, std::string_view b) {
  // Gem::Version's canonical segments: trailing zeros dropped from the release part and
  // from the prerelease part, so "1.0.0.pre" is "1.pre".
  auto canonical = [](std::vector<std::string> s) {
    auto is_zero = [](const std::string& seg) {
      return all_digits(seg) && seg.find_first_not_of('0') == std::string::npos;
    };
    auto letter = std::ranges::find_if(s, [](const std::string& seg) { return !all_digits(seg); });
    std::vector<std::string> release(s.begin(), letter), pre(letter, s.end());
    while (!release.empty() && is_zero(release.back())) release.pop_back();
    while (!pre.empty() && is_zero(pre.back())) pre.pop_back();
    release.insert(release.end(), pre.begin(), pre.end());
    return release;
  };
  auto x = canonical(segments(a)), y = canonical(segments(b));
  for (std::size_t i = 0; i < std::max(x.size(), y.size()); ++i) {
    // A missing segment counts as 0: "1" > "1.pre", "1" < "1.1".
    std::string xi = i < x.size() ? x[i] : "0", yi = i < y.size() ? y[i] : "0";
    bool nx = all_digits(xi), ny = all_digits(yi);
    if (nx && ny) {
      if (int c = compare_digits(xi, yi); c != 0) return c;
    } else if (nx != ny) {
      return nx ? 1 : -1;
    } else if (int c = sign(xi.compare(yi)); c != 0) {
      return c;
    }
  }
  return 0;
}

int compare_composer(std::string_view a, std::string_view b) {
  if (!a.empty() && (a.front() == 'v' || a.front() == 'V')) a.remove_prefix(1);
  if (!b.empty() && (b.front() == 'v' || b.front() == 'V')) b.remove_prefix(1);
  auto x = segments(a), y = segments(b);
  // A number ranks between RC (3) and patch (5); a missing segment counts as "#" too when
  // the other side is text, so 1.0 > 1.0-beta and 1.0 < 1.0-patch1.
  auto rank = [](const std::vector<std::string>& s, std::size_t i) {
    if (i >= s.size()) return 4;
    return all_digits(s[i]) ? 4 : composer_rank(s[i]);
  };
  for (std::size_t i = 0; i < std::max(x.size(), y.size()); ++i) {
    int rx = rank(x, i), ry = rank(y, i);
    if (rx == 4 && ry == 4) {
      std::string_view sx = i < x.size() ? std::string_view(x[i]) : "0";
      std::string_view sy = i < y.size() ? std::string_view(y[i]) : "0";
      if (int c = compare_digits(sx, sy); c != 0) return c;
      continue;
    }
    if (rx != ry) return rx < ry ? -1 : 1;
  }
  return 0;
}

int compare_versions(Ecosystem ecosystem, std::string_view a, std::string_view b) {
  switch (ecosystem) {
    case Ecosystem::npm:
    case Ecosystem::crates_io:
    case Ecosystem::go:
      return compare_semver(a, b);
    case Ecosystem::pypi:
      return compare_pep440(a, b);
    case Ecosystem::rubygems:
      return compare_rubygems(a, b);
    case Ecosystem::packagist:
      return compare_composer(a, b);
  }
  return compare_loose(a, b);
}

bool same_version(Ecosystem ecosystem, std::string_view a, std::string_view b) {
  if (a == b) return true;
  if (ecosystem == Ecosystem::go || ecosystem == Ecosystem::packagist) {
    auto strip = [](std::string_view v) {
      return !v.empty() && v.front() == 'v' ? v.substr(1) : v;
    };
    return strip(a) == strip(b);
  }
  if (ecosystem == Ecosystem::pypi) return compare_pep440(a, b) == 0;
  return false;
}

bool in_range(Ecosystem ecosystem, std::string_view version, const AffectedRange& range) {
  auto compare = [&](std::string_view a, std::string_view b) {
    return range.semver ? compare_semver(a, b) : compare_versions(ecosystem, a, b);
  };
  // "introduced: 0" opens below every version.
  auto at_or_below = [&](const RangeEvent& e) {
    if (e.kind == RangeEvent::Kind::introduced && e.version == "0") return true;
    return compare(e.version, version) <= 0;
  };
  std::vector<const RangeEvent*> events;
  for (const auto& e : range.events) events.push_back(&e);
  std::ranges::stable_sort(events, [&](const RangeEvent* x, const RangeEvent* y) {
    bool x0 = x->kind == RangeEvent::Kind::introduced && x->version == "0";
    bool y0 = y->kind == RangeEvent::Kind::introduced && y->version == "0";
    if (x0 || y0) return x0 && !y0;
    return compare(x->version, y->version) < 0;
  });
  bool affected = false;
  for (const auto* e : events) {
    switch (e->kind) {
      case RangeEvent::Kind::introduced:
        if (at_or_below(*e)) affected = true;
        break;
      case RangeEvent::Kind::fixed:
      case RangeEvent::Kind::limit:
        if (at_or_below(*e)) affected = false;
        break;
      case RangeEvent::Kind::last_affected:
        if (compare(e->version, version) < 0) affected = false;
        break;
    }
  }
  return affected;
}

}  // namespace safeinstall::runner
