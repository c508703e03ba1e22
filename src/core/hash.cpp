#include "core/hash.h"

#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>

#include <libdeflate.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace es {
namespace {

// OpenSSL only fails these calls when it is out of memory or its default provider is missing: the
// process cannot do anything useful (no signing, no checksums), so it stops with a clear message
// instead of returning digests nobody would check.
[[noreturn]] void openssl_failed(const char* what) {
  std::fprintf(stderr, "fatal: OpenSSL %s failed\n", what);
  std::abort();
}

struct EvpMdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, EvpMdCtxDeleter>;

EvpMdCtxPtr new_md_ctx() {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) openssl_failed("EVP_MD_CTX_new");
  return ctx;
}

template <std::size_t N>
std::array<unsigned char, N> digest(const EVP_MD* md, std::string_view data) {
  // One context per thread: signing hashes every request and allocating a context each time shows up
  // in profiles.
  thread_local EvpMdCtxPtr ctx = new_md_ctx();
  std::array<unsigned char, N> out{};
  unsigned int len = 0;
  if (EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1 || len != N) {
    openssl_failed("digest");
  }
  return out;
}

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kBase64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr unsigned char kInvalid = 0xFF;
constexpr unsigned char kPad = 0xFE;

constexpr std::array<unsigned char, 256> make_base64_decode_table() {
  std::array<unsigned char, 256> table{};
  for (auto& v : table) v = kInvalid;
  for (unsigned char i = 0; i < 64; ++i) table[static_cast<unsigned char>(kBase64Alphabet[i])] = i;
  table[static_cast<unsigned char>('=')] = kPad;
  return table;
}
constexpr auto kBase64Decode = make_base64_decode_table();

}  // namespace

Sha256Digest sha256(std::string_view data) {
  return digest<32>(EVP_sha256(), data);
}

Md5Digest md5(std::string_view data) {
  return digest<16>(EVP_md5(), data);
}

Sha256Digest hmac_sha256(std::string_view key, std::string_view data) {
  if (key.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) openssl_failed("HMAC key");
  Sha256Digest out{};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),  // NOLINT
           &len) == nullptr ||
      len != out.size()) {
    openssl_failed("HMAC");
  }
  return out;
}

struct Sha256::Impl {
  EvpMdCtxPtr ctx = new_md_ctx();

  void reset() {
    if (EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) openssl_failed("EVP_DigestInit_ex");
  }
};

Sha256::Sha256() : impl_(new Impl) {
  impl_->reset();
}

Sha256::~Sha256() {
  delete impl_;
}

Sha256::Sha256(Sha256&& other) noexcept : impl_(other.impl_) {
  other.impl_ = nullptr;
}

Sha256& Sha256::operator=(Sha256&& other) noexcept {
  if (this != &other) {
    delete impl_;
    impl_ = other.impl_;
    other.impl_ = nullptr;
  }
  return *this;
}

void Sha256::update(std::string_view data) {
  assert(impl_ != nullptr && "use of a moved-from Sha256");
  if (EVP_DigestUpdate(impl_->ctx.get(), data.data(), data.size()) != 1) openssl_failed("EVP_DigestUpdate");
}

Sha256Digest Sha256::finish() {
  assert(impl_ != nullptr && "use of a moved-from Sha256");
  Sha256Digest out{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(impl_->ctx.get(), out.data(), &len) != 1 || len != out.size()) {
    openssl_failed("EVP_DigestFinal_ex");
  }
  impl_->reset();
  return out;
}

std::uint32_t crc32(std::string_view data) {
  // libdeflate's CRC-32 (same polynomial as zlib) uses carry-less multiplication where the CPU has
  // it: every DynamoDB page is checked, and zlib's version was 3% of the exporter's CPU.
  return libdeflate_crc32(0, data.data(), data.size());
}

std::string hex_encode(std::string_view bytes) {
  std::string out(bytes.size() * 2, '\0');
  std::size_t i = 0;
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out[i++] = kHexDigits[b >> 4];
    out[i++] = kHexDigits[b & 0x0F];
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  base64_append(out, bytes);
  return out;
}

void base64_append(std::string& out, std::string_view bytes) {
  const std::size_t start = out.size();
  out.resize(start + (bytes.size() + 2) / 3 * 4);
  char* p = out.data() + start;
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());  // NOLINT
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{in[i]} << 16) | (std::uint32_t{in[i + 1]} << 8) | in[i + 2];
    *p++ = kBase64Alphabet[(v >> 18) & 0x3F];
    *p++ = kBase64Alphabet[(v >> 12) & 0x3F];
    *p++ = kBase64Alphabet[(v >> 6) & 0x3F];
    *p++ = kBase64Alphabet[v & 0x3F];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t v = std::uint32_t{in[i]} << 16;
    *p++ = kBase64Alphabet[(v >> 18) & 0x3F];
    *p++ = kBase64Alphabet[(v >> 12) & 0x3F];
    *p++ = '=';
    *p++ = '=';
  } else if (rest == 2) {
    const std::uint32_t v = (std::uint32_t{in[i]} << 16) | (std::uint32_t{in[i + 1]} << 8);
    *p++ = kBase64Alphabet[(v >> 18) & 0x3F];
    *p++ = kBase64Alphabet[(v >> 12) & 0x3F];
    *p++ = kBase64Alphabet[(v >> 6) & 0x3F];
    *p++ = '=';
  }
}

// Strict on purpose (no whitespace, padding required, unused bits zero): every producer we read
// (S3 checksums, DynamoDB B values) emits canonical base64, so anything else is corrupt data.
namespace {
bool base64_decode_into(std::string_view text, std::string& out) {
  if (text.size() % 4 != 0) return false;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const unsigned char a = kBase64Decode[static_cast<unsigned char>(text[i])];
    const unsigned char b = kBase64Decode[static_cast<unsigned char>(text[i + 1])];
    const unsigned char c = kBase64Decode[static_cast<unsigned char>(text[i + 2])];
    const unsigned char d = kBase64Decode[static_cast<unsigned char>(text[i + 3])];
    const bool last = i + 4 == text.size();
    if (a >= 64 || b >= 64) return false;
    if (c == kInvalid || d == kInvalid) return false;
    if (c == kPad || d == kPad) {
      if (!last) return false;
      if (c == kPad && d != kPad) return false;
      if (c == kPad) {
        if ((b & 0x0F) != 0) return false;
        out.push_back(static_cast<char>((a << 2) | (b >> 4)));
      } else {
        if ((c & 0x03) != 0) return false;
        out.push_back(static_cast<char>((a << 2) | (b >> 4)));
        out.push_back(static_cast<char>(((b & 0x0F) << 4) | (c >> 2)));
      }
      break;
    }
    const std::uint32_t v = (std::uint32_t{a} << 18) | (std::uint32_t{b} << 12) | (std::uint32_t{c} << 6) | d;
    out.push_back(static_cast<char>((v >> 16) & 0xFF));
    out.push_back(static_cast<char>((v >> 8) & 0xFF));
    out.push_back(static_cast<char>(v & 0xFF));
  }
  return true;
}
}  // namespace

bool base64_decode(std::string_view text, std::string& out) {
  out.clear();
  if (base64_decode_into(text, out)) return true;
  out.clear();  // never hand back half-decoded bytes
  return false;
}

}  // namespace es
