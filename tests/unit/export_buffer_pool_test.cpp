// BufferPool: buffers come back with their memory, the best fit is lent, and no more than the
// capacity is kept idle.

#include <string>

#include <gtest/gtest.h>

#include "export/upload_stage.h"

namespace es::exporter {
namespace {

TEST(BufferPool, AGivenBufferIsLentAgainEmptyWithItsMemory) {
  BufferPool pool(1 << 20);
  std::string first = pool.take(4096);
  EXPECT_TRUE(first.empty());
  EXPECT_GE(first.capacity(), 4096u);
  first.assign(3000, 'x');
  const char* memory = first.data();
  pool.give(std::move(first));
  std::string again = pool.take(2000);
  EXPECT_TRUE(again.empty());
  EXPECT_EQ(again.data(), memory);  // the same allocation, not a fresh one
}

TEST(BufferPool, LendsTheSmallestBufferThatFits) {
  BufferPool pool(1 << 20);
  std::string small = pool.take(10'000);
  std::string large = pool.take(100'000);
  const char* small_memory = small.data();
  const char* large_memory = large.data();
  pool.give(std::move(large));
  pool.give(std::move(small));
  EXPECT_EQ(pool.take(5'000).data(), small_memory);
  EXPECT_EQ(pool.take(50'000).data(), large_memory);
}

TEST(BufferPool, ABufferTooSmallIsNotLentAndALargerOneIsMade) {
  BufferPool pool(1 << 20);
  std::string small = pool.take(1'000);
  pool.give(std::move(small));
  const std::string big = pool.take(200'000);
  EXPECT_TRUE(big.empty());
  EXPECT_GE(big.capacity(), 200'000u);
}

TEST(BufferPool, KeepsNoMoreIdleBytesThanItsCapacity) {
  BufferPool pool(150'000);
  std::string a = pool.take(100'000);
  std::string b = pool.take(100'000);
  const std::size_t a_capacity = a.capacity();
  pool.give(std::move(a));
  EXPECT_EQ(pool.idle_bytes(), a_capacity);
  pool.give(std::move(b));  // would make ~200,000 idle bytes: freed instead
  EXPECT_EQ(pool.idle_bytes(), a_capacity);
  static_cast<void>(pool.take(100'000));
  EXPECT_EQ(pool.idle_bytes(), 0u);
}

}  // namespace
}  // namespace es::exporter
