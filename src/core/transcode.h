#pragma once
/// DynamoDB JSON (the wire format of Scan/Query) to plain JSON, and the page decoder of the hot path.
///
/// Conversion: S -> string, N -> number with exactly the stored digits, BOOL -> true/false,
/// NULL -> null, M -> object, L -> array, SS/NS/BS -> arrays, B -> the base64 text as given.
/// Output is compact and canonical: object keys at every level are sorted bytewise (the service
/// returns attributes in no fixed order) and set elements are sorted (DynamoDB sets are unordered:
/// SS and BS bytewise, NS by numeric value), so the same item always gives the same bytes.
/// Strings are re-escaped minimally: '"', '\\' and U+0000..U+001F (as \b \f \n \r \t or \u00XX);
/// every other character, U+2028/U+2029 included, is written as raw UTF-8 (valid JSON).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace es {

/// Deepest nesting of M/L values accepted in an item (DynamoDB itself allows 32).
inline constexpr int kMaxAttributeDepth = 64;
/// Bytes a JSON text needs after its end (within its buffer) for simdjson to parse it in place.
inline constexpr std::size_t kJsonPadding = 64;

/// Reserves kJsonPadding spare bytes after body.size() (reallocating at most once) so that
/// PageDecoder::decode parses it without a copy. Call it after reading the body, before decoding.
void ensure_json_padding(std::string& body);

/// Appends a DynamoDB N value as a JSON number with the same digits. A valid JSON number is copied
/// verbatim ("1E+125", "-0.5", "38 digits..."). Forms DynamoDB clients accept but JSON does not are
/// normalized lexically, never changing the value: a leading '+' is dropped ("+5" -> "5"), leading
/// integer zeros are dropped ("005" -> "5", "-00.5" -> "-0.5"), a missing integer part becomes "0"
/// (".5" -> "0.5"), and an empty fraction is dropped ("5." -> "5", "5.e3" -> "5e3"). Returns false
/// (appending nothing) for anything else: empty, NaN/Infinity, hex, spaces, a bare exponent, ...
[[nodiscard]] bool append_json_number(std::string& out, std::string_view number);

/// Appends s (UTF-8) as a quoted JSON string, escaping as described above.
void append_json_string(std::string& out, std::string_view s);

/// True when text is standard padded base64 (RFC 4648 section 4; the empty string is valid).
[[nodiscard]] bool is_base64(std::string_view text);

/// Names of the attributes the pipeline reads from every item.
struct EventAttributes {
  std::string client = "clientId";    ///< S: the client the event belongs to
  std::string id = "eventId";         ///< S (or N, taken as its digits): the event's unique id
  std::string time = "time";          ///< S ISO-8601 instant, or N epoch seconds/milliseconds
  std::vector<std::string> required;  ///< further attributes every item must have
};

/// What became of one item of a page. Everything but kOk is a rejection (DESIGN.md section 4).
enum class RecordStatus : std::uint8_t {
  kOk = 0,
  kInvalidItem,        ///< not valid DynamoDB JSON (unknown type, bad number/base64, too deep, ...)
  kMissingClientId,    ///< the client attribute is absent
  kClientIdWrongType,  ///< the client attribute is not S
  kEmptyClientId,      ///< the client attribute is ""
  kMissingEventId,     ///< the id attribute is absent
  kEventIdWrongType,   ///< the id attribute is neither S nor N
  kMissingTime,        ///< the time attribute is absent
  kTimeWrongType,      ///< the time attribute is neither S nor N
  kUnparseableTime,    ///< the time attribute does not parse (see time.h)
  kMissingRequired,    ///< one of EventAttributes::required is absent
};

/// Stable snake_case code for a status ("ok", "invalid_item", "missing_client_id", ...), for
/// metrics and the rejected files.
[[nodiscard]] std::string_view to_string(RecordStatus status);

/// One item of a page. Spans are offsets into the owning DecodedPage's arena; read them through
/// DecodedPage's accessors. Plain data: copyable, 48 bytes.
struct DecodedRecord {
  std::int64_t time_us = 0;  ///< the event time, microseconds since the epoch (valid when has_time)
  std::uint32_t body_offset = 0;
  std::uint32_t body_size = 0;
  std::uint32_t client_offset = 0;
  std::uint32_t client_size = 0;
  std::uint32_t id_offset = 0;
  std::uint32_t id_size = 0;
  std::uint32_t message_offset = 0;
  std::uint32_t message_size = 0;
  RecordStatus status = RecordStatus::kOk;
  /// True when time_us holds the parsed event time: every kOk record, and rejected records whose
  /// time parsed (rejected for their client or id), so a rejection can be placed in its hour.
  bool has_time = false;

  [[nodiscard]] bool ok() const noexcept { return status == RecordStatus::kOk; }
};

/// The decoded form of one Scan/Query response page. Reusable: decode() clears it and keeps its
/// capacity, so a reader thread that decodes page after page into the same DecodedPage does not
/// allocate in the steady state. Lifetime: every string_view it returns points into its arena and
/// is valid until the next decode() into this page, clear(), a move, or destruction. The offsets in
/// DecodedRecord stay meaningful across moves (re-fetch views through the accessors). To keep events
/// beyond the next page, copy body() out, or keep the DecodedPage alive and decode into another one.
class DecodedPage {
 public:
  /// One record per input item, in input order; records().size() == number of items in the page.
  [[nodiscard]] const std::vector<DecodedRecord>& records() const noexcept { return records_; }

  /// kOk: the item as compact plain JSON. Rejected: the item's DynamoDB JSON (minified, attribute
  /// order as received) for the rejected file.
  [[nodiscard]] std::string_view body(const DecodedRecord& r) const noexcept {
    return view(r.body_offset, r.body_size);
  }
  /// The client id (unescaped). Set for kOk; for rejections set when it could be read, else "".
  [[nodiscard]] std::string_view client_id(const DecodedRecord& r) const noexcept {
    return view(r.client_offset, r.client_size);
  }
  /// The event id (unescaped S, or the N digits). Set for kOk; for rejections when readable.
  [[nodiscard]] std::string_view event_id(const DecodedRecord& r) const noexcept {
    return view(r.id_offset, r.id_size);
  }
  /// Human explanation of a rejection (names the attribute and the problem); "" for kOk.
  [[nodiscard]] std::string_view message(const DecodedRecord& r) const noexcept {
    return view(r.message_offset, r.message_size);
  }

  /// LastEvaluatedKey as compact JSON text (DynamoDB JSON), to send as the next request's
  /// ExclusiveStartKey; "" when absent, i.e. this was the last page.
  [[nodiscard]] const std::string& last_evaluated_key() const noexcept { return last_evaluated_key_; }
  /// The response's Count and ScannedCount (0 when absent).
  [[nodiscard]] std::int64_t count() const noexcept { return count_; }
  [[nodiscard]] std::int64_t scanned_count() const noexcept { return scanned_count_; }
  /// ConsumedCapacity.CapacityUnits when the response carries it (ReturnConsumedCapacity).
  [[nodiscard]] std::optional<double> consumed_capacity_units() const noexcept { return consumed_; }
  /// Number of records whose status is not kOk.
  [[nodiscard]] std::size_t rejected_count() const noexcept { return rejected_; }
  /// The used part of the arena all views point into (for accounting; its layout is not part of the
  /// interface).
  [[nodiscard]] std::string_view arena() const noexcept {
    return std::string_view(arena_.data(), arena_size_);
  }

  /// Empties the page, keeping allocated capacity.
  void clear() noexcept;

 private:
  friend class PageDecoder;
  [[nodiscard]] std::string_view view(std::uint32_t offset, std::uint32_t size) const noexcept {
    return std::string_view(arena_.data() + offset, size);
  }

  std::string arena_;  // grown as needed, never shrunk; bytes past arena_size_ are stale
  std::size_t arena_size_ = 0;
  std::vector<DecodedRecord> records_;
  std::string last_evaluated_key_;
  std::int64_t count_ = 0;
  std::int64_t scanned_count_ = 0;
  std::optional<double> consumed_;
  std::size_t rejected_ = 0;
};

/// Decodes Scan/Query response pages: parse, extract client id / event id / time, transcode.
/// Owns one simdjson DOM parser and scratch space: use one PageDecoder per thread (not thread-safe),
/// and reuse it; after the first pages it does not allocate per page or per item.
class PageDecoder {
 public:
  explicit PageDecoder(EventAttributes attributes = {});
  ~PageDecoder();
  PageDecoder(PageDecoder&&) noexcept;
  PageDecoder& operator=(PageDecoder&&) noexcept;
  PageDecoder(const PageDecoder&) = delete;
  PageDecoder& operator=(const PageDecoder&) = delete;

  [[nodiscard]] const EventAttributes& attributes() const noexcept;

  /// Decodes one response body ({"Items":[...],"Count":n,"ScannedCount":n,"LastEvaluatedKey":{..},
  /// "ConsumedCapacity":{..}}) into page (cleared first). body is read in place when its capacity
  /// has kJsonPadding spare bytes (see ensure_json_padding), else copied once. body need not outlive
  /// the call: page owns everything it returns. Every item yields exactly one record, in order; an
  /// item that is not valid DynamoDB JSON or misses the client/id/time is a rejected record, never
  /// an error. Error (kInvalidData, operation "DynamoDB.decode"): the body is not valid JSON, not an
  /// object, has no "Items" array, or a field of the envelope has the wrong type.
  [[nodiscard]] Status decode(const std::string& body, DecodedPage& page);

  /// Whether decode() may read a page directly from its bytes (the default). A page of well-formed
  /// items (no escapes in names, no escaped surrogates, nesting up to 16), every item accepted, is
  /// read in one pass, each item transcoded while it is in the cache; any other page is parsed by
  /// simdjson's DOM, as all pages are with false. The records are the same either way (tests and
  /// fuzz_transcode compare). After a page the direct path handed over, it skips the next 1, 2, 4,
  /// ... 64 pages (reset by a page it reads, or by this call).
  void set_direct(bool enabled) noexcept;
  /// Pages decode() has read directly so far.
  [[nodiscard]] std::uint64_t direct_pages() const noexcept;

  /// Transcodes a single item (its DynamoDB JSON: an object of attribute -> typed value) to plain
  /// JSON. For tools and tests; copies the input. Error (kInvalidData) explains what is wrong.
  [[nodiscard]] Result<std::string> transcode_item(std::string_view item_json);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace es
