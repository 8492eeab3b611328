#pragma once
// Reading configuration text the way the sanitizers need it: lines without a UTF-8 byte order
// mark or CR, trimmed and unquoted values, and the bounds a line must keep to be considered.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace safeinstall::runner {

// Configuration files are small; a larger one is not a configuration file.
inline constexpr std::size_t kMaxConfigFileBytes = 1 << 20;

// A line longer than this is no setting a tool needs carried over (inline CA bundles stay
// well below it); it is dropped whole.
inline constexpr std::size_t kMaxConfigLineBytes = 64 * 1024;

// The lines of `text`, without a leading BOM and without the CR of CRLF endings.
std::vector<std::string_view> config_lines(std::string_view text);

std::string_view trim_blanks(std::string_view s);
std::size_t indentation_of(std::string_view line);

// The value without one pair of surrounding quotes; `quote` gets the quote character or '\0'.
std::string_view unquoted(std::string_view value, char* quote = nullptr);
// A value that opens a quote it does not close on its line: the setting spans lines.
bool opens_unclosed_quote(std::string_view value);

// Bytes below 0x20 other than tab, and DEL: never part of a setting worth keeping.
bool has_control_bytes(std::string_view s);

std::string lowercase(std::string_view s);

// A setting's path as the report names it: "registries.corp.token".
std::string dotted(const std::vector<std::string>& path);

// '*' matches any run of characters; case-insensitive, as tools compare most keys.
bool glob_matches(std::string_view pattern, std::string_view text);

}  // namespace safeinstall::runner
