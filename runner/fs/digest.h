#pragma once
// Cryptographic digests (OpenSSL's libcrypto) of byte strings and whole files, as lowercase
// hex: what content-addressed caches name their files by.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sandbox/base/error.h"

namespace safeinstall::runner {

// An incremental digest of one algorithm: "sha1", "sha256", "sha384" or "sha512".
class Digest {
 public:
  // nullopt for an algorithm not listed above (md5 and the like are never accepted).
  static std::optional<Digest> named(std::string_view algorithm);

  Digest(Digest&&) noexcept;
  Digest& operator=(Digest&&) noexcept;
  ~Digest();

  void update(std::string_view bytes);
  // Lowercase hex of the digest; the object cannot be updated afterwards.
  std::string hex();
  // Length of the hex digest (40 for sha1, 128 for sha512).
  std::size_t hex_length() const;

 private:
  struct State;
  explicit Digest(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Hex digest of `bytes`; the algorithm must be one Digest::named accepts.
std::string hex_digest(std::string_view algorithm, std::string_view bytes);

// Hex digest of everything readable from `fd` (from its current offset to the end).
Result<std::string> hex_digest_of_fd(std::string_view algorithm, int fd, const std::string& shown);

// "abc..." for base64 "q80..."; nullopt when `base64` is not valid standard base64.
std::optional<std::string> base64_to_hex(std::string_view base64);

}  // namespace safeinstall::runner
