#pragma once
/// Digests and encodings shared by signing, uploads and manifests (OpenSSL and zlib underneath).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace es {

using Sha256Digest = std::array<unsigned char, 32>;
using Md5Digest = std::array<unsigned char, 16>;

[[nodiscard]] Sha256Digest sha256(std::string_view data);
[[nodiscard]] Md5Digest md5(std::string_view data);
[[nodiscard]] Sha256Digest hmac_sha256(std::string_view key, std::string_view data);

/// Incremental SHA-256 for data that arrives in pieces (uploads, spilled files).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  void update(std::string_view data);
  /// Finishes the digest; the object is reset and can be reused.
  [[nodiscard]] Sha256Digest finish();

 private:
  struct Impl;
  Impl* impl_;
};

/// CRC-32 (IEEE, as zlib) of data; DynamoDB's x-amz-crc32 header is its decimal value.
[[nodiscard]] std::uint32_t crc32(std::string_view data);

/// Lower-case hex of bytes.
[[nodiscard]] std::string hex_encode(std::string_view bytes);
template <std::size_t N>
[[nodiscard]] std::string hex_encode(const std::array<unsigned char, N>& d) {
  return hex_encode(std::string_view(reinterpret_cast<const char*>(d.data()), N));  // NOLINT
}

/// Standard base64 with padding (RFC 4648 section 4).
[[nodiscard]] std::string base64_encode(std::string_view bytes);
template <std::size_t N>
[[nodiscard]] std::string base64_encode(const std::array<unsigned char, N>& d) {
  return base64_encode(std::string_view(reinterpret_cast<const char*>(d.data()), N));  // NOLINT
}
/// Appends base64 of bytes to out (no allocation beyond out's growth).
void base64_append(std::string& out, std::string_view bytes);
/// Decodes standard base64; returns false on any invalid character or bad padding.
[[nodiscard]] bool base64_decode(std::string_view text, std::string& out);

}  // namespace es
