#include "export/upload/buffer_pool.h"

namespace es::exporter {

std::uint64_t ByteBudget::acquire(std::uint64_t bytes) {
  const std::uint64_t want = std::min(bytes, capacity_);
  std::unique_lock lock(mutex_);
  available_cv_.wait(lock, [&] { return used_ + want <= capacity_; });
  used_ += want;
  return want;
}

void ByteBudget::release(std::uint64_t granted) {
  {
    std::lock_guard lock(mutex_);
    used_ -= granted;
  }
  available_cv_.notify_all();
}

std::string BufferPool::take(std::size_t bytes) {
  std::string buffer;
  std::string dropped;  // freed outside the lock
  {
    std::lock_guard lock(mutex_);
    auto best = idle_.end();
    auto largest = idle_.end();
    for (auto it = idle_.begin(); it != idle_.end(); ++it) {
      if (it->capacity() >= bytes && (best == idle_.end() || it->capacity() < best->capacity())) best = it;
      if (largest == idle_.end() || it->capacity() > largest->capacity()) largest = it;
    }
    // None fits: the largest makes way for the new buffer, which would otherwise sit beside it.
    auto chosen = best != idle_.end() ? best : largest;
    if (chosen != idle_.end()) {
      idle_bytes_ -= chosen->capacity();
      (best != idle_.end() ? buffer : dropped) = std::move(*chosen);
      idle_.erase(chosen);
    }
  }
  buffer.reserve(bytes);
  return buffer;
}

void BufferPool::give(std::string buffer) {
  buffer.clear();
  std::lock_guard lock(mutex_);
  if (idle_bytes_ + buffer.capacity() > capacity_) return;  // the caller frees it, after the unlock
  idle_bytes_ += buffer.capacity();
  idle_.push_back(std::move(buffer));
}

std::uint64_t BufferPool::idle_bytes() {
  std::lock_guard lock(mutex_);
  return idle_bytes_;
}

void GiveBackPartBuffer::operator()(ObjectUpload* upload) const {
  if (upload != nullptr && pool != nullptr) pool->give(upload->take_buffer());
  delete upload;  // NOLINT(cppcoreguidelines-owning-memory): the deleter of a unique_ptr
}

Result<PooledUpload> begin_pooled_upload(ObjectStore& store, BufferPool& buffers,
                                         std::uint64_t part_size_bytes, std::string_view bucket,
                                         std::string_view key, const s3::PutOptions& options) {
  ES_ASSIGN_OR_RETURN(std::unique_ptr<ObjectUpload> upload, store.begin_upload(bucket, key, options));
  upload->lend_buffer(buffers.take(part_size_bytes + kPartChunkRoom));
  return PooledUpload(upload.release(), GiveBackPartBuffer{&buffers});
}

}  // namespace es::exporter
