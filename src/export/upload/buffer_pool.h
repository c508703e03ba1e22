#pragma once
/// The memory of the upload workers: a byte budget bounding what they hold at once, and the
/// buffers of finished objects and uploads, lent again to the next ones.

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "export/ports.h"
#include "s3/s3_types.h"

namespace es::exporter {

/// Bounds the bytes held at once by the upload workers. A request larger than the whole budget
/// takes all of it, so it still goes through, alone.
class ByteBudget {
 public:
  explicit ByteBudget(std::uint64_t capacity) : capacity_(std::max<std::uint64_t>(capacity, 1)) {}
  /// Blocks until bytes (capped at the capacity) are free; returns what was granted.
  std::uint64_t acquire(std::uint64_t bytes);
  void release(std::uint64_t granted);

 private:
  std::uint64_t capacity_;
  std::uint64_t used_ = 0;
  std::mutex mutex_;
  std::condition_variable available_cv_;
};

/// Encoded objects' buffers, handed back after their PUT for the next object: their pages are
/// already faulted in. A fresh multi-megabyte buffer per object cost a page fault (or its share of
/// a populate) per 4 KiB and an munmap afterwards: ~8 % of the exporter's CPU at 200,000 events.
/// Holds at most `capacity` idle bytes (the upload budget: what the objects in flight may hold
/// anyway); what does not fit is freed.
class BufferPool {
 public:
  explicit BufferPool(std::uint64_t capacity) : capacity_(capacity) {}
  /// An empty string with at least `bytes` reserved: the smallest idle buffer that fits, else a new one.
  [[nodiscard]] std::string take(std::size_t bytes);
  /// Keeps buffer's memory for a later take() if the pool has room.
  void give(std::string buffer);
  /// Capacity of the buffers held for a later take().
  [[nodiscard]] std::uint64_t idle_bytes();

 private:
  std::uint64_t capacity_;
  std::uint64_t idle_bytes_ = 0;
  std::vector<std::string> idle_;
  std::mutex mutex_;
};

/// An upload whose part buffer goes back to a BufferPool when it is destroyed.
struct GiveBackPartBuffer {
  BufferPool* pool = nullptr;
  void operator()(ObjectUpload* upload) const;
};
using PooledUpload = std::unique_ptr<ObjectUpload, GiveBackPartBuffer>;

/// Begins a streamed upload whose part buffer (part_size_bytes and room for the write that fills
/// a part) comes from buffers: one a finished upload gave back (16 MB faulted in again for every
/// client was a tenth of the exporter's CPU at 1,000,000 events), and goes back for the next one
/// however the upload ends.
[[nodiscard]] Result<PooledUpload> begin_pooled_upload(ObjectStore& store, BufferPool& buffers,
                                                       std::uint64_t part_size_bytes, std::string_view bucket,
                                                       std::string_view key, const s3::PutOptions& options);

}  // namespace es::exporter
