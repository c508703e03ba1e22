#include "core/transcode.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "core/json_text_internal.h"
#include "core/lease_pool.h"
#include "core/time.h"

namespace es {
namespace {

using json_text::JsonOut;
using json_text::numeric_key;
using json_text::numeric_less;
using json_text::NumericKey;
using json_text::write_json_number;
using json_text::write_json_string;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

// Bodies past this size could overflow the 32-bit arena offsets; a DynamoDB page is at most 1 MB.
constexpr std::size_t kMaxBodyBytes = std::size_t{1} << 30;

std::string quote_key(std::string_view key) {
  std::string out;
  append_json_string(out, key.substr(0, 128));
  return out;
}

// A read-only view of simdjson's DOM tape (simdjson's doc/tape.md; dom::document's `tape` and
// `string_buf` are public members): one 64-bit word per value, its type character in the top byte.
// Strings: the low 56 bits are an offset into string_buf, where a 32-bit length precedes the
// unescaped bytes. '{' and '[': the low 32 bits are the index just past the matching '}' or ']', bits
// 32..55 the number of fields or elements (saturating at 2^24 - 1). Numbers ('l', 'u', 'd') take a
// second word. The transcoder walks the tape itself: through dom::element every step re-checked its
// type in a call of its own, which was a third of the transcoder's instructions.
class Tape {
 public:
  Tape() = default;
  explicit Tape(const simdjson::dom::document& doc) noexcept
      : words_(doc.tape.get()), strings_(doc.string_buf.get()) {}

  /// The tape index of a document's root value.
  static constexpr std::uint32_t kRoot = 1;

  [[nodiscard]] char type(std::uint32_t i) const noexcept { return static_cast<char>(words_[i] >> 56); }
  /// Fields of the '{' or elements of the '[' at i (saturating).
  [[nodiscard]] std::uint32_t count(std::uint32_t i) const noexcept {
    return static_cast<std::uint32_t>(words_[i] >> 32) & 0xFFFFFFU;
  }
  /// The index of the value after the one that starts at i.
  [[nodiscard]] std::uint32_t after(std::uint32_t i) const noexcept {
    switch (type(i)) {
      case '{':
      case '[':
        return static_cast<std::uint32_t>(words_[i]);
      case 'l':
      case 'u':
      case 'd':
        return i + 2;
      default:
        return i + 1;
    }
  }
  /// The index of the '}' or ']' closing the '{' or '[' at i.
  [[nodiscard]] std::uint32_t close(std::uint32_t i) const noexcept {
    return static_cast<std::uint32_t>(words_[i]) - 1;
  }
  /// The string at i (whose type is '"').
  [[nodiscard]] std::string_view string(std::uint32_t i) const noexcept {
    const std::uint8_t* p = strings_ + (words_[i] & kPayloadMask);
    std::uint32_t n = 0;
    std::memcpy(&n, p, sizeof n);
    return {reinterpret_cast<const char*>(p + sizeof n), n};
  }

 private:
  static constexpr std::uint64_t kPayloadMask = 0x00FFFFFFFFFFFFFFULL;
  const std::uint64_t* words_ = nullptr;
  const std::uint8_t* strings_ = nullptr;
};

// The tape index of the "Items" value of a page's root object (which decode() checked has one).
std::uint32_t items_index(const Tape& tape) noexcept {
  const std::uint32_t end = tape.close(Tape::kRoot);
  for (std::uint32_t i = Tape::kRoot + 1; i < end; i = tape.after(i + 1)) {
    if (tape.string(i) == "Items") return i + 1;
  }
  return end;
}

// Three-way bytewise comparison with the first byte tested inline (names mostly differ there).
inline int key_compare(std::string_view a, std::string_view b) noexcept {
  if (!a.empty() && !b.empty() && a[0] != b[0]) {
    return static_cast<unsigned char>(a[0]) < static_cast<unsigned char>(b[0]) ? -1 : 1;
  }
  const std::size_t n = std::min(a.size(), b.size());
  if (const int c = n == 0 ? 0 : std::memcmp(a.data(), b.data(), n); c != 0) return c;
  return a.size() < b.size() ? -1 : static_cast<int>(a.size() > b.size());
}

// What parsing a page needs: a DOM parser (structural index) and the document (tape and strings),
// ~3.3x the page: 5.8 MB for a 1.75 MB Scan page.
struct ParseSpace {
  simdjson::dom::parser parser;
  simdjson::dom::document doc;

  // simdjson grows a parser to exactly the length of a longer document, so pages of slowly rising
  // sizes (a reader's pages differ by a few bytes around 1.75 MB) reallocated the tape, string and
  // index buffers again and again, each new buffer faulting in fresh pages (24,000 of the 111,000
  // page faults of a 200,000-event run). A quarter more settles it at the first page; capacity
  // the parser never touches costs address space, not memory.
  bool reserve_for(std::size_t len) {
    if (parser.capacity() >= len && doc.capacity() >= len) return true;
    const std::size_t capacity = std::min(len + len / 4 + 4096, std::max(len, parser.max_capacity()));
    if (doc.capacity() < len && doc.allocate(capacity) != simdjson::SUCCESS) return false;
    return parser.capacity() >= len || parser.allocate(capacity) == simdjson::SUCCESS;
  }
};

// The parse spaces of all PageDecoders of the process, at most one per hardware thread in use at
// once. Readers spend most of their time waiting for DynamoDB; a parse space per reader thread
// (8 by default) kept 8 x 5.8 MB resident for what the cores can use 2 (here) at a time. A decode()
// waiting for a space is a decode the cores could not have run anyway. Idle spaces are freed when the
// last PageDecoder goes, so nothing stays resident after an hour's read.
class ParseSpaces {
 public:
  static ParseSpaces& instance() {
    static auto* spaces = new ParseSpaces();  // never destroyed: decoders may outlive statics
    return *spaces;
  }
  LeasePool<ParseSpace>& pool() noexcept { return pool_; }
  void attach() noexcept { users_.fetch_add(1); }
  void detach() {
    if (users_.fetch_sub(1) == 1) pool_.clear_idle();
  }

 private:
  ParseSpaces() : pool_(static_cast<int>(std::max(2U, std::thread::hardware_concurrency()))) {}
  LeasePool<ParseSpace> pool_;
  std::atomic<int> users_{0};
};

}  // namespace

std::string_view to_string(RecordStatus status) {
  switch (status) {
    case RecordStatus::kOk:
      return "ok";
    case RecordStatus::kInvalidItem:
      return "invalid_item";
    case RecordStatus::kMissingClientId:
      return "missing_client_id";
    case RecordStatus::kClientIdWrongType:
      return "client_id_wrong_type";
    case RecordStatus::kEmptyClientId:
      return "empty_client_id";
    case RecordStatus::kMissingEventId:
      return "missing_event_id";
    case RecordStatus::kEventIdWrongType:
      return "event_id_wrong_type";
    case RecordStatus::kMissingTime:
      return "missing_time";
    case RecordStatus::kTimeWrongType:
      return "time_wrong_type";
    case RecordStatus::kUnparseableTime:
      return "unparseable_time";
    case RecordStatus::kMissingRequired:
      return "missing_required_attribute";
  }
  return "unknown";
}

void DecodedPage::clear() noexcept {
  arena_size_ = 0;
  records_.clear();
  last_evaluated_key_.clear();
  count_ = 0;
  scanned_count_ = 0;
  consumed_.reset();
  rejected_ = 0;
}

struct PageDecoder::Impl {
  // One field of an object being transcoded: its name and the tape index of its typed value.
  struct Field {
    std::string_view key;
    std::uint32_t value;
  };
  // A top-level attribute the pipeline reads: its type key, and its content when that is a string.
  struct Typed {
    std::string_view type;
    std::string_view text;
    bool is_string = false;
  };

  EventAttributes attributes;
  simdjson::dom::parser parser;       // transcode_item() only: decode() borrows a ParseSpace
  simdjson::dom::document document;   // transcode_item() only
  Tape tape;                          // of the document being transcoded
  std::vector<Field> fields;          // stack of the fields of the objects being transcoded
  std::vector<std::string_view> set;  // elements of the SS/BS being sorted
  std::vector<std::string> path;      // where a transcoding error happened, innermost first
  std::string why;                    // what the error was
  std::string padded;                 // copy of an unpadded input
  std::string scratch;                // message building

  // The three attributes the pipeline needs and the first required attribute missing, captured
  // while transcoding the top level of an item.
  Typed client_value;
  Typed id_value;
  Typed time_value;
  bool has_client = false;
  bool has_id = false;
  bool has_time = false;
  const std::string* missing_required = nullptr;

  explicit Impl(EventAttributes a) : attributes(std::move(a)) { ParseSpaces::instance().attach(); }
  ~Impl() { ParseSpaces::instance().detach(); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  bool fail(std::string message) {
    why = std::move(message);
    return false;
  }

  // Pushes the fields of the object at `obj` onto `fields`, sorted by key, from `base` on. Objects
  // have a handful of attributes, so an insertion sort, which also spots duplicates.
  bool collect_sorted(std::uint32_t obj, std::size_t& base) {
    base = fields.size();
    const std::uint32_t end = tape.close(obj);
    for (std::uint32_t i = obj + 1; i < end; i = tape.after(i + 1))
      fields.push_back(Field{tape.string(i), i + 1});
    Field* first = fields.data() + base;
    Field* last = fields.data() + fields.size();
    bool duplicate = false;
    if (last - first > 32) {
      // Large maps (up to ~40,000 attributes in a 400 KB item): O(n log n), duplicates checked after.
      std::sort(first, last, [](const Field& x, const Field& y) { return key_compare(x.key, y.key) < 0; });
      for (Field* i = first + 1; i < last && !duplicate; ++i) duplicate = i->key == (i - 1)->key;
      last = first;  // skips the insertion sort below
    }
    for (Field* i = first + 1; i < last; ++i) {
      const Field x = *i;
      Field* j = i;
      for (; j > first; --j) {
        const int c = key_compare(x.key, (j - 1)->key);
        if (c >= 0) {
          duplicate |= c == 0;
          break;
        }
        *j = *(j - 1);
      }
      *j = x;
    }
    if (duplicate) {
      std::string key;
      for (std::size_t i = base + 1; i < fields.size(); ++i) {
        if (fields[i].key == fields[i - 1].key) key = quote_key(fields[i].key);
      }
      pop(base);
      return fail("duplicate attribute name " + key);
    }
    return true;
  }

  void pop(std::size_t base) {
    fields.erase(fields.begin() + static_cast<std::ptrdiff_t>(base), fields.end());
  }

  // Writes an object of attribute name -> typed value (an item or an M) as a sorted plain object.
  bool map(std::uint32_t obj, JsonOut& out, int depth, bool top) {
    if (depth > kMaxAttributeDepth) {
      return fail("nesting deeper than " + std::to_string(kMaxAttributeDepth) + " levels");
    }
    std::size_t base = 0;
    if (!collect_sorted(obj, base)) return false;
    const std::size_t end = fields.size();
    out += '{';
    for (std::size_t i = base; i < end; ++i) {
      if (i != base) out += ',';
      const Field f = fields[i];
      write_json_string(out, f.key);
      out += ':';
      if (!value(f.value, out, depth)) {
        path.push_back(quote_key(f.key));
        pop(base);
        return false;
      }
      if (top) capture(f);
    }
    out += '}';
    if (top && !attributes.required.empty()) find_missing_required(base, end);
    pop(base);
    return true;
  }

  static bool same(std::string_view key, std::string_view name) noexcept {
    return key.size() == name.size() &&
           (key.empty() || (key[0] == name[0] && std::memcmp(key.data(), name.data(), key.size()) == 0));
  }

  // Called after value() wrote the field's value, so its {"T": v} wrapper is known to be well formed.
  void capture(const Field& f) {
    const EventAttributes& a = attributes;
    if (same(f.key, a.client)) {
      client_value = typed(f.value);
      has_client = true;
    } else if (same(f.key, a.id)) {
      id_value = typed(f.value);
      has_id = true;
    } else if (same(f.key, a.time)) {
      time_value = typed(f.value);
      has_time = true;
    }
  }

  Typed typed(std::uint32_t v) const noexcept {
    Typed t;
    t.type = tape.string(v + 1);
    t.is_string = tape.type(v + 2) == '"';
    if (t.is_string) t.text = tape.string(v + 2);
    return t;
  }

  // The first of EventAttributes::required absent from the item's fields [base, end), sorted by key.
  void find_missing_required(std::size_t base, std::size_t end) {
    const Field* first = fields.data() + base;
    const Field* last = fields.data() + end;
    for (const std::string& name : attributes.required) {
      const Field* it =
          std::lower_bound(first, last, std::string_view(name),
                           [](const Field& f, std::string_view k) { return key_compare(f.key, k) < 0; });
      if (it == last || it->key != name) {
        missing_required = &name;
        return;
      }
    }
  }

  [[gnu::always_inline]] bool string_of(std::uint32_t i, std::string_view type, std::string_view& s) {
    if (tape.type(i) != '"') [[unlikely]] {
      return not_a_string(type);
    }
    s = tape.string(i);
    return true;
  }

  [[gnu::cold]] bool not_a_string(std::string_view type) {
    return fail(std::string("the value of a ") + std::string(type) + " must be a JSON string");
  }

  bool number(std::string_view text, JsonOut& out) {
    if (!write_json_number(out, text)) return fail("N value " + quote_key(text) + " is not a number");
    return true;
  }

  // Writes the typed value {"T": v} at tape index `at`.
  bool value(std::uint32_t at, JsonOut& out, int depth) {
    if (tape.type(at) != '{' || tape.count(at) != 1) {
      return fail("an attribute value must be an object with exactly one type key (S, N, M, ...)");
    }
    const std::string_view type = tape.string(at + 1);
    const std::uint32_t inner = at + 2;
    std::string_view s;
    switch (type.size()) {
      case 1:
        if (type[0] == 'S') {
          if (!string_of(inner, type, s)) return false;
          write_json_string(out, s);
          return true;
        }
        if (type[0] == 'N') return string_of(inner, type, s) && number(s, out);
        if (type[0] == 'M') {
          if (tape.type(inner) != '{') return fail("the value of an M must be an object");
          return map(inner, out, depth + 1, false);
        }
        if (type[0] == 'L') return list(inner, out, depth + 1);
        if (type[0] == 'B') {
          if (!string_of(inner, type, s)) return false;
          if (!is_base64(s)) return fail("B value is not base64");
          write_json_string(out, s);
          return true;
        }
        break;
      case 2:
        if (type == "SS" || type == "BS" || type == "NS") return string_set(type, inner, out);
        break;
      case 4:
        if (type == "NULL") {
          if (tape.type(inner) != 't') return fail("NULL must be true");
          out.append("null");
          return true;
        }
        if (type == "BOOL") {
          if (tape.type(inner) != 't' && tape.type(inner) != 'f') return fail("BOOL must be true or false");
          out.append(tape.type(inner) == 't' ? "true" : "false");
          return true;
        }
        break;
      default:
        break;
    }
    return fail("unknown DynamoDB type " + quote_key(type));
  }

  bool list(std::uint32_t at, JsonOut& out, int depth) {
    if (depth > kMaxAttributeDepth) {
      return fail("nesting deeper than " + std::to_string(kMaxAttributeDepth) + " levels");
    }
    if (tape.type(at) != '[') return fail("the value of an L must be an array");
    const std::uint32_t end = tape.close(at);
    out += '[';
    std::size_t index = 0;
    for (std::uint32_t e = at + 1; e < end; e = tape.after(e)) {
      if (index != 0) out += ',';
      if (!value(e, out, depth)) {
        path.push_back("[" + std::to_string(index) + "]");
        return false;
      }
      ++index;
    }
    out += ']';
    return true;
  }

  // SS, NS, BS: arrays of strings, written sorted (see transcode.h).
  bool string_set(std::string_view type, std::uint32_t at, JsonOut& out) {
    if (tape.type(at) != '[') return fail("the value of a " + std::string(type) + " must be an array");
    set.clear();
    const std::uint32_t end = tape.close(at);
    for (std::uint32_t e = at + 1; e < end; e = tape.after(e)) {
      std::string_view s;
      if (!string_of(e, type, s)) return false;
      if (type[0] == 'B' && !is_base64(s)) return fail("BS element is not base64");
      set.push_back(s);
    }
    out += '[';
    if (type[0] == 'N') {
      // Sets are small and rare on the hot path: sort by value with allocated keys.
      std::vector<std::pair<NumericKey, std::string_view>> keyed;
      keyed.reserve(set.size());
      for (std::string_view s : set) keyed.emplace_back(numeric_key(s), s);
      std::stable_sort(keyed.begin(), keyed.end(),
                       [](const auto& a, const auto& b) { return numeric_less(a.first, b.first); });
      for (std::size_t i = 0; i < keyed.size(); ++i) {
        if (i != 0) out += ',';
        if (!number(keyed[i].second, out)) return false;
      }
    } else {
      std::sort(set.begin(), set.end());
      for (std::size_t i = 0; i < set.size(); ++i) {
        if (i != 0) out += ',';
        write_json_string(out, set[i]);
      }
    }
    out += ']';
    return true;
  }

  // Transcodes the item at tape index `at` into out; on failure `out` may hold a partial result and
  // the error text is built by error_message().
  bool item(std::uint32_t at, JsonOut& out) {
    path.clear();
    has_client = has_id = has_time = false;
    missing_required = nullptr;
    if (tape.type(at) != '{') return fail("an item must be a JSON object");
    return map(at, out, 1, true);
  }

  std::string error_message() const {
    std::string m = "invalid DynamoDB JSON";
    if (!path.empty()) {
      m += " at ";
      for (auto it = path.rbegin(); it != path.rend(); ++it) {
        if (it != path.rbegin() && (*it)[0] != '[') m += '.';
        m += *it;
      }
    }
    m += ": ";
    m += why;
    return m;
  }

  // Decides the status of a transcoded item; fills time_us and the client/id views on success.
  // The time is checked first so that a record rejected for its client or id still carries its
  // time: the pipeline counts such a rejection only in the hour it belongs to.
  // Whether a type key is the one-letter type t (compared inline: a string_view comparison with a
  // literal was a call each, six per item).
  static bool is(std::string_view type, char t) noexcept { return type.size() == 1 && type[0] == t; }

  RecordStatus classify(std::int64_t& time_us, bool& has_parsed_time, std::string_view& client,
                        std::string_view& id) {
    const EventAttributes& a = attributes;
    client = {};
    id = {};
    has_parsed_time = false;
    if (has_client && is(client_value.type, 'S') && client_value.is_string) client = client_value.text;
    if (has_id && (is(id_value.type, 'S') || is(id_value.type, 'N')) && id_value.is_string)
      id = id_value.text;
    if (!has_time) {
      return reject("missing attribute " + quote_key(a.time) + " (event time)", RecordStatus::kMissingTime);
    }
    const std::string_view type = time_value.type;
    if ((!is(type, 'S') && !is(type, 'N')) || !time_value.is_string) {
      return reject("time attribute " + quote_key(a.time) + " must be S (ISO-8601) or N (epoch), got " +
                        std::string(type),
                    RecordStatus::kTimeWrongType);
    }
    const std::string_view text = time_value.text;
    auto parsed = is(type, 'S') ? parse_iso8601_us(text) : parse_epoch_number_us(text);
    if (!parsed.ok()) return reject(std::string(parsed.error().message), RecordStatus::kUnparseableTime);
    time_us = *parsed;
    has_parsed_time = true;
    if (!has_client) {
      return reject("missing attribute " + quote_key(a.client) + " (client id)",
                    RecordStatus::kMissingClientId);
    }
    if (!is(client_value.type, 'S')) {
      return reject(
          "client id attribute " + quote_key(a.client) + " must be S, got " + std::string(client_value.type),
          RecordStatus::kClientIdWrongType);
    }
    if (client.empty()) {
      return reject("client id attribute " + quote_key(a.client) + " is empty", RecordStatus::kEmptyClientId);
    }
    if (!has_id) {
      return reject("missing attribute " + quote_key(a.id) + " (event id)", RecordStatus::kMissingEventId);
    }
    if (!is(id_value.type, 'S') && !is(id_value.type, 'N')) {
      return reject(
          "event id attribute " + quote_key(a.id) + " must be S or N, got " + std::string(id_value.type),
          RecordStatus::kEventIdWrongType);
    }
    if (missing_required != nullptr) {
      return reject("missing required attribute " + quote_key(*missing_required),
                    RecordStatus::kMissingRequired);
    }
    return RecordStatus::kOk;
  }

  RecordStatus reject(std::string message, RecordStatus status) {
    scratch = std::move(message);
    return status;
  }

  static std::uint32_t u32(std::size_t v) noexcept { return static_cast<std::uint32_t>(v); }

  static void append_span(JsonOut& out, std::string_view s, std::uint32_t& offset, std::uint32_t& size) {
    offset = u32(out.size());
    size = u32(s.size());
    out.append(s);
  }

  // The item `e`, which starts at tape index `at`. A rejected item is kept as it came, minified.
  void decode_item(element e, std::uint32_t at, JsonOut& out, DecodedPage& page) {
    DecodedRecord r;
    const std::size_t start = out.size();
    std::string_view client;
    std::string_view id;
    if (!item(at, out)) {
      r.status = RecordStatus::kInvalidItem;
      scratch = error_message();
    } else {
      r.status = classify(r.time_us, r.has_time, client, id);
    }
    if (r.status == RecordStatus::kOk) {
      r.body_offset = u32(start);
      r.body_size = u32(out.size() - start);
    } else {
      out.truncate(start);
      append_span(out, simdjson::to_string(e), r.body_offset, r.body_size);
      append_span(out, scratch, r.message_offset, r.message_size);
      ++page.rejected_;
    }
    append_span(out, client, r.client_offset, r.client_size);
    append_span(out, id, r.id_offset, r.id_size);
    page.records_.push_back(r);
  }
};

PageDecoder::PageDecoder(EventAttributes attributes) : impl_(std::make_unique<Impl>(std::move(attributes))) {}
PageDecoder::~PageDecoder() = default;
PageDecoder::PageDecoder(PageDecoder&&) noexcept = default;
PageDecoder& PageDecoder::operator=(PageDecoder&&) noexcept = default;

const EventAttributes& PageDecoder::attributes() const noexcept {
  return impl_->attributes;
}

Status PageDecoder::decode(const std::string& body, DecodedPage& page) {
  page.clear();
  auto fail = [](std::string message) {
    return Error::invalid_data("DynamoDB page", std::move(message)).with_context("DynamoDB.decode");
  };
  if (body.size() > kMaxBodyBytes) return fail("response body larger than 1 GiB");
  element root;
  // Parsed in place when the caller left the padding simdjson reads past the end; otherwise simdjson
  // copies the body into the parser's own (reused) padded buffer. padded_string_view alone would not
  // check the capacity, and reading past an unpadded buffer is out of bounds.
  const bool needs_copy = body.capacity() - body.size() < simdjson::SIMDJSON_PADDING;
  // Held until the items are transcoded (the DOM lives in it); the page owns everything after.
  const LeasePool<ParseSpace>::Lease space(ParseSpaces::instance().pool());
  if (!space->reserve_for(body.size())) return fail("out of memory for the parser");
  if (auto err =
          space->parser.parse_into_document(space->doc, body.data(), body.size(), needs_copy).get(root)) {
    return fail(std::string("malformed JSON: ") + simdjson::error_message(err));
  }
  object envelope;
  if (root.get_object().get(envelope) != simdjson::SUCCESS) return fail("response is not a JSON object");
  array items;
  bool has_items = false;
  bool has_last_key = false;
  for (auto kv : envelope) {
    if (kv.key == "Items") {
      // A second "Items" (or "LastEvaluatedKey") makes the page ambiguous: taking either one could
      // drop items, so the page is refused (found by fuzz_transcode).
      if (has_items) return fail("duplicate \"Items\"");
      if (kv.value.get_array().get(items) != simdjson::SUCCESS) return fail("\"Items\" is not an array");
      has_items = true;
    } else if (kv.key == "Count") {
      if (kv.value.get_int64().get(page.count_) != simdjson::SUCCESS)
        return fail("\"Count\" is not an integer");
    } else if (kv.key == "ScannedCount") {
      if (kv.value.get_int64().get(page.scanned_count_) != simdjson::SUCCESS) {
        return fail("\"ScannedCount\" is not an integer");
      }
    } else if (kv.key == "LastEvaluatedKey") {
      if (has_last_key) return fail("duplicate \"LastEvaluatedKey\"");
      has_last_key = true;
      if (!kv.value.is_object()) return fail("\"LastEvaluatedKey\" is not an object");
      page.last_evaluated_key_ = simdjson::to_string(kv.value);
    } else if (kv.key == "ConsumedCapacity") {
      double units = 0;
      if (kv.value.at_key("CapacityUnits").get_double().get(units) == simdjson::SUCCESS)
        page.consumed_ = units;
    }
  }
  if (!has_items) return fail("response has no \"Items\" array");
  // Plain JSON is smaller than DynamoDB JSON, so this covers a page of good items without growing.
  // A little headroom: page sizes creep up by a few bytes, and an exact regrowth copied and faulted
  // in a fresh buffer. resize() writes every byte, so more headroom would be resident for nothing.
  // The old contents are stale: nothing is copied over.
  if (page.arena_.size() < body.size()) {
    page.arena_.clear();
    page.arena_.resize(body.size() + body.size() / 32);
  }
  page.records_.reserve(items.size());
  JsonOut out(page.arena_, 0);
  Impl& impl = *impl_;
  impl.tape = Tape(space->doc);
  std::uint32_t at = items_index(impl.tape) + 1;
  for (element e : items) {
    impl.decode_item(e, at, out, page);
    at = impl.tape.after(at);
  }
  page.arena_size_ = out.size();
  return ok_status();
}

Result<std::string> PageDecoder::transcode_item(std::string_view item_json) {
  Impl& impl = *impl_;
  impl.padded.assign(item_json);
  ensure_json_padding(impl.padded);
  element root;
  if (auto err = impl.parser.parse_into_document(impl.document, impl.padded.data(), impl.padded.size(), false)
                     .get(root)) {
    return Error::invalid_data("item", std::string("malformed JSON: ") + simdjson::error_message(err));
  }
  impl.tape = Tape(impl.document);
  std::string out;
  JsonOut writer(out, 0);
  if (!impl.item(Tape::kRoot, writer)) return Error::invalid_data("item", impl.error_message());
  out.resize(writer.size());
  return out;
}

}  // namespace es
