// LeasePool: lent objects come back for the next holder, and no more than the limit are lent at once.

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/lease_pool.h"

namespace es {
namespace {

TEST(LeasePool, AGivenBackObjectIsLentAgain) {
  LeasePool<std::string> pool(2);
  std::unique_ptr<std::string> first = pool.acquire();
  first->assign(1000, 'x');
  const std::string* address = first.get();
  pool.give_back(std::move(first));
  {
    const LeasePool<std::string>::Lease lease(pool);
    EXPECT_EQ(&*lease, address);
    EXPECT_EQ(lease->size(), 1000u);  // as it was given back: the holder reuses its memory
  }
  pool.clear_idle();
  const LeasePool<std::string>::Lease fresh(pool);
  EXPECT_TRUE(fresh->empty());
}

TEST(LeasePool, NoMoreThanTheLimitAreLentAtOnce) {
  constexpr int kLimit = 2;
  LeasePool<int> pool(kLimit);
  std::atomic<int> holding{0};
  std::atomic<int> most{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        const LeasePool<int>::Lease lease(pool);
        const int now = ++holding;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::sleep_for(std::chrono::microseconds(50));
        --holding;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(most.load(), kLimit);
  EXPECT_GE(most.load(), 1);
}

TEST(LeasePool, AnObjectGivenBackWithoutKeepingIsFreed) {
  LeasePool<std::string> pool(1);
  std::unique_ptr<std::string> item = pool.acquire();
  item->assign("kept?");
  pool.give_back(std::move(item), false);
  EXPECT_TRUE(pool.acquire()->empty());
}

}  // namespace
}  // namespace es
