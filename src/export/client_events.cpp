#include "export/client_events.h"

#include <algorithm>
#include <cstring>
#include <new>

#include <sys/mman.h>

#include "core/memory.h"

namespace es::exporter {
namespace {
// Blocks are address space until written (they are faulted in just ahead of the copies), so they can
// be large: what costs is the mmap and, above all, the munmap of each one, which stops every core
// running the process to flush its TLB (~40 us a call on this VM; 1,000 calls, 7 % of the CPU of a
// 200,000-event hour, when blocks doubled from 16 KiB). From 1 MiB growing fourfold, most arenas are
// one or two blocks.
constexpr std::size_t kFirstBlock = 1 << 20;
constexpr std::size_t kMaxBlock = 16 << 20;
// Fault in a block 16 KiB at a time, ahead of the copies, with one madvise() instead of four page
// faults: the arenas are most of the memory an hour touches, and their page faults were ~8 % of the
// exporter's CPU. Further ahead would leave untouched tails resident (each reader keeps one arena per
// client).
constexpr std::size_t kPopulateStep = 16 << 10;
}  // namespace

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

void ChunkArena::Unmap::operator()(char* p) const noexcept {
  if (p != nullptr) munmap(p, size);
}

const char* ChunkArena::store(std::string_view a, std::string_view b) {
  const std::size_t n = a.size() + b.size();
  if (used_ + n > capacity_) {
    // Blocks grow fourfold up to kMaxBlock; an item larger than that gets its own.
    const std::size_t next = blocks_.empty() ? kFirstBlock : std::min(capacity_ * 4, kMaxBlock);
    const std::size_t size = round_to_page(std::max(next, n));
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    full_blocks_ += capacity_;
    blocks_.emplace_back(static_cast<char*>(p), Unmap{size});
    capacity_ = size;
    used_ = 0;
    populated_ = 0;
  }
  if (used_ + n > populated_) {
    const std::size_t upto =
        std::min(capacity_, (used_ + n + kPopulateStep - 1) / kPopulateStep * kPopulateStep);
    populate_for_write(blocks_.back().get() + populated_, upto - populated_);
    populated_ = upto;
  }
  char* dst = blocks_.back().get() + used_;
  std::memcpy(dst, a.data(), a.size());
  std::memcpy(dst + a.size(), b.data(), b.size());
  used_ += n;
  return dst;
}

}  // namespace es::exporter
