#pragma once
/// Where an encoded object's bytes go on their way out: an upload, hashed and counted.

#include <cstdint>
#include <string_view>

#include "core/encode.h"
#include "core/hash.h"
#include "core/result.h"
#include "export/ports.h"

namespace es::exporter {

/// Passes bytes on to an upload (or nowhere, in a dry run), hashing and counting them.
class ObjectSink final : public OutputSink {
 public:
  explicit ObjectSink(ObjectUpload* upload) : upload_(upload) {}
  Status append(std::string_view bytes) override {
    hash_.update(bytes);
    size_ += bytes.size();
    return upload_ != nullptr ? upload_->write(bytes) : ok_status();
  }
  /// Hashing alone takes the writer's pieces as they come: gathering them into chunks first was a
  /// copy of every event (scattered in memory, so cache misses) for nothing.
  [[nodiscard]] bool takes_small_writes() const noexcept override { return upload_ == nullptr; }
  Sha256Digest digest() { return hash_.finish(); }
  [[nodiscard]] std::uint64_t size() const { return size_; }

 private:
  ObjectUpload* upload_;
  Sha256 hash_;
  std::uint64_t size_ = 0;
};

}  // namespace es::exporter
