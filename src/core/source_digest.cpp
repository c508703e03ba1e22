#include "core/source_digest.h"

namespace es {
namespace {

/// The digest as four 64-bit words, least significant first (the digest read as a big-endian number).
std::array<std::uint64_t, 4> words_of(const Sha256Digest& d) {
  std::array<std::uint64_t, 4> w{};
  for (std::size_t i = 0; i < 4; ++i) {
    std::uint64_t v = 0;
    for (std::size_t b = 0; b < 8; ++b) v = (v << 8) | d[(3 - i) * 8 + b];
    w[i] = v;
  }
  return w;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

void SourceDigestSum::add_words(const std::array<std::uint64_t, 4>& words) {
  unsigned carry = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    const std::uint64_t a = sum_[i];
    const std::uint64_t s = a + words[i];
    const unsigned c1 = s < a ? 1U : 0U;
    const std::uint64_t t = s + carry;
    const unsigned c2 = t < s ? 1U : 0U;
    sum_[i] = t;
    carry = c1 + c2;
  }
}

void SourceDigestSum::add(std::string_view event_id, std::string_view bytes) {
  sha_.update(event_id);
  sha_.update(std::string_view("\0", 1));
  sha_.update(bytes);
  add_words(words_of(sha_.finish()));
  ++events_;
}

SourceDigestSum& SourceDigestSum::operator+=(const SourceDigestSum& other) {
  add_words(other.sum_);
  events_ += other.events_;
  return *this;
}

SourceDigest SourceDigestSum::result() const {
  static constexpr char kHex[] = "0123456789abcdef";
  SourceDigest out;
  out.events = events_;
  out.digest.reserve(64);
  for (std::size_t i = 4; i-- > 0;) {
    for (int shift = 60; shift >= 0; shift -= 4) out.digest += kHex[(sum_[i] >> shift) & 0xF];
  }
  return out;
}

bool SourceDigestSum::parse(const SourceDigest& digest, SourceDigestSum& out) {
  if (digest.digest.size() != 64) return false;
  SourceDigestSum sum;
  for (std::size_t i = 0; i < 64; ++i) {
    const int v = hex_value(digest.digest[i]);
    if (v < 0) return false;
    std::uint64_t& word = sum.sum_[3 - i / 16];
    word = (word << 4) | static_cast<std::uint64_t>(v);
  }
  sum.events_ = digest.events;
  out = std::move(sum);
  return true;
}

}  // namespace es
