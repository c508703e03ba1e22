#pragma once
/// The digest of an hour's source: what the table held for the hour, independent of the order in which
/// a scan returned it. Each event adds SHA-256(event id, 0, its bytes) as a 256-bit number, modulo
/// 2^256: equal sums mean the same events with the same bytes (to SHA-256's strength), and partial
/// sums of reader threads or work units simply add up. Late, changed and removed events all change it.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/hash.h"
#include "core/manifest.h"

namespace es {

class SourceDigestSum {
 public:
  /// Adds one event: its id and its bytes as exported (for a rejected event: the item as read).
  void add(std::string_view event_id, std::string_view bytes);
  /// Adds another sum (a reader thread's, a work unit's).
  SourceDigestSum& operator+=(const SourceDigestSum& other);

  [[nodiscard]] std::uint64_t events() const { return events_; }
  /// The count and the sum as 64 hex digits (most significant first).
  [[nodiscard]] SourceDigest result() const;
  /// Reads back result().digest (a work unit's partial sum); false on anything but 64 hex digits.
  [[nodiscard]] static bool parse(const SourceDigest& digest, SourceDigestSum& out);

 private:
  void add_words(const std::array<std::uint64_t, 4>& words);

  std::uint64_t events_ = 0;
  std::array<std::uint64_t, 4> sum_{};  ///< little-endian words: sum_[0] is the least significant
  Sha256 sha_;
};

}  // namespace es
