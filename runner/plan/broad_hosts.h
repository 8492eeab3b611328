#pragma once
// Host patterns too broad to be meant: `*.com`, `*.co.uk`, `*.github.io` allow every site
// under a public suffix, which is the whole internet for an exfiltrating script. They are
// refused unless --allow-broad says so.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/egress/egress_policy.h"

namespace safeinstall::runner {

// Debian's copy of the Public Suffix List (package publicsuffix).
inline constexpr const char* kPublicSuffixList = "/usr/share/publicsuffix/public_suffix_list.dat";

// Which of `hosts` (lowercase names, no `*.`) are public suffixes: a single label always; a
// longer name when the list at `list_file` names it exactly, or through a `*.` rule, and no
// `!` exception takes it out. A missing list leaves only the single-label rule.
std::vector<std::string> public_suffixes_among(const std::vector<std::string>& hosts,
                                               const std::string& list_file = kPublicSuffixList);

// Why `pattern` is too broad ("allows every host under the public suffix com"), or nothing.
// Only `*.` patterns can be; `is_suffix` says whether its host is a public suffix.
std::optional<std::string> too_broad(const sandbox::HostPattern& pattern, bool is_suffix);

}  // namespace safeinstall::runner
