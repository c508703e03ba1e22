#pragma once
/// Streaming decompression, the inverse of Compressor (core/encode.h): gzip through zlib's inflate,
/// zstd through ZSTD_decompressStream. Used by `eaglesense verify` to read objects back without
/// holding their decompressed bytes.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/encode.h"
#include "core/result.h"

namespace es {

/// A sink that decompresses what it receives and passes the result to a downstream sink in chunks
/// of up to 128 KiB. gzip: one or more concatenated gzip members (RFC 1952); zstd: one or more
/// concatenated frames. kNone passes bytes through unchanged. Output beyond max_output_bytes is an
/// error (a decompression bomb stops there).
class Decompressor : public OutputSink {
 public:
  /// downstream must outlive the Decompressor. Error kInternal if the library cannot initialize.
  [[nodiscard]] static Result<std::unique_ptr<Decompressor>> make(Compression compression,
                                                                  OutputSink& downstream,
                                                                  std::uint64_t max_output_bytes);

  /// Decompresses compressed (any split of the stream is fine). Error kInvalidData (operation
  /// "decompress") on corrupt data, data after the end of a member that is not another member, or
  /// output beyond max_output_bytes; any error of the downstream sink.
  [[nodiscard]] Status append(std::string_view compressed) override = 0;

  /// Checks that the stream ended at the end of a member/frame. Error kInvalidData when it was cut
  /// short (or was empty for gzip/zstd). Call once, after the last append().
  [[nodiscard]] virtual Status finish() = 0;

  /// Compressed bytes received and decompressed bytes sent downstream so far.
  [[nodiscard]] std::uint64_t bytes_in() const noexcept { return bytes_in_; }
  [[nodiscard]] std::uint64_t bytes_out() const noexcept { return bytes_out_; }

 protected:
  std::uint64_t bytes_in_ = 0;
  std::uint64_t bytes_out_ = 0;
};

/// Decompresses a whole buffer into a string (at most max_output_bytes). Errors as Decompressor.
[[nodiscard]] Result<std::string> decompress(Compression compression, std::string_view data,
                                             std::uint64_t max_output_bytes);

}  // namespace es
