#pragma once
/// Where a reader thread keeps the events of the hour until they are written: per client, a list of
/// compact records pointing into a chunked arena (blocks never move, so pointers stay valid and the
/// arena never copies what it already holds). Memory per event: its plain JSON, its id and 24 bytes.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
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

/// The memory the readers' client arenas are made of: 64 KiB blocks carved from regions of address
/// space mapped straight from the kernel (faulted in by the arenas as they fill them). A block an
/// arena gives back (when a reader spills, or a client's events are written) is handed out again as
/// it is, already faulted in; the regions are unmapped when the pool is destroyed.
/// - Reuse: when a reader spills, its clients' arenas empty and fill again. Unmapping them to map and
///   fault in as much again a moment later cost a page fault per 4 KiB of every event spilled, and an
///   munmap per block, which stops every core of the process to flush its TLB.
/// - Locality: each client's events stay together in its own blocks, so writing a client (its events
///   read in time order) touches that client's memory only (one arena per reader, tried, spread a
///   client over the reader's whole buffer, and the passes over its events got slower).
/// Thread-safe: the readers share one, and blocks come back from the upload stage's threads.
class BlockPool {
 public:
  static constexpr std::size_t kBlockSize = std::size_t{64} << 10;
  static constexpr std::size_t kRegionSize = std::size_t{64} << 20;  ///< address space; faulted in as used

  BlockPool() = default;
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;
  ~BlockPool();

  struct Block {
    char* data;
    bool fresh;  ///< never used: not faulted in yet
  };
  /// A block of kBlockSize bytes. Throws std::bad_alloc when the system has no memory to map.
  [[nodiscard]] Block take();
  void give(char* block);
  /// Unmaps the blocks given back, coalescing neighbours (the memory held then is what is in use).
  void trim();
  /// Bytes of the blocks handed out and not trimmed away, in use or idle.
  [[nodiscard]] std::size_t bytes_held() const;

 private:
  mutable std::mutex mutex_;
  std::vector<char*> free_;
  std::vector<char*> regions_;
  std::size_t carved_ = kRegionSize;  ///< bytes of the last region handed out
  std::size_t held_ = 0;
};

/// Append-only byte storage for one client's events in a reader thread: blocks from the readers'
/// BlockPool (an item larger than a block gets a mapping of its own). What was stored stays where it
/// is until the arena is cleared or destroyed, which gives the blocks back to the pool.
class ChunkArena {
 public:
  explicit ChunkArena(BlockPool& pool) : pool_(&pool) {}
  ChunkArena(ChunkArena&& other) noexcept
      : pool_(other.pool_),
        blocks_(std::exchange(other.blocks_, {})),
        own_(std::exchange(other.own_, {})),
        used_(std::exchange(other.used_, BlockPool::kBlockSize)),
        populated_(std::exchange(other.populated_, BlockPool::kBlockSize)) {}
  ChunkArena& operator=(ChunkArena&& other) noexcept {
    if (this != &other) {
      clear();
      pool_ = other.pool_;
      blocks_ = std::exchange(other.blocks_, {});
      own_ = std::exchange(other.own_, {});
      used_ = std::exchange(other.used_, BlockPool::kBlockSize);
      populated_ = std::exchange(other.populated_, BlockPool::kBlockSize);
    }
    return *this;
  }
  ChunkArena(const ChunkArena&) = delete;
  ChunkArena& operator=(const ChunkArena&) = delete;
  ~ChunkArena() { clear(); }

  /// Copies a then b contiguously; returns the address of the copy. Throws std::bad_alloc when the
  /// system has no memory to map.
  const char* store(std::string_view a, std::string_view b);
  /// Gives every block back (what was stored is gone); the arena stays usable.
  void clear() noexcept;
  /// The memory the arena holds: its blocks, whole (a block taken again from the pool is faulted in
  /// whole, a fresh one is faulted in 16 KiB at a time as it fills), and its own mappings.
  [[nodiscard]] std::size_t bytes_reserved() const {
    std::size_t n = blocks_.size() * BlockPool::kBlockSize;
    for (const auto& [data, size] : own_) n += size;
    return n;
  }

 private:
  BlockPool* pool_;
  std::vector<char*> blocks_;                       ///< the last one is being filled
  std::vector<std::pair<char*, std::size_t>> own_;  ///< items larger than a block
  std::size_t used_ = BlockPool::kBlockSize;        ///< bytes of the last block in use (full: none)
  std::size_t populated_ = BlockPool::kBlockSize;   ///< bytes of the last block faulted in
};

/// The events of one client gathered by one reader thread.
struct ClientEvents {
  explicit ClientEvents(BlockPool& pool) : arena(pool) {}

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
  /// Frees the events and gives their memory back to the pool.
  void clear() noexcept {
    arena.clear();
    events = {};
    body_bytes = 0;
  }
};

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

/// client id -> its events, for one reader thread.
using ClientEventMap = std::unordered_map<std::string, ClientEvents, StringHash, std::equal_to<>>;

}  // namespace es::exporter
