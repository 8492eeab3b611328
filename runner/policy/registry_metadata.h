#pragma once
// What the package policy reads from a registry about one version: when it was published and,
// on npm, who maintains and who published it. One parser per registry's JSON:
//   npm       GET {registry}/{name}                    time[version], versions[v].maintainers[]
//                                                      .name, versions[v]._npmUser.name
//   PyPI      GET {index}/pypi/{name}/{version}/json   urls[].upload_time_iso_8601 (the
//                                                      earliest), else releases[version][]
//   crates.io GET {api}/api/v1/crates/{name}/{version} version.created_at
//   RubyGems  GET {api}/api/v1/versions/{name}.json    [].created_at where number == version

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/base/error.h"

namespace safeinstall::runner {

using TimePoint = std::chrono::sys_seconds;

struct VersionMetadata {
  std::optional<TimePoint> published;
  std::vector<std::string> maintainers;  // npm: maintainers[].name and _npmUser.name
};

// "2024-05-01T12:30:00.123Z", "2024-05-01T12:30:00+02:00", "2024-05-01T12:30:00" (UTC).
std::optional<TimePoint> parse_timestamp(std::string_view text);

// Each fails when the document is not JSON of the expected shape or does not know `version`.
Result<VersionMetadata> npm_version_metadata(std::string_view packument, std::string_view version);
Result<VersionMetadata> pypi_version_metadata(std::string_view release, std::string_view version);
Result<VersionMetadata> crates_version_metadata(std::string_view document);
Result<VersionMetadata> rubygems_version_metadata(std::string_view versions,
                                                  std::string_view version);

}  // namespace safeinstall::runner
