#include "runner/profile/carryover/toml_config.h"

#include <toml++/toml.h>

#include <sstream>
#include <vector>

#include "runner/fs/toml_input.h"
#include "runner/profile/carryover/setting_walk.h"
#include "runner/profile/carryover/url_userinfo.h"
#include "runner/profile/carryover/value_check.h"

namespace safeinstall::runner {
namespace {

class TomlSanitizer : SettingWalk {
 public:
  explicit TomlSanitizer(ConfigDialect dialect) : SettingWalk(dialect) {}

  SanitizedConfig run(std::string_view text) {
    toml::table root;
    try {
      root = toml::parse(toml_input(text));
    } catch (const toml::parse_error&) {
      note_dropped(out_, "");  // a file the tool cannot read either
      return std::move(out_);
    }
    auto kept = table(root);
    if (!kept.empty()) {
      std::ostringstream rendered;
      rendered << kept << "\n";
      out_.text = rendered.str();
    }
    return std::move(out_);
  }

 private:
  toml::table table(const toml::table& in) {
    toml::table kept;
    for (const auto& [key, node] : in) {
      path_.emplace_back(key.str());
      if (!keep(kept, key, node)) drop_here();
      path_.pop_back();
    }
    return kept;
  }

  bool keep(toml::table& kept, const toml::key& key, const toml::node& node) {
    auto kind = allowed_here();
    if (kind == ValueKind::Block) {
      node.visit([&](const auto& v) { kept.insert(key, v); });
      scrub(*kept.get(key));
      return true;
    }
    if (kind) return keep_scalar(kept, key, *kind, node);
    if (!node.is_table() || !leads_to_allowed_here()) return false;
    auto inner = table(*node.as_table());
    if (!inner.empty()) kept.insert(key, std::move(inner));
    return true;  // what inside was dropped is reported by name already
  }

  bool keep_scalar(toml::table& kept, const toml::key& key, ValueKind kind,
                   const toml::node& node) {
    if (node.is_table() || node.is_array()) return false;
    if (!node.is_string()) {
      if (kind != ValueKind::Plain) return false;
      node.visit([&](const auto& v) { kept.insert(key, v); });
      return true;
    }
    auto checked = checked_value(kind, node.as_string()->get(), out_);
    if (checked) kept.insert(key, *checked);
    return checked.has_value();
  }

  // A structure kept whole, except that a URL in any string loses its userinfo.
  static void scrub(toml::node& node) {
    if (auto* s = node.as_string()) {
      s->get() = text_without_url_userinfo(s->get());
    } else if (auto* t = node.as_table()) {
      for (auto&& [k, v] : *t) scrub(v);
    } else if (auto* a = node.as_array()) {
      for (auto& v : *a) scrub(v);
    }
  }
};

}  // namespace

SanitizedConfig sanitize_toml_config(std::string_view text, ConfigDialect dialect) {
  return TomlSanitizer(dialect).run(text);
}

}  // namespace safeinstall::runner
