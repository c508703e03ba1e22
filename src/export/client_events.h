#pragma once
/// Where a reader thread keeps the events of the hour until they are written: per client, a list of
/// compact records pointing into a chunked arena (blocks never move, so pointers stay valid and the
/// arena never copies what it already holds). Memory per event: its plain JSON, its id and 24 bytes.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace es::exporter {

/// One event: body (plain JSON) followed by its id, stored contiguously.
struct StoredEvent {
  std::int64_t time_us = 0;
  const char* data = nullptr;
  std::uint32_t body_size = 0;
  std::uint32_t id_size = 0;

  [[nodiscard]] std::string_view body() const { return {data, body_size}; }
  [[nodiscard]] std::string_view id() const { return {data + body_size, id_size}; }
};

/// The output order: time, then event id, then the bytes (a total order, so output is deterministic
/// even if two items share a time and an id).
[[nodiscard]] inline bool event_before(const StoredEvent& a, const StoredEvent& b) {
  if (a.time_us != b.time_us) return a.time_us < b.time_us;
  if (const int c = a.id().compare(b.id()); c != 0) return c < 0;
  return a.body() < b.body();
}

/// Sorts events in output order (event_before). By time with a stable radix sort (three passes of 11
/// bits over an hour's 32-bit time offsets), then by id and bytes within the rare equal times:
/// std::sort's 14 comparisons per event of 10,000 (a client's hour), each a mispredicted branch,
/// were a few percent of the exporter's CPU.
void sort_events(std::vector<StoredEvent>& events);

/// Append-only byte storage in blocks mapped straight from the kernel (mmap), growing from 1 MiB to
/// 16 MiB. Two properties the malloc'd blocks of before lacked:
/// - memory goes back to the system the moment the arena is destroyed (a client's events freed
///   after encoding made room for the next objects instead of staying in malloc's free lists, where
///   the encoded objects, mmap'd themselves, could not reuse them: +32 MB at the peak of a
///   200,000-event hour);
/// - the unused tail of a block is never touched, so it is address space, not memory: a reader
///   keeps one arena per client and big blocks cost nothing (the reason blocks were capped at
///   64 KiB when they came from the heap).
class ChunkArena {
 public:
  ChunkArena() = default;
  ChunkArena(ChunkArena&& other) noexcept
      : blocks_(std::move(other.blocks_)),
        used_(std::exchange(other.used_, 0)),
        capacity_(std::exchange(other.capacity_, 0)),
        full_blocks_(std::exchange(other.full_blocks_, 0)),
        populated_(std::exchange(other.populated_, 0)) {
    other.blocks_.clear();
  }
  ChunkArena& operator=(ChunkArena&& other) noexcept {
    if (this != &other) {
      blocks_ = std::move(other.blocks_);
      other.blocks_.clear();
      used_ = std::exchange(other.used_, 0);
      capacity_ = std::exchange(other.capacity_, 0);
      full_blocks_ = std::exchange(other.full_blocks_, 0);
      populated_ = std::exchange(other.populated_, 0);
    }
    return *this;
  }
  ChunkArena(const ChunkArena&) = delete;
  ChunkArena& operator=(const ChunkArena&) = delete;
  ~ChunkArena() = default;

  /// Copies a then b contiguously; returns the address of the copy. Throws std::bad_alloc when the
  /// system has no memory to map.
  const char* store(std::string_view a, std::string_view b);
  /// The memory the arena holds: its blocks, the last one as far as it has been faulted in (what
  /// lies past that in the block is address space only).
  [[nodiscard]] std::size_t bytes_reserved() const {
    return full_blocks_ + round_to_page(std::max(used_, populated_));
  }

 private:
  struct Unmap {
    std::size_t size = 0;
    void operator()(char* p) const noexcept;
  };
  using Block = std::unique_ptr<char[], Unmap>;
  static std::size_t round_to_page(std::size_t n) noexcept { return (n + 4095) & ~std::size_t{4095}; }

  std::vector<Block> blocks_;
  std::size_t used_ = 0;
  std::size_t capacity_ = 0;
  std::size_t full_blocks_ = 0;  ///< bytes of every block but the last
  std::size_t populated_ = 0;    ///< bytes of the last block faulted in ahead of use
};

/// The events of one client gathered by one reader thread.
struct ClientEvents {
  ChunkArena arena;
  std::vector<StoredEvent> events;
  std::uint64_t body_bytes = 0;

  void add(std::int64_t time_us, std::string_view body, std::string_view id) {
    const char* data = arena.store(body, id);
    // Grow by half, not double: 160 of these vectors (8 readers x 20 clients) are alive together
    // until their client is written, and doubling left a third of them unused on average.
    if (events.size() == events.capacity()) events.reserve(events.size() + events.size() / 2 + 64);
    events.push_back(
        {time_us, data, static_cast<std::uint32_t>(body.size()), static_cast<std::uint32_t>(id.size())});
    body_bytes += body.size();
  }
};

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

/// client id -> its events, for one reader thread.
using ClientEventMap = std::unordered_map<std::string, ClientEvents, StringHash, std::equal_to<>>;

}  // namespace es::exporter
