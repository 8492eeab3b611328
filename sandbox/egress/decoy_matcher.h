#pragma once
// Finds a run's decoy credential values in what leaves through the gateway: request lines,
// headers, the start of plain-HTTP bodies and DNS question names. A value counts in the
// forms a script would send it in: as it is (any case, separators dropped, so a value split
// across DNS labels or URL-escaped still counts), as hex, and as base64 / base64url / base32
// at any byte offset of what was encoded.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace safeinstall::sandbox {

// One value a decoy file holds. `core` is its random part, letters and digits only (the
// token without its `npm_` prefix, the whole secret key); `file` names the decoy ("~/.npmrc").
struct DecoyValue {
  std::string file;
  std::string core;
};

// The forms `core` is looked for in, each lowercased with everything but letters and digits
// removed (as the text searched is): the value itself, its hex, and its base64 and base32 for
// each byte offset it may start at inside the encoded text.
std::vector<std::string> decoy_needles(std::string_view core);

// Lowercase letters and digits of `text`, in order: the form needles are searched in.
std::string normalized_for_search(std::string_view text);

// `host` with all but its last two labels replaced by a mark naming `decoy`: a name that
// carried a decoy's value is recorded without it ("[decoy:~/.npmrc].evil.test").
std::string masked_decoy_host(std::string_view host, std::string_view decoy);

class DecoyMatcher {
 public:
  DecoyMatcher() = default;
  explicit DecoyMatcher(const std::vector<DecoyValue>& decoys);

  bool empty() const { return needles_.empty(); }

  // The file of the first decoy whose value `text` holds in any form, or nullopt.
  std::optional<std::string> find(std::string_view text) const;

 private:
  // Every needle's first kPrefix bytes as a key; a bitmap of the keys' hashes rejects almost
  // every position of the text with one load and one bit test, so the cost is one pass over
  // the text however many needles there are.
  static constexpr std::size_t kPrefix = 8;
  struct Needle {
    std::uint64_t prefix = 0;
    std::string text;
    std::string file;
  };
  std::vector<Needle> needles_;  // sorted by prefix
  std::vector<bool> seen_hashes_;
};

}  // namespace safeinstall::sandbox
