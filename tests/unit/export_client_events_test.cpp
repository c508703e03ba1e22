// ChunkArena and BlockPool: what is stored stays put and intact; memory accounting; reuse; moves.

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "export/client_events.h"

namespace es::exporter {
namespace {

TEST(ChunkArena, StoredBytesStayPutAcrossManyBlocks) {
  BlockPool pool;
  ChunkArena arena(pool);
  std::vector<std::pair<const char*, std::string>> stored;
  for (int i = 0; i < 20'000; ++i) {
    const std::string body = "{\"n\":" + std::to_string(i) + ",\"pad\":\"" +
                             std::string(static_cast<std::size_t>(i % 700), 'x') + "\"}";
    const std::string id = "id-" + std::to_string(i);
    stored.emplace_back(arena.store(body, id), body + id);
  }
  for (const auto& [at, bytes] : stored) ASSERT_EQ(std::string(at, bytes.size()), bytes);
}

TEST(ChunkArena, AnItemLargerThanABlockGetsItsOwn) {
  BlockPool pool;
  ChunkArena arena(pool);
  const std::string big(BlockPool::kBlockSize + 100, 'b');
  const char* small = arena.store("s", "1");
  const char* at = arena.store(big, "id");
  const char* after = arena.store("t", "2");
  EXPECT_EQ(std::string(at, big.size()), big);
  EXPECT_EQ(std::string(at + big.size(), 2), "id");
  EXPECT_EQ(std::string(small, 2), "s1");
  EXPECT_EQ(std::string(after, 2), "t2");
  EXPECT_EQ(arena.bytes_reserved(), BlockPool::kBlockSize + ((big.size() + 2 + 4095) & ~std::size_t{4095}));
}

TEST(ChunkArena, BytesReservedCountsWholeBlocks) {
  BlockPool pool;
  ChunkArena arena(pool);
  EXPECT_EQ(arena.bytes_reserved(), 0u);
  static_cast<void>(arena.store("x", ""));
  EXPECT_EQ(arena.bytes_reserved(), BlockPool::kBlockSize);
  const std::string kb(1000, 'k');
  std::size_t stored = 1;
  while (stored < (3 << 20)) {
    static_cast<void>(arena.store(kb, ""));
    stored += kb.size();
  }
  // An item never straddles blocks: each block wastes less than one.
  EXPECT_GE(arena.bytes_reserved(), stored);
  const std::size_t blocks = arena.bytes_reserved() / BlockPool::kBlockSize;
  EXPECT_LT(arena.bytes_reserved(), stored + blocks * kb.size() + BlockPool::kBlockSize);
  EXPECT_EQ(pool.bytes_held(), arena.bytes_reserved());
}

TEST(ChunkArena, ClearedBlocksAreReusedNotMappedAgain) {
  BlockPool pool;
  ChunkArena a(pool);
  ChunkArena b(pool);
  const std::string kb(1000, 'k');
  for (int i = 0; i < 5000; ++i) static_cast<void>(a.store(kb, ""));
  const std::size_t held = pool.bytes_held();
  EXPECT_EQ(held, a.bytes_reserved());
  a.clear();
  EXPECT_EQ(a.bytes_reserved(), 0u);
  // Another arena of the same pool fills the same memory: nothing more is mapped.
  std::vector<std::pair<const char*, std::string>> stored;
  for (int i = 0; i < 5000; ++i) {
    const std::string id = std::to_string(i);
    stored.emplace_back(b.store(kb, id), kb + id);
  }
  EXPECT_LE(pool.bytes_held(), held + BlockPool::kBlockSize);
  for (const auto& [at, bytes] : stored) ASSERT_EQ(std::string(at, bytes.size()), bytes);
  // The cleared arena goes on in blocks of its own, not over b's.
  const char* again = a.store("again", "");
  EXPECT_EQ(std::string(again, 5), "again");
  for (const auto& [at, bytes] : stored) ASSERT_EQ(std::string(at, bytes.size()), bytes);
}

TEST(BlockPool, TrimUnmapsTheIdleBlocks) {
  BlockPool pool;
  ChunkArena a(pool);
  ChunkArena b(pool);
  const std::string kb(1000, 'k');
  for (int i = 0; i < 3000; ++i) static_cast<void>(a.store(kb, ""));
  const char* kept = b.store("kept", "");
  a.clear();
  pool.trim();
  EXPECT_EQ(pool.bytes_held(), b.bytes_reserved());
  EXPECT_EQ(std::string(kept, 4), "kept");
  EXPECT_EQ(std::string(a.store("on", ""), 2), "on");  // the pool maps again as needed
  EXPECT_EQ(pool.bytes_held(), a.bytes_reserved() + b.bytes_reserved());
}

TEST(ChunkArena, MovesLeaveAnEmptyUsableArena) {
  BlockPool pool;
  ChunkArena a(pool);
  const char* at = a.store("hello", "1");
  ChunkArena b(std::move(a));
  EXPECT_EQ(std::string(at, 6), "hello1");
  EXPECT_EQ(a.bytes_reserved(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty, usable
  const char* again = a.store("again", "");
  EXPECT_EQ(std::string(again, 5), "again");
  ChunkArena c(pool);
  c = std::move(b);
  EXPECT_EQ(std::string(at, 6), "hello1");
  EXPECT_EQ(b.bytes_reserved(), 0u);  // NOLINT(bugprone-use-after-move)
  c = ChunkArena(pool);               // gives back what c held
  EXPECT_EQ(c.bytes_reserved(), 0u);
}

TEST(ClientEvents, AddKeepsBodyAndIdTogether) {
  BlockPool pool;
  ClientEvents events(pool);
  events.add(42, R"({"a":1})", "e-1");
  events.add(7, R"({"b":2})", "e-2");
  ASSERT_EQ(events.events.size(), 2u);
  EXPECT_EQ(events.events[0].body(), R"({"a":1})");
  EXPECT_EQ(events.events[0].id(), "e-1");
  EXPECT_EQ(events.events[1].time_us, 7);
  EXPECT_EQ(events.body_bytes, 14u);
  EXPECT_TRUE(event_before(events.events[1], events.events[0]));
}

// Events with times spread over `span_us` (many sharing a time, and some a time and an id), sorted
// by sort_events and by std::sort with event_before: the same order, element for element.
void expect_sorted_like_std_sort(std::size_t n, std::int64_t span_us, std::uint32_t seed) {
  BlockPool pool;
  ClientEvents client(pool);
  std::uint64_t state = seed;
  const auto next = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 33;
  };
  const std::int64_t start = 1'795'000'000'000'000;  // an hour in 2026, in microseconds
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t t = start + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(span_us));
    const std::string id = "e-" + std::to_string(next() % (n / 2 + 1));
    client.add(t, R"({"i":)" + std::to_string(i) + "}", id);
  }
  std::vector<StoredEvent> expected = client.events;
  std::sort(expected.begin(), expected.end(), event_before);
  std::vector<StoredEvent> got = client.events;
  sort_events(got);
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].data, expected[i].data) << "n=" << n << " span=" << span_us << " at " << i;
  }
}

TEST(SortEvents, SameOrderAsEventBeforeAtEverySize) {
  for (const std::size_t n : {0UL, 1UL, 2UL, 255UL, 256UL, 257UL, 5000UL, 20000UL}) {
    expect_sorted_like_std_sort(n, 3'600'000'000LL, static_cast<std::uint32_t>(n));  // an hour
  }
}

TEST(SortEvents, ManyEqualTimesAreOrderedByIdThenBytes) {
  expect_sorted_like_std_sort(3000, 50, 7);  // ~60 events per microsecond
  expect_sorted_like_std_sort(3000, 1, 8);   // all at one time
}

TEST(SortEvents, TimesFartherApartThanAnHourStillSort) {
  expect_sorted_like_std_sort(3000, 2048, 9);                  // one pass
  expect_sorted_like_std_sort(3000, 4'000'000'000'000LL, 10);  // beyond three passes
  expect_sorted_like_std_sort(3000, 8'000'000'000LL, 11);      // three passes, top bits set
}

}  // namespace
}  // namespace es::exporter
