// Lockfiles and OSV entries as a project or a database may hold them: hostile JSON, YAML,
// TOML and line formats. The first byte picks the reader; the rest is the file. Every
// reader returns packages or an error, never crashes; an OSV entry's index line reads back
// as the same record.
#include <cstddef>
#include <cstdint>
#include <string>

#include "runner/packages/lockfile.h"
#include "runner/packages/osv_entry.h"

using namespace safeinstall::runner;

namespace {

constexpr LockfileFormat kFormats[] = {LockfileFormat::npm,     LockfileFormat::yarn,
                                       LockfileFormat::pnpm,    LockfileFormat::requirements,
                                       LockfileFormat::poetry,  LockfileFormat::uv,
                                       LockfileFormat::cargo,   LockfileFormat::go_sum,
                                       LockfileFormat::gemfile, LockfileFormat::composer};
constexpr std::size_t kChoices = sizeof kFormats / sizeof kFormats[0] + 1;

void check_osv(std::string_view text) {
  auto records = parse_osv_document(text, "fuzz.json");
  if (!records) return;
  for (const auto& r : *records) {
    auto back = record_from_line(index_line(r));
    if (!back || back->id != r.id || back->name != r.name || back->versions != r.versions ||
        back->ranges.size() != r.ranges.size())
      __builtin_trap();
    (void)back->affects("1.2.3");
    (void)back->affects("0");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::size_t choice = data[0] % kChoices;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (choice == kChoices - 1) {
    check_osv(text);
    return 0;
  }
  // The same bytes as the manifest too: package.json, pyproject.toml, go.mod, composer.json.
  auto packages = parse_lockfile(kFormats[choice], text, "fuzz.lock", text);
  if (packages) {
    for (const auto& p : *packages)
      if (p.name.empty() && p.version.empty()) __builtin_trap();
  }
  return 0;
}
