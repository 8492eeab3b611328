#include "runner/digest.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <array>
#include <cerrno>

namespace safeinstall::runner {

struct Digest::State {
  struct FreeContext {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  std::unique_ptr<EVP_MD_CTX, FreeContext> ctx;
  const EVP_MD* md = nullptr;
};

namespace {

const EVP_MD* algorithm_by_name(std::string_view name) {
  if (name == "sha1") return EVP_sha1();
  if (name == "sha256") return EVP_sha256();
  if (name == "sha384") return EVP_sha384();
  if (name == "sha512") return EVP_sha512();
  return nullptr;
}

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

}  // namespace

Digest::Digest(std::unique_ptr<State> state) : state_(std::move(state)) {}
Digest::Digest(Digest&&) noexcept = default;
Digest& Digest::operator=(Digest&&) noexcept = default;
Digest::~Digest() = default;

std::optional<Digest> Digest::named(std::string_view algorithm) {
  const EVP_MD* md = algorithm_by_name(algorithm);
  if (md == nullptr) return std::nullopt;
  auto state = std::make_unique<State>();
  state->ctx.reset(EVP_MD_CTX_new());
  state->md = md;
  if (!state->ctx || EVP_DigestInit_ex(state->ctx.get(), md, nullptr) != 1) return std::nullopt;
  return Digest(std::move(state));
}

void Digest::update(std::string_view bytes) {
  EVP_DigestUpdate(state_->ctx.get(), bytes.data(), bytes.size());
}

std::string Digest::hex() {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int size = 0;
  EVP_DigestFinal_ex(state_->ctx.get(), out.data(), &size);
  return to_hex(out.data(), size);
}

std::size_t Digest::hex_length() const {
  return static_cast<std::size_t>(EVP_MD_get_size(state_->md)) * 2;
}

std::string hex_digest(std::string_view algorithm, std::string_view bytes) {
  auto digest = Digest::named(algorithm);
  if (!digest) return {};
  digest->update(bytes);
  return digest->hex();
}

sandbox::Result<std::string> hex_digest_of_fd(std::string_view algorithm, int fd,
                                              const std::string& shown) {
  auto digest = Digest::named(algorithm);
  if (!digest)
    return sandbox::plain_error("hash " + shown + ": unknown algorithm " + std::string(algorithm));
  std::array<char, 1 << 16> buffer{};
  for (;;) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sandbox::sys_error("read " + shown);
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
