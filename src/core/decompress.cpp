#include "core/decompress.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>
#define ZLIB_CONST
#include <zlib.h>
#include <zstd.h>

namespace es {
namespace {

constexpr std::size_t kOutputChunkBytes = 128 * 1024;

Error corrupt(std::string message) {
  Error e = Error::invalid_data("object", std::move(message));
  e.operation = "decompress";
  return e;
}

/// Passes output on, counting it against the cap.
class CappedOutput {
 public:
  CappedOutput(OutputSink& out, std::uint64_t cap) : out_(out), cap_(cap) {}
  Status write(std::string_view bytes, std::uint64_t& total) {
    total += bytes.size();
    if (total > cap_) {
      return corrupt(fmt::format("decompressed size exceeds the limit of {} bytes", cap_));
    }
    return out_.append(bytes);
  }

 private:
  OutputSink& out_;
  std::uint64_t cap_;
};

class PassThrough final : public Decompressor {
 public:
  PassThrough(OutputSink& out, std::uint64_t cap) : out_(out, cap) {}
  Status append(std::string_view bytes) override {
    bytes_in_ += bytes.size();
    return out_.write(bytes, bytes_out_);
  }
  Status finish() override { return ok_status(); }

 private:
  CappedOutput out_;
};

class GzipDecompressor final : public Decompressor {
 public:
  GzipDecompressor(OutputSink& out, std::uint64_t cap) : out_(out, cap), buffer_(kOutputChunkBytes) {}
  ~GzipDecompressor() override {
    if (initialized_) inflateEnd(&zs_);
  }
  GzipDecompressor(const GzipDecompressor&) = delete;
  GzipDecompressor& operator=(const GzipDecompressor&) = delete;

  Status init() {
    // 15 + 16: a gzip wrapper only (no zlib or raw deflate), 32 KiB window.
    if (inflateInit2(&zs_, 15 + 16) != Z_OK) return Error::internal("gzip: inflateInit2 failed");
    initialized_ = true;
    return ok_status();
  }

  Status append(std::string_view bytes) override {
    bytes_in_ += bytes.size();
    while (!bytes.empty()) {
      if (member_done_) {
        // Another member follows the one that ended (RFC 1952 section 2.2).
        if (inflateReset(&zs_) != Z_OK) return Error::internal("gzip: inflateReset failed");
        member_done_ = false;
      }
      // avail_in is 32-bit: feed at most 1 GiB at a time.
      const std::size_t n = std::min<std::size_t>(bytes.size(), std::size_t{1} << 30);
      zs_.next_in = reinterpret_cast<const Bytef*>(bytes.data());
      zs_.avail_in = static_cast<uInt>(n);
      while (zs_.avail_in > 0 && !member_done_) {
        zs_.next_out = reinterpret_cast<Bytef*>(buffer_.data());
        zs_.avail_out = static_cast<uInt>(buffer_.size());
        const int rc = inflate(&zs_, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
          return corrupt(
              fmt::format("gzip: {} (zlib code {})", zs_.msg != nullptr ? zs_.msg : "corrupt data", rc));
        }
        const std::size_t produced = buffer_.size() - zs_.avail_out;
        if (produced > 0) ES_TRY(out_.write(std::string_view(buffer_.data(), produced), bytes_out_));
        if (rc == Z_STREAM_END) member_done_ = true;
        if (rc == Z_BUF_ERROR && produced == 0) break;  // needs more input
      }
      const std::size_t used = n - zs_.avail_in;
      if (used == 0 && !member_done_) return corrupt("gzip: inflate made no progress");
      bytes.remove_prefix(used);
      started_ = true;
    }
    return ok_status();
  }

  Status finish() override {
    if (!started_) return corrupt("gzip: empty stream");
    if (!member_done_) return corrupt("gzip: the stream is truncated (no end of member)");
    return ok_status();
  }

 private:
  CappedOutput out_;
  std::vector<char> buffer_;
  z_stream zs_{};
  bool initialized_ = false;
  bool member_done_ = false;
  bool started_ = false;
};

class ZstdDecompressor final : public Decompressor {
 public:
  ZstdDecompressor(OutputSink& out, std::uint64_t cap) : out_(out, cap), buffer_(ZSTD_DStreamOutSize()) {}
  ~ZstdDecompressor() override { ZSTD_freeDStream(stream_); }
  ZstdDecompressor(const ZstdDecompressor&) = delete;
  ZstdDecompressor& operator=(const ZstdDecompressor&) = delete;

  Status init() {
    stream_ = ZSTD_createDStream();
    if (stream_ == nullptr) return Error::internal("zstd: ZSTD_createDStream failed");
    if (ZSTD_isError(ZSTD_initDStream(stream_)) != 0U)
      return Error::internal("zstd: ZSTD_initDStream failed");
    return ok_status();
  }

  Status append(std::string_view bytes) override {
    bytes_in_ += bytes.size();
    ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
    bool pending = false;  // zstd may hold output that did not fit the buffer
    while (in.pos < in.size || pending) {
      ZSTD_outBuffer out{buffer_.data(), buffer_.size(), 0};
      const std::size_t rc = ZSTD_decompressStream(stream_, &out, &in);
      if (ZSTD_isError(rc) != 0U) return corrupt(fmt::format("zstd: {}", ZSTD_getErrorName(rc)));
      if (out.pos > 0) ES_TRY(out_.write(std::string_view(buffer_.data(), out.pos), bytes_out_));
      // 0: a frame ended and is flushed (another may follow; the same stream decodes it).
      frame_done_ = rc == 0;
      pending = rc != 0 && out.pos == out.size;
      started_ = true;
    }
    return ok_status();
  }

  Status finish() override {
    if (!started_) return corrupt("zstd: empty stream");
    if (!frame_done_) return corrupt("zstd: the stream is truncated (frame not complete)");
    return ok_status();
  }

 private:
  CappedOutput out_;
  std::vector<char> buffer_;
  ZSTD_DStream* stream_ = nullptr;
  bool frame_done_ = false;
  bool started_ = false;
};

}  // namespace

Result<std::unique_ptr<Decompressor>> Decompressor::make(Compression compression, OutputSink& downstream,
                                                         std::uint64_t max_output_bytes) {
  switch (compression) {
    case Compression::kNone:
      return std::unique_ptr<Decompressor>(std::make_unique<PassThrough>(downstream, max_output_bytes));
    case Compression::kGzip: {
      auto d = std::make_unique<GzipDecompressor>(downstream, max_output_bytes);
      ES_TRY(d->init());
      return std::unique_ptr<Decompressor>(std::move(d));
    }
    case Compression::kZstd: {
      auto d = std::make_unique<ZstdDecompressor>(downstream, max_output_bytes);
      ES_TRY(d->init());
      return std::unique_ptr<Decompressor>(std::move(d));
    }
  }
  return Error::internal("decompress: unknown compression");
}

Result<std::string> decompress(Compression compression, std::string_view data,
                               std::uint64_t max_output_bytes) {
  std::string out;
  StringSink sink(out);
  ES_ASSIGN_OR_RETURN(auto d, Decompressor::make(compression, sink, max_output_bytes));
  ES_TRY(d->append(data));
  ES_TRY(d->finish());
  return out;
}

}  // namespace es
