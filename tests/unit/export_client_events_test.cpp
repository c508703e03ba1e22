// ChunkArena: what it stores stays put and intact; memory accounting; moves.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "export/client_events.h"

namespace es::exporter {
namespace {

TEST(ChunkArena, StoredBytesStayPutAcrossManyBlocks) {
  ChunkArena arena;
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
  ChunkArena arena;
  const std::string big(20 << 20, 'b');  // past the largest block (16 MiB)
  const char* small = arena.store("s", "1");
  const char* at = arena.store(big, "id");
  EXPECT_EQ(std::string(at, big.size()), big);
  EXPECT_EQ(std::string(at + big.size(), 2), "id");
  EXPECT_EQ(std::string(small, 2), "s1");
}

TEST(ChunkArena, BytesReservedCountsTouchedPagesNotTheUnusedTail) {
  ChunkArena arena;
  EXPECT_EQ(arena.bytes_reserved(), 0u);
  static_cast<void>(arena.store("x", ""));
  EXPECT_GE(arena.bytes_reserved(), 4096u);
  EXPECT_LE(arena.bytes_reserved(), 16384u);  // faulted in ahead, 16 KiB at a time
  const std::string kb(1000, 'k');
  std::size_t stored = 1;
  while (stored < (3 << 20)) {
    static_cast<void>(arena.store(kb, ""));
    stored += kb.size();
  }
  // Blocks grow from 1 MiB: what is held is the bytes stored plus less than an item per block
  // (an item never straddles blocks) and what is faulted in ahead, never the rest of the last block.
  EXPECT_GE(arena.bytes_reserved(), stored);
  EXPECT_LT(arena.bytes_reserved(), stored + 16 * kb.size() + (16 << 10));
}

TEST(ChunkArena, MovesLeaveAnEmptyUsableArena) {
  ChunkArena a;
  const char* at = a.store("hello", "1");
  ChunkArena b(std::move(a));
  EXPECT_EQ(std::string(at, 6), "hello1");
  EXPECT_EQ(a.bytes_reserved(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty, usable
  const char* again = a.store("again", "");
  EXPECT_EQ(std::string(again, 5), "again");
  ChunkArena c;
  c = std::move(b);
  EXPECT_EQ(std::string(at, 6), "hello1");
  EXPECT_EQ(b.bytes_reserved(), 0u);  // NOLINT(bugprone-use-after-move)
  c = ChunkArena{};                   // unmaps what c held
  EXPECT_EQ(c.bytes_reserved(), 0u);
}

TEST(ClientEvents, AddKeepsBodyAndIdTogether) {
  ClientEvents events;
  events.add(42, R"({"a":1})", "e-1");
  events.add(7, R"({"b":2})", "e-2");
  ASSERT_EQ(events.events.size(), 2u);
  EXPECT_EQ(events.events[0].body(), R"({"a":1})");
  EXPECT_EQ(events.events[0].id(), "e-1");
  EXPECT_EQ(events.events[1].time_us, 7);
  EXPECT_EQ(events.body_bytes, 14u);
  EXPECT_TRUE(event_before(events.events[1], events.events[0]));
}

}  // namespace
}  // namespace es::exporter
