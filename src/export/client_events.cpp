#include "export/client_events.h"

#include <algorithm>
#include <cstring>

namespace es::exporter {
namespace {
constexpr std::size_t kFirstBlock = 16 << 10;
constexpr std::size_t kMaxBlock = 64 << 10;
}  // namespace

const char* ChunkArena::store(std::string_view a, std::string_view b) {
  const std::size_t n = a.size() + b.size();
  if (used_ + n > capacity_) {
    // Blocks double up to kMaxBlock (small clients stay small); an item larger than that gets its own.
    const std::size_t next = blocks_.empty() ? kFirstBlock : std::min(capacity_ * 2, kMaxBlock);
    capacity_ = std::max(next, n);
    blocks_.push_back(std::make_unique_for_overwrite<char[]>(capacity_));
    reserved_ += capacity_;
    used_ = 0;
  }
  char* dst = blocks_.back().get() + used_;
  std::memcpy(dst, a.data(), a.size());
  std::memcpy(dst + a.size(), b.data(), b.size());
  used_ += n;
  return dst;
}

}  // namespace es::exporter
