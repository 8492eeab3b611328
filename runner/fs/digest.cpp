#include "runner/fs/digest.h"

// The one-shot SHA functions, not EVP: with a static libcrypto, EVP_sha512() pulls in the
// whole provider framework (every algorithm, ~3 MB of code) where these need only the
// compression functions. OpenSSL 3 deprecates them for that framework's sake, not for
// correctness.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <variant>

namespace safeinstall::runner {

namespace {

std::string to_hex(const unsigned char* bytes, std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0xf];
  }
  return out;
}

// Init/Update/Final of one algorithm over its context type.
template <typename Context, int (*Init)(Context*), int (*Update)(Context*, const void*, size_t),
          int (*Final)(unsigned char*, Context*), std::size_t Size>
struct ShaFunctions {
  Context context{};
  ShaFunctions() { Init(&context); }
  void update(std::string_view bytes) { Update(&context, bytes.data(), bytes.size()); }
  std::string finish() {
    std::array<unsigned char, Size> out{};
    Final(out.data(), &context);
    return to_hex(out.data(), out.size());
  }
  static constexpr std::size_t kSize = Size;
};

using Sha1 = ShaFunctions<SHA_CTX, SHA1_Init, SHA1_Update, SHA1_Final, SHA_DIGEST_LENGTH>;
using Sha256 =
    ShaFunctions<SHA256_CTX, SHA256_Init, SHA256_Update, SHA256_Final, SHA256_DIGEST_LENGTH>;
using Sha384 =
    ShaFunctions<SHA512_CTX, SHA384_Init, SHA384_Update, SHA384_Final, SHA384_DIGEST_LENGTH>;
using Sha512 =
    ShaFunctions<SHA512_CTX, SHA512_Init, SHA512_Update, SHA512_Final, SHA512_DIGEST_LENGTH>;

}  // namespace

struct Digest::State {
  std::variant<Sha1, Sha256, Sha384, Sha512> functions;
};

Digest::Digest(std::unique_ptr<State> state) : state_(std::move(state)) {}
Digest::Digest(Digest&&) noexcept = default;
Digest& Digest::operator=(Digest&&) noexcept = default;
Digest::~Digest() = default;

std::optional<Digest> Digest::named(std::string_view algorithm) {
  auto state = std::make_unique<State>();
  if (algorithm == "sha1")
    state->functions.emplace<Sha1>();
  else if (algorithm == "sha256")
    state->functions.emplace<Sha256>();
  else if (algorithm == "sha384")
    state->functions.emplace<Sha384>();
  else if (algorithm == "sha512")
    state->functions.emplace<Sha512>();
  else
    return std::nullopt;
  return Digest(std::move(state));
}

void Digest::update(std::string_view bytes) {
  std::visit([bytes](auto& functions) { functions.update(bytes); }, state_->functions);
}

std::string Digest::hex() {
  return std::visit([](auto& functions) { return functions.finish(); }, state_->functions);
}

std::size_t Digest::hex_length() const {
  return std::visit([](const auto& functions) { return functions.kSize * 2; }, state_->functions);
}

std::string hex_digest(std::string_view algorithm, std::string_view bytes) {
  auto digest = Digest::named(algorithm);
  if (!digest) return {};
  digest->update(bytes);
  return digest->hex();
}

Result<std::string> hex_digest_of_fd(std::string_view algorithm, int fd, const std::string& shown) {
  auto digest = Digest::named(algorithm);
  if (!digest)
    return plain_error("hash " + shown + ": unknown algorithm " + std::string(algorithm));
  std::array<char, 1 << 16> buffer{};
  for (;;) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read " + shown);
    if (n == 0) break;
    digest->update({buffer.data(), static_cast<std::size_t>(n)});
  }
  return digest->hex();
}

std::optional<std::string> base64_to_hex(std::string_view base64) {
  std::string stripped(base64);
  if (stripped.empty() || stripped.size() % 4 != 0) return std::nullopt;
  std::string decoded(stripped.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                          reinterpret_cast<const unsigned char*>(stripped.data()),
                          static_cast<int>(stripped.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts padding as zero bytes.
  std::size_t size = static_cast<std::size_t>(n);
  if (stripped.ends_with("=="))
    size -= 2;
  else if (stripped.ends_with("="))
    size -= 1;
  return to_hex(reinterpret_cast<const unsigned char*>(decoded.data()), size);
}

}  // namespace safeinstall::runner
