#include "export/client_events.h"

#include <algorithm>
#include <cstring>
#include <new>

#include <sys/mman.h>

#include "core/memory.h"

namespace es::exporter {
void sort_events(std::vector<StoredEvent>& events) {
  constexpr std::size_t kSmall = 256;  // below this std::sort wins
  constexpr int kDigitBits = 11;
  constexpr std::size_t kBuckets = std::size_t{1} << kDigitBits;
  const std::size_t n = events.size();
  if (n < kSmall) {
    std::sort(events.begin(), events.end(), event_before);
    return;
  }
  const auto [lo, hi] = std::minmax_element(
      events.begin(), events.end(), [](const auto& a, const auto& b) { return a.time_us < b.time_us; });
  const std::int64_t base = lo->time_us;
  const auto range = static_cast<std::uint64_t>(hi->time_us) - static_cast<std::uint64_t>(base);
  int passes = 0;
  while (passes * kDigitBits < 64 && (range >> (passes * kDigitBits)) != 0) ++passes;
  if (passes > 3) {  // times more than 2^33 us (2.4 hours) apart: not one hour's events
    std::sort(events.begin(), events.end(), event_before);
    return;
  }
  std::vector<StoredEvent> scratch(n);
  std::vector<StoredEvent>* from = &events;
  std::vector<StoredEvent>* to = &scratch;
  std::vector<std::size_t> count(kBuckets);
  for (int pass = 0; pass < passes; ++pass) {
    const int shift = pass * kDigitBits;
    const auto digit = [&](const StoredEvent& e) {
      return static_cast<std::size_t>(
          ((static_cast<std::uint64_t>(e.time_us) - static_cast<std::uint64_t>(base)) >> shift) &
          (kBuckets - 1));
    };
    std::fill(count.begin(), count.end(), 0);
    for (const StoredEvent& e : *from) ++count[digit(e)];
    std::size_t at = 0;
    for (std::size_t& c : count) at += std::exchange(c, at);
    for (const StoredEvent& e : *from) (*to)[count[digit(e)]++] = e;
    std::swap(from, to);
  }
  if (from != &events) events.swap(scratch);
  // Equal times (rare at microsecond resolution) in id, then byte order.
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i + 1;
    while (j < n && events[j].time_us == events[i].time_us) ++j;
    if (j - i > 1) {
      std::sort(events.begin() + static_cast<std::ptrdiff_t>(i),
                events.begin() + static_cast<std::ptrdiff_t>(j), event_before);
    }
    i = j;
  }
}

BlockPool::~BlockPool() {
  // munmap of a range with holes (blocks trimmed away) is fine.
  for (char* r : regions_) munmap(r, kRegionSize);
}

BlockPool::Block BlockPool::take() {
  std::lock_guard lock(mutex_);
  if (!free_.empty()) {
    char* b = free_.back();
    free_.pop_back();
    return {b, false};
  }
  if (carved_ == kRegionSize) {
    regions_.reserve(regions_.size() + 1);  // so that nothing below throws once the region is mapped
    // Address space: the blocks are faulted in as they are filled. (Huge pages, tried, cost more
    // here than the faults they save: the kernel compacts memory to find them.)
    void* p = mmap(nullptr, kRegionSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    regions_.push_back(static_cast<char*>(p));
    carved_ = 0;
  }
  char* b = regions_.back() + carved_;
  carved_ += kBlockSize;
  held_ += kBlockSize;
  return {b, true};
}

void BlockPool::give(char* block) {
  std::lock_guard lock(mutex_);
  free_.push_back(block);
}

void BlockPool::trim() {
  std::lock_guard lock(mutex_);
  std::sort(free_.begin(), free_.end());
  for (std::size_t i = 0; i < free_.size();) {
    std::size_t j = i + 1;
    while (j < free_.size() && free_[j] == free_[j - 1] + kBlockSize) ++j;
    munmap(free_[i], (j - i) * kBlockSize);
    held_ -= (j - i) * kBlockSize;
    i = j;
  }
  free_.clear();
}

std::size_t BlockPool::bytes_held() const {
  std::lock_guard lock(mutex_);
  return held_;
}

void ChunkArena::clear() noexcept {
  for (char* b : blocks_) pool_->give(b);
  blocks_.clear();
  for (const auto& [data, size] : own_) munmap(data, size);
  own_.clear();
  used_ = BlockPool::kBlockSize;
  populated_ = BlockPool::kBlockSize;
}

const char* ChunkArena::store(std::string_view a, std::string_view b) {
  const std::size_t n = a.size() + b.size();
  char* dst = nullptr;
  if (n > BlockPool::kBlockSize) {
    const std::size_t size = (n + 4095) & ~std::size_t{4095};
    own_.reserve(own_.size() + 1);
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    own_.emplace_back(static_cast<char*>(p), size);
    dst = static_cast<char*>(p);
  } else {
    if (used_ + n > BlockPool::kBlockSize) {
      blocks_.reserve(blocks_.size() + 1);
      const BlockPool::Block block = pool_->take();
      blocks_.push_back(block.data);
      used_ = 0;
      populated_ = block.fresh ? 0 : BlockPool::kBlockSize;
    }
    if (used_ + n > populated_) {
      // Fault in 16 KiB at a time, ahead of the copies, with one madvise() instead of four page
      // faults; further ahead would leave more of each client's last block resident for nothing.
      constexpr std::size_t kStep = 16 << 10;
      const std::size_t upto = std::min(BlockPool::kBlockSize, (used_ + n + kStep - 1) / kStep * kStep);
      populate_for_write(blocks_.back() + populated_, upto - populated_);
      populated_ = upto;
    }
    dst = blocks_.back() + used_;
    used_ += n;
  }
  std::memcpy(dst, a.data(), a.size());
  std::memcpy(dst + a.size(), b.data(), b.size());
  return dst;
}

}  // namespace es::exporter
