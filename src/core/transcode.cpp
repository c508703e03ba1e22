#include "core/transcode.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "core/json_text_internal.h"
#include "core/transcode/bytes.h"
#include "core/transcode/dom_transcoder.h"
#include "core/transcode/item_classifier.h"
#include "core/transcode/page_parts.h"
#include "core/transcode/shape_cache.h"
#include "core/transcode/sorted_set.h"

namespace es {
namespace {

using json_text::JsonOut;
using json_text::write_json_number;
using json_text::write_json_string;
using transcode::append_span;
using transcode::copy_bytes;
using transcode::equal_bytes;
using transcode::ItemClassifier;
using transcode::key_compare;
using transcode::Shape;
using transcode::ShapeCache;
using transcode::SortedSet;
using transcode::Typed;
using transcode::u32;

// Bodies past this size could overflow the 32-bit arena offsets; a DynamoDB page is at most 1 MB.
constexpr std::size_t kMaxBodyBytes = std::size_t{1} << 30;

constexpr std::uint32_t kBad = std::numeric_limits<std::uint32_t>::max();
// Where a value's output went (PageDecoder's direct path), packed in one word and so returned in a register:
// as two 32-bit members, it was built on the stack by two 4-byte stores and read back at once by one 8-byte
// load, which the store buffer cannot forward (a stall on every value).
class Span {
 public:
  constexpr Span() noexcept = default;  // failed
  static constexpr Span at(std::uint32_t begin, std::uint32_t size) noexcept {
    return Span((std::uint64_t{size} << 32) | begin);
  }
  [[nodiscard]] std::uint32_t begin() const noexcept { return static_cast<std::uint32_t>(bits_); }
  [[nodiscard]] std::uint32_t size() const noexcept { return static_cast<std::uint32_t>(bits_ >> 32); }
  [[nodiscard]] bool ok() const noexcept { return size() != kBad; }

 private:
  constexpr explicit Span(std::uint64_t bits) noexcept : bits_(bits) {}
  std::uint64_t bits_ = std::uint64_t{kBad} << 32;
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
  EventAttributes attributes;
  ShapeCache shapes;  // by the map's place in its item: both paths learn and follow them
  transcode::DomTranscoder dom{attributes, shapes};
  SortedSet set;  // elements of the SS/NS/BS being transcoded
  ItemClassifier classifier{attributes};

  explicit Impl(EventAttributes a) : attributes(std::move(a)) {}
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // What the paths fill of a page (PageDecoder is DecodedPage's friend).
  static transcode::PageParts parts(DecodedPage& page) noexcept {
    return {page.arena_, page.arena_size_,    page.records_,  page.last_evaluated_key_,
            page.count_, page.scanned_count_, page.consumed_, page.rejected_};
  }

  // ---- The direct path (see PageDecoder::decode) ----
  // A page is read straight from its bytes, item by item, each item transcoded while its bytes are
  // in the cache, when it is what DynamoDB sends for the usual items: well-formed JSON, every type,
  // nested at most kDirectDepth deep, no escape in a name nor an escaped surrogate, every item
  // accepted. Anything else (a rejected item, a duplicate name, an envelope member it does not know,
  // malformed JSON, ...) abandons the page, which then goes the DOM way; on what it accepts, it
  // writes exactly what the DOM way writes (tests and fuzz_transcode compare the two).
  static constexpr int kDirectDepth = 16;

  // A field of a map being read: its name, and its value's output, in `values`, once written.
  struct DirectField {
    std::string_view key;
    std::uint32_t begin;
    std::uint32_t size;
    std::uint32_t index;  // its place among the map's fields as they came
  };
  static constexpr Span kFailed{};

  const char* cur = nullptr;          // the next byte of the page
  const char* stop = nullptr;         // the page's end
  std::size_t page_size = 0;          // bytes in the page
  std::unique_ptr<char[]> unescaped;  // strings with escapes, undone (see direct_text)
  std::size_t unescaped_capacity = 0;
  std::size_t unescaped_used = 0;
  std::string values_buf;            // the values of the item being read, as they are written
  std::string set_scratch;           // where direct_set's elements are read
  std::vector<DirectField> dfields;  // stack of the fields of the maps being read
  std::vector<Span> elements;        // stack of the elements of the lists being read
  std::uint64_t direct_pages = 0;
  int direct_backoff = 0;  // pages skipped after the last page the direct path handed over
  int direct_skips = 0;    // pages still to skip
  bool direct_enabled = true;

  static bool is_space(char c) noexcept { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

  // Consumes c, after any whitespace.
  [[gnu::always_inline]] bool eat(char c) noexcept {
    if (cur < stop && *cur == c) [[likely]] {
      ++cur;
      return true;
    }
    return eat_after_space(c);
  }
  bool eat_after_space(char c) noexcept {
    while (cur < stop && is_space(*cur)) ++cur;
    if (cur < stop && *cur == c) {
      ++cur;
      return true;
    }
    return false;
  }
  // The next byte after any whitespace, not consumed; '\0' at the end.
  [[gnu::always_inline]] char peek() noexcept {
    if (cur < stop && !is_space(*cur)) [[likely]] {
      return *cur;
    }
    return peek_after_space();
  }
  char peek_after_space() noexcept {
    while (cur < stop && is_space(*cur)) ++cur;
    return cur < stop ? *cur : '\0';
  }

  // A string (after any whitespace) with nothing to unescape and no control character: its content,
  // which is then also its unescaped value and its JSON text as write_json_string writes it.
  // Reads 16 bytes at a time, past the page's end into its padding (decode() makes sure of it).
  [[gnu::always_inline]] bool direct_string(std::string_view& s) noexcept {
    if (!eat('"')) return false;
    const char* p = scan_string(cur);
    if (p >= stop || *p != '"') return false;
    s = {cur, static_cast<std::size_t>(p - cur)};
    cur = p + 1;
    return true;
  }

  // The first '"', '\\' or control character at or after p, or stop.
  [[gnu::always_inline]] const char* scan_string(const char* p) const noexcept {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i slash = _mm_set1_epi8('\\');
    const __m128i control_max = _mm_set1_epi8(0x1F);
    for (;; p += 16) {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      const __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(x, control_max), control_max);
      const int mask = _mm_movemask_epi8(
          _mm_or_si128(control, _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, slash))));
      if (mask != 0) {
        p += __builtin_ctz(static_cast<unsigned>(mask));
        break;
      }
      if (p + 16 >= stop) {
        p = stop;
        break;
      }
    }
#else
    p += json_text::first_to_escape(p, static_cast<std::size_t>(stop - p), 0);
#endif
    return p < stop ? p : stop;
  }

  // An S value's string at cur: its text (unescaped, then in `unescaped`) and, written into
  // `values`, its JSON text as write_json_string writes it: for a string without escapes, the
  // string as it came. Escapes are undone as simdjson does; a surrogate (\\uD800-\\uDFFF), an
  // escape JSON does not have, or a control character leaves the page to the DOM path.
  [[gnu::always_inline]] bool direct_text(JsonOut& values, std::string_view& text) {
    if (peek() != '"') return false;
    const char* open = cur++;
    const char* p = scan_string(cur);
    if (p < stop && *p == '"') [[likely]] {
      text = {cur, static_cast<std::size_t>(p - cur)};
      cur = p + 1;
      const auto n = static_cast<std::size_t>(cur - open);
      copy_bytes(values.room(n), open, n);
      values.advance(n);
      return true;
    }
    return unescape_text(values, text, p);
  }

  // direct_text() for a string with something to unescape at p.
  [[gnu::noinline]] bool unescape_text(JsonOut& values, std::string_view& text, const char* p) {
    if (p >= stop || *p != '\\') return false;
    if (unescaped_used == 0 && unescaped_capacity < page_size) {
      // Unescaped strings are shorter than their JSON text: a page's all fit in its size. Allocated
      // when a page first has an escape, and left untouched (so not resident) where none come.
      unescaped.reset(new char[page_size]);
      unescaped_capacity = page_size;
    }
    char* const begin = unescaped.get() + unescaped_used;
    char* out = begin;
    const char* from = cur;
    for (;;) {
      std::memcpy(out, from, static_cast<std::size_t>(p - from));
      out += p - from;
      if (*p == '"') break;
      // *p is a backslash.
      if (stop - p < 2) return false;
      switch (p[1]) {
        case '"':
        case '\\':
        case '/':
          *out++ = p[1];
          break;
        case 'b':
          *out++ = '\b';
          break;
        case 'f':
          *out++ = '\f';
          break;
        case 'n':
          *out++ = '\n';
          break;
        case 'r':
          *out++ = '\r';
          break;
        case 't':
          *out++ = '\t';
          break;
        case 'u': {
          if (stop - p < 6) return false;
          std::uint32_t cp = 0;
          for (int i = 2; i < 6; ++i) {
            const char c = p[i];
            const int digit = c >= '0' && c <= '9'   ? c - '0'
                              : c >= 'a' && c <= 'f' ? c - 'a' + 10
                              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                     : -1;
            if (digit < 0) return false;
            cp = cp * 16 + static_cast<std::uint32_t>(digit);
          }
          if (cp >= 0xD800 && cp <= 0xDFFF) return false;
          if (cp < 0x80) {
            *out++ = static_cast<char>(cp);
          } else if (cp < 0x800) {
            *out++ = static_cast<char>(0xC0 | (cp >> 6));
            *out++ = static_cast<char>(0x80 | (cp & 0x3F));
          } else {
            *out++ = static_cast<char>(0xE0 | (cp >> 12));
            *out++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            *out++ = static_cast<char>(0x80 | (cp & 0x3F));
          }
          p += 4;
          break;
        }
        default:
          return false;
      }
      from = p + 2;
      p = scan_string(from);
      if (p >= stop || (*p != '"' && *p != '\\')) return false;
    }
    cur = p + 1;
    text = {begin, static_cast<std::size_t>(out - begin)};
    unescaped_used += text.size();
    write_json_string(values, text);
    return true;
  }

  bool literal(std::string_view word) noexcept {
    peek();
    if (static_cast<std::size_t>(stop - cur) < word.size() || std::memcmp(cur, word.data(), word.size()) != 0)
      return false;
    cur += word.size();
    return true;
  }

  // The typed value {"T": v} at cur, transcoded into `values`: where it went, and in `t` what
  // capture() needs.
  Span direct_value(JsonOut& values, int depth, Typed& t) {
    std::string_view type;
    if (!eat('{')) return kFailed;
    if (stop - cur >= 3 && cur[0] == '"' && cur[2] == '"' && cur[1] != '"' && cur[1] != '\\' &&
        static_cast<unsigned char>(cur[1]) >= 0x20) [[likely]] {
      type = {cur + 1, 1};  // S, N, M, L: no need to look for the end
      cur += 3;
    } else if (!direct_string(type)) {
      return kFailed;
    }
    if (!eat(':')) return kFailed;
    t.type = type;
    t.is_string = false;
    t.text = {};
    const std::uint32_t begin = u32(values.size());
    if (type.size() == 1) {
      switch (type[0]) {
        case 'S':
          if (!direct_text(values, t.text)) return kFailed;
          t.is_string = true;
          break;
        case 'N':
          if (!direct_string(t.text) || !write_json_number(values, t.text)) return kFailed;
          t.is_string = true;
          break;
        case 'M': {
          if (peek() != '{') return kFailed;
          const Span span = direct_map(values, depth + 1, false);
          return span.ok() && eat('}') ? span : kFailed;
        }
        case 'L': {
          const Span span = direct_list(values, depth + 1);
          return span.ok() && eat('}') ? span : kFailed;
        }
        case 'B':
          if (!direct_text(values, t.text) || !is_base64(t.text)) return kFailed;
          t.is_string = true;
          break;
        default:
          return kFailed;
      }
    } else if (type.size() == 2 && type[1] == 'S' && (type[0] == 'S' || type[0] == 'N' || type[0] == 'B')) {
      if (!direct_set(values, type[0])) return kFailed;
    } else if (type == "BOOL") {
      if (literal("true")) {
        values.append("true", 4);
      } else if (literal("false")) {
        values.append("false", 5);
      } else {
        return kFailed;
      }
    } else if (type == "NULL") {
      if (!literal("true")) return kFailed;
      values.append("null", 4);
    } else {
      return kFailed;
    }
    return eat('}') ? Span::at(begin, u32(values.size()) - begin) : kFailed;
  }

  // The SS, NS or BS at cur, written sorted into `values` by string_set()'s write_set().
  bool direct_set(JsonOut& values, char kind) {
    if (!eat('[')) return false;
    set.clear();
    if (peek() == ']') {
      ++cur;
    } else {
      JsonOut ignored(set_scratch, 0);  // direct_text writes each element; the set is written below
      for (;;) {
        std::string_view element;
        if (!direct_text(ignored, element) || (kind == 'B' && !is_base64(element))) return false;
        set.add(element);
        if (eat(',')) continue;
        if (eat(']')) break;
        return false;
      }
    }
    std::string_view bad;
    return set.write(kind, values, bad);
  }

  // The list at cur: its elements transcoded into `values` one after the other, then written there
  // again as one JSON array, whose place it returns.
  Span direct_list(JsonOut& values, int depth) {
    if (depth > kDirectDepth || !eat('[')) return kFailed;
    const std::size_t base = elements.size();
    if (peek() == ']') {
      ++cur;
    } else {
      for (;;) {
        Typed t;
        const Span element = direct_value(values, depth, t);
        if (!element.ok()) return kFailed;
        elements.push_back(element);
        if (eat(',')) continue;
        if (eat(']')) break;
        return kFailed;
      }
    }
    const std::size_t n = elements.size() - base;
    std::size_t total = 2 + (n == 0 ? 0 : n - 1);
    for (std::size_t i = base; i < elements.size(); ++i) total += elements[i].size();
    const Span span = Span::at(u32(values.size()), u32(total));
    char* d = values.room(total);
    const char* from = d - values.size();  // room() may have moved the buffer: the base after it
    *d++ = '[';
    for (std::size_t i = base; i < elements.size(); ++i) {
      if (i != base) *d++ = ',';
      copy_bytes(d, from + elements[i].begin(), elements[i].size());
      d += elements[i].size();
    }
    *d = ']';
    values.advance(total);
    elements.resize(base);
    return span;
  }

  // The map at cur (an item, or the object of an M): its values transcoded into `values` as they
  // come, then written sorted by name as one JSON object, into `values`, or into `item` for the
  // item itself; returns where.
  Span direct_map(JsonOut& values, int depth, bool top, JsonOut* item = nullptr) {
    if (depth > kDirectDepth || !eat('{')) return kFailed;
    const std::size_t base = dfields.size();
    const std::size_t ordinal = shapes.next_place();
    // The names the map at this place of the last item had, in the order they came: each is checked
    // where the next name should be, by a comparison, instead of looking for its closing quote.
    const Shape* expect = shapes.plain(ordinal);
    const std::size_t expected = expect != nullptr ? expect->size() : 0;
    bool as_expected = expect != nullptr;
    if (peek() == '}') {
      ++cur;
    } else {
      for (std::uint32_t index = 0;; ++index) {
        DirectField f{};
        Typed t;
        if (index < expected) {
          const std::string_view k = expect->key(index);
          if (peek() == '"' && static_cast<std::size_t>(stop - cur) > k.size() + 1 &&
              cur[k.size() + 1] == '"' && equal_bytes(cur + 1, k.data(), k.size())) {
            f.key = {cur + 1, k.size()};
            cur += k.size() + 2;
          } else {
            as_expected = false;
            if (!direct_string(f.key)) return kFailed;
          }
        } else {
          as_expected = false;
          if (!direct_string(f.key)) return kFailed;
        }
        if (!eat(':')) return kFailed;
        const Span value = direct_value(values, depth, t);
        if (!value.ok()) return kFailed;
        f.begin = value.begin();
        f.size = value.size();
        f.index = index;
        dfields.push_back(f);
        if (top) classifier.capture(f.key, [&] { return t; });
        if (eat(',')) continue;
        if (eat('}')) break;
        return kFailed;
      }
    }
    DirectField* first = dfields.data() + base;
    const std::size_t n = dfields.size() - base;
    const std::uint32_t* order = nullptr;
    if (as_expected && n == expected) {
      order = expect->order.data();
    } else if (!sort_direct(first, n, ordinal, order)) {
      return kFailed;
    }
    if (top && !classifier.required().empty()) find_missing_required(first, n);
    std::size_t total = 2 + (n == 0 ? 0 : n - 1);
    for (std::size_t i = 0; i < n; ++i) total += first[i].key.size() + 3 + first[i].size;
    JsonOut& to = item != nullptr ? *item : values;
    const Span span = Span::at(u32(to.size()), u32(total));
    char* d = to.room(total);
    const char* from = values.room(0) - values.size();
    *d++ = '{';
    for (std::size_t i = 0; i < n; ++i) {
      const DirectField& f = order != nullptr ? first[order[i]] : first[i];
      if (i != 0) *d++ = ',';
      *d++ = '"';
      copy_bytes(d, f.key.data(), f.key.size());
      d += f.key.size();
      *d++ = '"';
      *d++ = ':';
      copy_bytes(d, from + f.begin, f.size);
      d += f.size;
    }
    *d = '}';
    to.advance(total);
    dfields.resize(base);
    return span;
  }

  // Orders a map's n fields by name: as the shape remembered at `ordinal` says (`order`) when their
  // names match it, else by sorting them in place (and remembering that). False for a duplicate.
  bool sort_direct(DirectField* first, std::size_t n, std::size_t ordinal, const std::uint32_t*& order) {
    Shape* remembered = shapes.slot(ordinal, n);
    if (remembered != nullptr && remembered->matches(first, n)) {
      order = remembered->order.data();
      return true;
    }
    const auto before = [](const DirectField& x, const DirectField& y) {
      return key_compare(x.key, y.key) < 0;
    };
    std::sort(first, first + n, before);
    for (std::size_t i = 1; i < n; ++i) {
      if (first[i].key == first[i - 1].key) return false;
    }
    if (remembered != nullptr) remembered->learn(first, n);
    return true;
  }

  void find_missing_required(const DirectField* first, std::size_t n) {
    for (const std::string& name : classifier.required()) {
      const DirectField* last = first + n;
      if (std::find_if(first, last, [&](const DirectField& f) { return f.key == name; }) == last) {
        classifier.set_missing_required(&name);
        return;
      }
    }
  }

  // The item at cur, into `out`; false unless it is read directly and accepted.
  bool direct_item(JsonOut& out, DecodedPage& page) {
    shapes.begin_item();
    classifier.begin_item();
    JsonOut values(values_buf, 0);
    const std::size_t start = out.size();
    if (peek() != '{' || !direct_map(values, 1, true, &out).ok()) return false;
    DecodedRecord r;
    std::string_view client;
    std::string_view id;
    r.status = classifier.classify(r.time_us, r.has_time, client, id);
    if (r.status != RecordStatus::kOk) return false;
    r.body_offset = u32(start);
    r.body_size = u32(out.size() - start);
    append_span(out, client, r.client_offset, r.client_size);
    append_span(out, id, r.id_offset, r.id_size);
    page.records_.push_back(r);
    return true;
  }

  // A count: digits alone (no sign, fraction or exponent), up to 18 of them, as get_int64 takes them.
  bool direct_integer(std::int64_t& v) noexcept {
    peek();
    const char* p = cur;
    const char* digits = p;
    std::int64_t n = 0;
    while (p < stop && json_text::is_digit(*p) && p - digits < 19) n = n * 10 + (*p++ - '0');
    const auto count = p - digits;
    if (count == 0 || count > 18 || (count > 1 && *digits == '0')) return false;
    if (p < stop && (*p == '.' || *p == 'e' || *p == 'E' || json_text::is_digit(*p))) return false;
    v = n;
    cur = p;
    return true;
  }

  // A JSON number of up to 18 characters (so not one simdjson finds too large) as a double.
  bool direct_double(double& v) noexcept {
    peek();
    const char* p = cur;
    while (p < stop && p - cur <= 18 &&
           (json_text::is_digit(*p) || *p == '-' || *p == '+' || *p == '.' || *p == 'e' || *p == 'E'))
      ++p;
    const std::string_view token(cur, static_cast<std::size_t>(p - cur));
    if (token.size() > 18 || !json_text::is_json_number(token)) return false;
    if (std::from_chars(token.data(), token.data() + token.size(), v).ec != std::errc()) return false;
    cur = p;
    return true;
  }

  // A value without whitespace, numbers or escapes (as DynamoDB writes a LastEvaluatedKey), so that
  // its bytes are what simdjson::to_string writes for it.
  bool direct_plain(int depth) noexcept {
    if (depth > kDirectDepth || cur >= stop) return false;
    const auto next = [this](char c) noexcept {
      if (cur < stop && *cur == c) {
        ++cur;
        return true;
      }
      return false;
    };
    std::string_view s;
    switch (*cur) {
      case '"':
        return direct_string(s);
      case 't':
      case 'f':
      case 'n':
        return literal("true") || literal("false") || literal("null");
      case '{':
        ++cur;
        if (next('}')) return true;
        for (;;) {
          if (cur >= stop || *cur != '"' || !direct_string(s) || !next(':') || !direct_plain(depth + 1))
            return false;
          if (next(',')) continue;
          return next('}');
        }
      case '[':
        ++cur;
        if (next(']')) return true;
        for (;;) {
          if (!direct_plain(depth + 1)) return false;
          if (next(',')) continue;
          return next(']');
        }
      default:
        return false;
    }
  }

  // ConsumedCapacity: null, or an object of strings and numbers with at most one CapacityUnits.
  bool direct_consumed(DecodedPage& page) {
    if (literal("null")) return true;
    if (!eat('{')) return false;
    if (peek() == '}') {
      ++cur;
      return true;
    }
    bool seen = false;
    for (;;) {
      std::string_view key;
      if (!direct_string(key) || !eat(':')) return false;
      if (peek() == '"') {
        std::string_view ignored;
        if (!direct_string(ignored)) return false;
      } else {
        double units = 0;
        if (!direct_double(units)) return false;
        if (key == "CapacityUnits") {
          if (seen) return false;
          seen = true;
          page.consumed_ = units;
        }
      }
      if (eat(',')) continue;
      return eat('}');
    }
  }

  // The page, read directly; false (page half-filled) when it is not for this path.
  bool direct_page(const std::string& body, DecodedPage& page) {
    if (!simdjson::validate_utf8(body.data(), body.size())) return false;
    cur = body.data();
    stop = cur + body.size();
    page_size = body.size();
    unescaped_used = 0;
    dfields.clear();
    elements.clear();
    bool has_items = false;
    bool has_count = false;
    bool has_scanned = false;
    bool has_last_key = false;
    bool has_consumed = false;
    const auto once = [](bool& seen) {
      if (seen) return false;
      seen = true;
      return true;
    };
    if (!eat('{') || peek() == '}') return false;
    for (;;) {
      std::string_view key;
      if (!direct_string(key) || !eat(':')) return false;
      if (key == "Items") {
        if (!once(has_items) || !eat('[')) return false;
        if (page.arena_.size() < body.size()) {
          page.arena_.clear();
          page.arena_.resize(body.size() + body.size() / 32);
        }
        JsonOut out(page.arena_, 0);
        if (peek() == ']') {
          ++cur;
        } else {
          for (;;) {
            if (!direct_item(out, page)) return false;
            if (eat(',')) continue;
            if (eat(']')) break;
            return false;
          }
        }
        page.arena_size_ = out.size();
      } else if (key == "Count") {
        if (!once(has_count) || !direct_integer(page.count_)) return false;
      } else if (key == "ScannedCount") {
        if (!once(has_scanned) || !direct_integer(page.scanned_count_)) return false;
      } else if (key == "LastEvaluatedKey") {
        if (!once(has_last_key) || peek() != '{') return false;
        const char* begin = cur;
        if (!direct_plain(1)) return false;
        page.last_evaluated_key_.assign(begin, cur);
      } else if (key == "ConsumedCapacity") {
        if (!once(has_consumed) || !direct_consumed(page)) return false;
      } else {
        return false;
      }
      if (eat(',')) continue;
      if (eat('}')) break;
      return false;
    }
    return has_items && peek() == '\0' && cur == stop;
  }
};

PageDecoder::PageDecoder(EventAttributes attributes) : impl_(std::make_unique<Impl>(std::move(attributes))) {}
PageDecoder::~PageDecoder() = default;
PageDecoder::PageDecoder(PageDecoder&&) noexcept = default;
PageDecoder& PageDecoder::operator=(PageDecoder&&) noexcept = default;

const EventAttributes& PageDecoder::attributes() const noexcept {
  return impl_->attributes;
}

void PageDecoder::set_direct(bool enabled) noexcept {
  impl_->direct_enabled = enabled;
  impl_->direct_backoff = 0;
  impl_->direct_skips = 0;
}

std::uint64_t PageDecoder::direct_pages() const noexcept {
  return impl_->direct_pages;
}

Status PageDecoder::decode(const std::string& body, DecodedPage& page) {
  page.clear();
  if (body.size() > kMaxBodyBytes) return transcode::page_error("response body larger than 1 GiB");
  Impl& d = *impl_;
  if (d.direct_enabled && body.capacity() - body.size() >= simdjson::SIMDJSON_PADDING) {
    if (d.direct_skips > 0) {
      --d.direct_skips;
    } else if (d.direct_page(body, page)) {
      ++d.direct_pages;
      d.direct_backoff = 0;
      return ok_status();
    } else {
      // What the direct path read of this page is read again: a table whose pages all have
      // something it hands over (escaped names, say) skips it for 1, 2, 4, ... up to 64 pages after
      // each try.
      page.clear();
      d.direct_backoff = std::min(std::max(2 * d.direct_backoff, 1), 64);
      d.direct_skips = d.direct_backoff;
    }
  }
  return d.dom.decode_page(body, Impl::parts(page));
}

Result<std::string> PageDecoder::transcode_item(std::string_view item_json) {
  return impl_->dom.transcode_item(item_json);
}

}  // namespace es
