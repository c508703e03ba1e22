#pragma once
/// Object bytes for one client's hour: format writers (json, ndjson, csv) and streaming compression
/// (none, gzip, zstd). Output is deterministic: the same events in the same order give the same bytes
/// (no timestamps or host data in compressed headers).

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/output_format.h"
#include "core/result.h"

namespace es {

/// Receives output bytes in order. Implementations: StringSink here; uploads and files elsewhere.
class OutputSink {
 public:
  virtual ~OutputSink() = default;
  /// Appends bytes (only valid during the call: copy what you keep). An error aborts the writer.
  [[nodiscard]] virtual Status append(std::string_view bytes) = 0;
  /// True when small appends cost the sink no more than large ones (it copies them into memory it
  /// owns), so writers need not gather them into chunks first. Default false.
  [[nodiscard]] virtual bool takes_small_writes() const noexcept { return false; }
};

/// Appends to a caller-owned std::string (which must outlive the sink). Never fails.
/// When the string has room reserved, the sink faults it in ahead of the copies, 1 MiB at a time
/// with one madvise(MADV_POPULATE_WRITE) instead of 256 page faults (objects are the second largest
/// memory an hour touches, after its events).
class StringSink final : public OutputSink {
 public:
  explicit StringSink(std::string& out) noexcept : out_(out) {}
  [[nodiscard]] Status append(std::string_view bytes) override {
    if (out_.size() + bytes.size() > populated_ || out_.data() != populated_data_) populate(bytes.size());
    out_.append(bytes);
    return ok_status();
  }
  [[nodiscard]] bool takes_small_writes() const noexcept override { return true; }

 private:
  void populate(std::size_t incoming) noexcept;

  std::string& out_;
  const char* populated_data_ = nullptr;  ///< the buffer populated_ refers to
  std::size_t populated_ = 0;             ///< bytes of that buffer faulted in (or not worth it)
};

/// A sink that compresses what it receives and writes the result to a downstream sink as it goes
/// (in chunks of up to 128 KiB). gzip: zlib deflate with a gzip header whose mtime is 0, with no
/// file name and OS byte 3 (Unix) on every platform; zstd: one frame with a content checksum,
/// single-threaded. kNone passes bytes through unchanged.
class Compressor : public OutputSink {
 public:
  /// Default levels: gzip 6, zstd 3.
  static constexpr int kDefaultLevel = -1;

  /// downstream must outlive the Compressor. level: gzip 1..9, zstd 1..19, or kDefaultLevel.
  /// Error kInvalidArgument for a level out of range; kInternal if the library cannot initialize.
  [[nodiscard]] static Result<std::unique_ptr<Compressor>> make(Compression compression,
                                                                OutputSink& downstream,
                                                                int level = kDefaultLevel);

  /// Writes the end of the stream (gzip trailer, zstd epilogue) and flushes everything downstream.
  /// Call exactly once, after the last append(); appending afterwards is an error.
  [[nodiscard]] virtual Status finish() = 0;

  /// Uncompressed bytes received and compressed bytes sent downstream so far.
  [[nodiscard]] std::uint64_t bytes_in() const noexcept { return bytes_in_; }
  [[nodiscard]] std::uint64_t bytes_out() const noexcept { return bytes_out_; }

 protected:
  std::uint64_t bytes_in_ = 0;
  std::uint64_t bytes_out_ = 0;
};

/// The csv columns of a set of events: every top-level attribute name, sorted bytewise. Feed it
/// every event of the object (any order), then take() the columns for an EventWriter.
class CsvColumns {
 public:
  CsvColumns();
  ~CsvColumns();
  CsvColumns(const CsvColumns&) = delete;
  CsvColumns& operator=(const CsvColumns&) = delete;
  /// Error kInvalidData when event is not a JSON object.
  [[nodiscard]] Status add(std::string_view event);
  [[nodiscard]] std::vector<std::string> take();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Writes events one at a time, already sorted, in a format (the streaming form of encode_events,
/// for objects too large to hold their events in one span). csv needs its columns up front (see
/// CsvColumns); with zero events a csv object is empty and a json object is "[]\n".
class EventWriter {
 public:
  /// out must outlive the writer.
  EventWriter(OutputFormat format, OutputSink& out, std::vector<std::string> csv_columns = {});
  ~EventWriter();
  EventWriter(const EventWriter&) = delete;
  EventWriter& operator=(const EventWriter&) = delete;
  /// Error kInvalidData (csv) when the event is not an object or has a column not announced.
  [[nodiscard]] Status add(std::string_view event);
  /// Writes the closing bytes and flushes. Call once.
  [[nodiscard]] Status finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Writes events (each one compact plain JSON object, as PageDecoder produces, already sorted) in
/// the given format to out, uncompressed, in chunks of about 64 KiB.
/// csv: one column per top-level attribute present in any event, sorted bytewise, with a header
/// row; strings are written raw (unescaped), numbers with their digits, null as an empty field,
/// booleans as true/false, objects and arrays as their compact JSON text; a field containing ',',
/// '"', CR or LF is quoted with '"' doubled; rows end with CRLF. An absent attribute is an empty
/// field. csv reads each event twice (column set first) and parses it with simdjson.
/// Error kInvalidData (csv only) when an event is not a JSON object; any error of out.
[[nodiscard]] Status encode_events(OutputFormat format, std::span<const std::string_view> events,
                                   OutputSink& out);

/// How far ahead of the event being written a writer prefetches: events in output order lie
/// scattered over the readers' arenas, each one a cache miss.
inline constexpr std::size_t kPrefetchAhead = 8;
inline void prefetch_event(std::string_view event) noexcept {
  for (std::size_t off = 0; off < event.size(); off += 64) __builtin_prefetch(event.data() + off);
}

/// encode_events through a Compressor: the complete object bytes, written to out.
[[nodiscard]] Status encode_object(OutputFormat format, Compression compression,
                                   std::span<const std::string_view> events, OutputSink& out,
                                   int level = Compressor::kDefaultLevel);

}  // namespace es
