#include "core/encode.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <semaphore>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#define ZLIB_CONST
#include <simdjson.h>
#include <zlib.h>
#include <zstd.h>

#include "core/memory.h"

namespace es {
namespace {

constexpr std::size_t kChunkBytes = 64 * 1024;
constexpr std::size_t kCompressedChunkBytes = 128 * 1024;

// Collects small writes into ~64 KiB chunks so that compressors and uploads see few large calls; a
// sink that takes small writes as cheaply (an object in memory) gets them directly, one copy less.
class ChunkWriter {
 public:
  explicit ChunkWriter(OutputSink& out) : out_(out), direct_(out.takes_small_writes()) {
    if (!direct_) buffer_.reserve(kChunkBytes + 4096);
  }
  Status append(std::string_view bytes) {
    if (direct_) return out_.append(bytes);
    if (buffer_.size() + bytes.size() > kChunkBytes && !buffer_.empty()) ES_TRY(flush());
    if (bytes.size() >= kChunkBytes) return out_.append(bytes);
    buffer_.append(bytes);
    return ok_status();
  }
  Status flush() {
    if (buffer_.empty()) return ok_status();
    Status st = out_.append(buffer_);
    buffer_.clear();
    return st;
  }
  std::string& buffer() { return buffer_; }

 private:
  OutputSink& out_;
  const bool direct_;
  std::string buffer_;
};

// ---- csv ---------------------------------------------------------------------------------------------

void append_csv_field(std::string& out, std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(field);
    return;
  }
  out += '"';
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

// Parses one event (compact plain JSON object) with simdjson On-Demand: numbers stay raw tokens, so
// integers beyond 64 bits keep their digits.
class EventParser {
 public:
  Status parse(std::string_view event, std::size_t index, simdjson::ondemand::object& obj) {
    padded_.assign(event);
    padded_.reserve(event.size() + simdjson::SIMDJSON_PADDING);
    const simdjson::padded_string_view in(padded_.data(), padded_.size(), padded_.capacity());
    if (parser_.iterate(in).get(doc_) != simdjson::SUCCESS ||
        doc_.get_object().get(obj) != simdjson::SUCCESS) {
      return bad_event(index);
    }
    return ok_status();
  }

  static Error bad_event(std::size_t index) {
    return Error::invalid_data("event #" + std::to_string(index), "csv: the event is not a JSON object")
        .with_context("encode.csv");
  }

 private:
  simdjson::ondemand::parser parser_;
  simdjson::ondemand::document doc_;
  std::string padded_;
};

bool cell_text(simdjson::ondemand::value value, std::string& cell) {
  simdjson::ondemand::json_type type;
  if (value.type().get(type) != simdjson::SUCCESS) return false;
  std::string_view text;
  switch (type) {
    case simdjson::ondemand::json_type::string:
      if (value.get_string().get(text) != simdjson::SUCCESS) return false;
      break;
    case simdjson::ondemand::json_type::number:
    case simdjson::ondemand::json_type::boolean:
      // The token as written: a number keeps its exact digits. raw_json_token() runs up to the
      // next token, so whitespace after it is trimmed.
      text = value.raw_json_token();
      while (!text.empty() &&
             (text.back() == ' ' || text.back() == '\n' || text.back() == '\r' || text.back() == '\t')) {
        text.remove_suffix(1);
      }
      break;
    case simdjson::ondemand::json_type::null:
      return true;
    case simdjson::ondemand::json_type::object: {
      simdjson::ondemand::object o;
      if (value.get_object().get(o) != simdjson::SUCCESS || o.raw_json().get(text) != simdjson::SUCCESS) {
        return false;
      }
      break;
    }
    case simdjson::ondemand::json_type::array: {
      simdjson::ondemand::array a;
      if (value.get_array().get(a) != simdjson::SUCCESS || a.raw_json().get(text) != simdjson::SUCCESS) {
        return false;
      }
      break;
    }
  }
  cell.assign(text);
  return true;
}

}  // namespace

struct CsvColumns::Impl {
  EventParser parser;
  std::vector<std::string> columns;  // sorted bytewise
  std::size_t seen = 0;
};

CsvColumns::CsvColumns() : impl_(std::make_unique<Impl>()) {}
CsvColumns::~CsvColumns() = default;

Status CsvColumns::add(std::string_view event) {
  simdjson::ondemand::object obj;
  ES_TRY(impl_->parser.parse(event, impl_->seen++, obj));
  auto& columns = impl_->columns;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return EventParser::bad_event(impl_->seen - 1);
    auto it = std::lower_bound(columns.begin(), columns.end(), key);
    if (it == columns.end() || *it != key) columns.insert(it, std::string(key));
  }
  return ok_status();
}

std::vector<std::string> CsvColumns::take() {
  return std::move(impl_->columns);
}

struct EventWriter::Impl {
  Impl(OutputFormat f, OutputSink& out, std::vector<std::string> cols)
      : format(f), writer(out), columns(std::move(cols)) {}
  OutputFormat format;
  ChunkWriter writer;
  std::vector<std::string> columns;
  std::vector<std::string> cells;
  std::string line;
  EventParser parser;
  std::size_t count = 0;

  Status add_csv_row(std::string_view event) {
    if (count == 0) {
      line.clear();
      for (std::size_t c = 0; c < columns.size(); ++c) {
        if (c != 0) line += ',';
        append_csv_field(line, columns[c]);
      }
      line += "\r\n";
      ES_TRY(writer.append(line));
      cells.resize(columns.size());
    }
    for (std::string& cell : cells) cell.clear();
    simdjson::ondemand::object obj;
    ES_TRY(parser.parse(event, count, obj));
    for (auto field : obj) {
      std::string_view key;
      simdjson::ondemand::value value;
      if (field.unescaped_key().get(key) != simdjson::SUCCESS ||
          field.value().get(value) != simdjson::SUCCESS) {
        return EventParser::bad_event(count);
      }
      const auto it = std::lower_bound(columns.begin(), columns.end(), key);
      if (it == columns.end() || *it != key) return EventParser::bad_event(count);
      std::string& cell = cells[static_cast<std::size_t>(it - columns.begin())];
      if (!cell_text(value, cell)) return EventParser::bad_event(count);
    }
    line.clear();
    for (std::size_t c = 0; c < cells.size(); ++c) {
      if (c != 0) line += ',';
      append_csv_field(line, cells[c]);
    }
    line += "\r\n";
    return writer.append(line);
  }
};

EventWriter::EventWriter(OutputFormat format, OutputSink& out, std::vector<std::string> csv_columns)
    : impl_(std::make_unique<Impl>(format, out, std::move(csv_columns))) {}
EventWriter::~EventWriter() = default;

Status EventWriter::add(std::string_view event) {
  Impl& w = *impl_;
  switch (w.format) {
    case OutputFormat::kCsv:
      ES_TRY(w.add_csv_row(event));
      break;
    case OutputFormat::kJson:
      ES_TRY(w.writer.append(w.count == 0 ? std::string_view("[\n") : std::string_view(",\n")));
      ES_TRY(w.writer.append(event));
      break;
    case OutputFormat::kNdjson:
      ES_TRY(w.writer.append(event));
      ES_TRY(w.writer.append("\n"));
      break;
  }
  ++w.count;
  return ok_status();
}

Status EventWriter::finish() {
  Impl& w = *impl_;
  if (w.format == OutputFormat::kJson) ES_TRY(w.writer.append(w.count == 0 ? "[]\n" : "\n]\n"));
  return w.writer.flush();
}

namespace {

// ---- compressors -------------------------------------------------------------------------------------

class PassThrough final : public Compressor {
 public:
  explicit PassThrough(OutputSink& out) : out_(out) {}
  Status append(std::string_view bytes) override {
    if (finished_) return Error::internal("compressor: append after finish");
    bytes_in_ += bytes.size();
    bytes_out_ += bytes.size();
    return out_.append(bytes);
  }
  [[nodiscard]] bool takes_small_writes() const noexcept override { return out_.takes_small_writes(); }
  Status finish() override {
    if (finished_) return Error::internal("compressor: finish called twice");
    finished_ = true;
    return ok_status();
  }

 private:
  OutputSink& out_;
  bool finished_ = false;
};

class GzipCompressor final : public Compressor {
 public:
  explicit GzipCompressor(OutputSink& out) : out_(out), buffer_(kCompressedChunkBytes) {}
  ~GzipCompressor() override {
    if (initialized_) deflateEnd(&zs_);
  }
  GzipCompressor(const GzipCompressor&) = delete;
  GzipCompressor& operator=(const GzipCompressor&) = delete;

  Status init(int level) {
    if (deflateInit2(&zs_, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      return Error::internal("gzip: deflateInit2 failed");
    }
    initialized_ = true;
    // Fixed header fields so that the bytes do not depend on the clock or the platform.
    header_.time = 0;
    header_.os = 3;
    if (deflateSetHeader(&zs_, &header_) != Z_OK) return Error::internal("gzip: deflateSetHeader failed");
    return ok_status();
  }

  Status append(std::string_view bytes) override {
    if (finished_) return Error::internal("compressor: append after finish");
    bytes_in_ += bytes.size();
    while (!bytes.empty()) {
      // avail_in is 32-bit: feed at most 1 GiB at a time.
      const std::size_t n = std::min<std::size_t>(bytes.size(), std::size_t{1} << 30);
      zs_.next_in = reinterpret_cast<const Bytef*>(bytes.data());
      zs_.avail_in = static_cast<uInt>(n);
      while (zs_.avail_in > 0) ES_TRY(step(Z_NO_FLUSH));
      bytes.remove_prefix(n);
    }
    return ok_status();
  }

  Status finish() override {
    if (finished_) return Error::internal("compressor: finish called twice");
    finished_ = true;
    zs_.next_in = nullptr;
    zs_.avail_in = 0;
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
      ES_TRY(step(Z_FINISH, &rc));
    }
    return ok_status();
  }

 private:
  Status step(int flush, int* rc_out = nullptr) {
    zs_.next_out = reinterpret_cast<Bytef*>(buffer_.data());
    zs_.avail_out = static_cast<uInt>(buffer_.size());
    const int rc = deflate(&zs_, flush);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      return Error::internal("gzip: deflate failed with code " + std::to_string(rc));
    }
    if (rc_out != nullptr) *rc_out = rc;
    const std::size_t produced = buffer_.size() - zs_.avail_out;
    if (produced == 0) return ok_status();
    bytes_out_ += produced;
    return out_.append(std::string_view(buffer_.data(), produced));
  }

  OutputSink& out_;
  std::vector<char> buffer_;
  z_stream zs_{};
  gz_header header_{};
  bool initialized_ = false;
  bool finished_ = false;
};

class ZstdCompressor final : public Compressor {
 public:
  explicit ZstdCompressor(OutputSink& out) : out_(out), buffer_(kCompressedChunkBytes) {}

  Status init(int level) {
    cctx_.reset(ZSTD_createCCtx());
    if (!cctx_) return Error::internal("zstd: ZSTD_createCCtx failed");
    if (ZSTD_isError(ZSTD_CCtx_setParameter(cctx_.get(), ZSTD_c_compressionLevel, level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cctx_.get(), ZSTD_c_checksumFlag, 1))) {
      return Error::internal("zstd: setting parameters failed");
    }
    return ok_status();
  }

  Status append(std::string_view bytes) override {
    if (finished_) return Error::internal("compressor: append after finish");
    bytes_in_ += bytes.size();
    ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
    while (in.pos < in.size) ES_TRY(step(in, ZSTD_e_continue).status);
    return ok_status();
  }

  Status finish() override {
    if (finished_) return Error::internal("compressor: finish called twice");
    finished_ = true;
    ZSTD_inBuffer in{nullptr, 0, 0};
    for (;;) {
      StepResult r = step(in, ZSTD_e_end);
      ES_TRY(r.status);
      if (r.remaining == 0) return ok_status();
    }
  }

 private:
  struct StepResult {
    Status status;
    std::size_t remaining = 0;
  };

  StepResult step(ZSTD_inBuffer& in, ZSTD_EndDirective directive) {
    ZSTD_outBuffer out{buffer_.data(), buffer_.size(), 0};
    const std::size_t rc = ZSTD_compressStream2(cctx_.get(), &out, &in, directive);
    if (ZSTD_isError(rc)) {
      return {Error::internal(std::string("zstd: ") + ZSTD_getErrorName(rc)), 0};
    }
    if (out.pos > 0) {
      bytes_out_ += out.pos;
      Status st = out_.append(std::string_view(buffer_.data(), out.pos));
      if (!st.ok()) return {std::move(st), rc};
    }
    return {ok_status(), rc};
  }

  struct CctxFree {
    void operator()(ZSTD_CCtx* c) const noexcept { ZSTD_freeCCtx(c); }
  };
  OutputSink& out_;
  std::vector<char> buffer_;
  std::unique_ptr<ZSTD_CCtx, CctxFree> cctx_;
  bool finished_ = false;
};

}  // namespace

Result<std::unique_ptr<Compressor>> Compressor::make(Compression compression, OutputSink& downstream,
                                                     int level) {
  switch (compression) {
    case Compression::kNone:
      return std::unique_ptr<Compressor>(std::make_unique<PassThrough>(downstream));
    case Compression::kGzip: {
      if (level == kDefaultLevel) level = 6;
      if (level < 1 || level > 9) {
        return Error::invalid_argument("compression level",
                                       "gzip level must be 1..9, got " + std::to_string(level));
      }
      auto c = std::make_unique<GzipCompressor>(downstream);
      ES_TRY(c->init(level));
      return std::unique_ptr<Compressor>(std::move(c));
    }
    case Compression::kZstd: {
      if (level == kDefaultLevel) level = 3;
      if (level < 1 || level > 19) {
        return Error::invalid_argument("compression level",
                                       "zstd level must be 1..19, got " + std::to_string(level));
      }
      auto c = std::make_unique<ZstdCompressor>(downstream);
      ES_TRY(c->init(level));
      return std::unique_ptr<Compressor>(std::move(c));
    }
  }
  return Error::internal("unknown compression");
}

namespace {

// Events arrive in output (time) order, which is unrelated to where the readers stored them: every
// event is a cache miss (and often a TLB miss). Asking for the event a few places ahead overlaps
// those misses with the copying: 200,000 events scattered as the readers leave them encode in
// 25 ms instead of 48 (bench/core_bench BM_EncodeScatteredJson).
// At most one whole-object encode per hardware thread at a time. Encoding is CPU work: sixteen
// upload workers encoding at once on two cores only interleave, each holding a partly written object
// while the events it copies from are still held too (a client's events are freed once its object
// is complete). One at a time per core, objects are completed, and their events freed, in turn:
// the peak RSS of a 200,000-event export fell from 132 to 125 MB (median of 7).
class EncodeSlot {
 public:
  EncodeSlot() { slots().acquire(); }
  ~EncodeSlot() { slots().release(); }
  EncodeSlot(const EncodeSlot&) = delete;
  EncodeSlot& operator=(const EncodeSlot&) = delete;

 private:
  static std::counting_semaphore<1024>& slots() {
    static std::counting_semaphore<1024> semaphore(
        static_cast<std::ptrdiff_t>(std::clamp(std::thread::hardware_concurrency(), 1U, 1024U)));
    return semaphore;
  }
};

}  // namespace

void StringSink::populate(std::size_t incoming) noexcept {
  constexpr std::size_t kStep = 1 << 20;
  constexpr std::size_t kPage = 4096;
  if (out_.data() != populated_data_) {
    populated_data_ = out_.data();
    populated_ = out_.size();
  }
  const std::size_t capacity = out_.capacity();
  const std::size_t want = std::min(capacity, out_.size() + incoming + kStep);
  if (want <= populated_) return;
  // Whole pages past what is already written: the pages holding written bytes are resident.
  const auto base = reinterpret_cast<std::uintptr_t>(out_.data());
  const std::uintptr_t from = (base + populated_ + kPage - 1) & ~(kPage - 1);
  const std::uintptr_t to = (base + want) & ~(kPage - 1);
  if (to > from && capacity >= 2 * kStep) populate_for_write(reinterpret_cast<void*>(from), to - from);
  populated_ = want;
}

Status encode_events(OutputFormat format, std::span<const std::string_view> events, OutputSink& out) {
  std::vector<std::string> columns;
  if (format == OutputFormat::kCsv) {
    if (events.empty()) return ok_status();
    CsvColumns collect;
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (i + kPrefetchAhead < events.size()) prefetch_event(events[i + kPrefetchAhead]);
      ES_TRY(collect.add(events[i]));
    }
    columns = collect.take();
  }
  EventWriter writer(format, out, std::move(columns));
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i + kPrefetchAhead < events.size()) prefetch_event(events[i + kPrefetchAhead]);
    ES_TRY(writer.add(events[i]));
  }
  return writer.finish();
}

Status encode_object(OutputFormat format, Compression compression, std::span<const std::string_view> events,
                     OutputSink& out, int level) {
  const EncodeSlot slot;
  if (compression == Compression::kNone) return encode_events(format, events, out);
  ES_ASSIGN_OR_RETURN(std::unique_ptr<Compressor> compressor, Compressor::make(compression, out, level));
  ES_TRY(encode_events(format, events, *compressor));
  return compressor->finish();
}

}  // namespace es
