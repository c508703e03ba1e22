#include "core/transcode/dom_transcoder.h"

#include <algorithm>
#include <cstddef>
#include <utility>

#include "core/lease_pool.h"
#include "core/transcode/bytes.h"
#include "core/transcode/parse_spaces.h"

namespace es::transcode {

using json_text::write_json_number;
using json_text::write_json_string;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

DomTranscoder::DomTranscoder(const EventAttributes& attributes, ShapeCache& shapes)
    : shapes_(shapes), classifier_(attributes) {
  ParseSpaces::instance().attach();
}

DomTranscoder::~DomTranscoder() {
  ParseSpaces::instance().detach();
}

Status DomTranscoder::decode_page(const std::string& body, PageParts page) {
  element root;
  // Parsed in place when the caller left the padding simdjson reads past the end; otherwise simdjson
  // copies the body into the parser's own (reused) padded buffer. padded_string_view alone would not
  // check the capacity, and reading past an unpadded buffer is out of bounds.
  const bool needs_copy = body.capacity() - body.size() < simdjson::SIMDJSON_PADDING;
  // Held until the items are transcoded (the DOM lives in it); the page owns everything after.
  const LeasePool<ParseSpace>::Lease space(ParseSpaces::instance().pool());
  if (!space->reserve_for(body.size())) return page_error("out of memory for the parser");
  if (auto err =
          space->parser.parse_into_document(space->doc, body.data(), body.size(), needs_copy).get(root)) {
    return page_error(std::string("malformed JSON: ") + simdjson::error_message(err));
  }
  object envelope;
  if (root.get_object().get(envelope) != simdjson::SUCCESS)
    return page_error("response is not a JSON object");
  array items;
  bool has_items = false;
  bool has_last_key = false;
  for (auto kv : envelope) {
    if (kv.key == "Items") {
      // A second "Items" (or "LastEvaluatedKey") makes the page ambiguous: taking either one could
      // drop items, so the page is refused (found by fuzz_transcode).
      if (has_items) return page_error("duplicate \"Items\"");
      if (kv.value.get_array().get(items) != simdjson::SUCCESS)
        return page_error("\"Items\" is not an array");
      has_items = true;
    } else if (kv.key == "Count") {
      if (kv.value.get_int64().get(page.count) != simdjson::SUCCESS)
        return page_error("\"Count\" is not an integer");
    } else if (kv.key == "ScannedCount") {
      if (kv.value.get_int64().get(page.scanned_count) != simdjson::SUCCESS) {
        return page_error("\"ScannedCount\" is not an integer");
      }
    } else if (kv.key == "LastEvaluatedKey") {
      if (has_last_key) return page_error("duplicate \"LastEvaluatedKey\"");
      has_last_key = true;
      if (!kv.value.is_object()) return page_error("\"LastEvaluatedKey\" is not an object");
      page.last_evaluated_key = simdjson::to_string(kv.value);
    } else if (kv.key == "ConsumedCapacity") {
      double units = 0;
      if (kv.value.at_key("CapacityUnits").get_double().get(units) == simdjson::SUCCESS)
        page.consumed = units;
    }
  }
  if (!has_items) return page_error("response has no \"Items\" array");
  page.reserve_arena(body.size());
  page.records.reserve(items.size());
  JsonOut out(page.arena, 0);
  tape_ = Tape(space->doc);
  std::uint32_t at = items_index(tape_) + 1;
  for (element e : items) {
    decode_item(e, at, out, page);
    at = tape_.after(at);
  }
  page.arena_size = out.size();
  return ok_status();
}

Result<std::string> DomTranscoder::transcode_item(std::string_view item_json) {
  padded_.assign(item_json);
  ensure_json_padding(padded_);
  element root;
  if (auto err = parser_.parse_into_document(document_, padded_.data(), padded_.size(), false).get(root)) {
    return Error::invalid_data("item", std::string("malformed JSON: ") + simdjson::error_message(err));
  }
  tape_ = Tape(document_);
  std::string out;
  JsonOut writer(out, 0);
  if (!item(Tape::kRoot, writer)) return Error::invalid_data("item", error_message());
  out.resize(writer.size());
  return out;
}

// The item `e`, which starts at tape index `at`. A rejected item is kept as it came, minified.
void DomTranscoder::decode_item(element e, std::uint32_t at, JsonOut& out, PageParts& page) {
  DecodedRecord r;
  const std::size_t start = out.size();
  std::string_view client;
  std::string_view id;
  std::string_view message;
  if (!item(at, out)) {
    r.status = RecordStatus::kInvalidItem;
    error_ = error_message();
    message = error_;
  } else {
    r.status = classifier_.classify(r.time_us, r.has_time, client, id);
    message = classifier_.message();
  }
  if (r.status == RecordStatus::kOk) {
    r.body_offset = u32(start);
    r.body_size = u32(out.size() - start);
  } else {
    out.truncate(start);
    append_span(out, simdjson::to_string(e), r.body_offset, r.body_size);
    append_span(out, message, r.message_offset, r.message_size);
    ++page.rejected;
  }
  append_span(out, client, r.client_offset, r.client_size);
  append_span(out, id, r.id_offset, r.id_size);
  page.records.push_back(r);
}

// Transcodes the item at tape index `at` into out; on failure `out` may hold a partial result and
// the error text is built by error_message().
bool DomTranscoder::item(std::uint32_t at, JsonOut& out) {
  path_.clear();
  shapes_.begin_item();
  classifier_.begin_item();
  if (tape_.type(at) != '{') return fail("an item must be a JSON object");
  return map(at, out, 1, true);
}

// Writes an object of attribute name -> typed value (an item or an M) as a sorted plain object.
bool DomTranscoder::map(std::uint32_t obj, JsonOut& out, int depth, bool top) {
  if (depth > kMaxAttributeDepth) {
    return fail("nesting deeper than " + std::to_string(kMaxAttributeDepth) + " levels");
  }
  std::size_t base = 0;
  const Shape* shape = nullptr;
  if (!collect_sorted(obj, base, shape)) return false;
  const std::size_t end = fields_.size();
  if (shape == nullptr) out += '{';
  for (std::size_t i = base; i < end; ++i) {
    const Field f = fields_[i];
    if (shape != nullptr) {
      out.append(shape->rendered_key(i - base));
    } else {
      if (i != base) out += ',';
      write_json_string(out, f.key);
      out += ':';
    }
    if (!value(f.value, out, depth)) {
      path_.push_back(quote_key(f.key));
      pop(base);
      return false;
    }
    if (top) classifier_.capture(f.key, [&] { return typed(f.value); });
  }
  out += '}';
  if (top && !classifier_.required().empty()) find_missing_required(base, end);
  pop(base);
  return true;
}

// Pushes the fields of the object at `obj` onto `fields_`, sorted by key, from `base` on; `shape`
// is the remembered shape they matched or were learnt into, or null. Objects have a handful of
// attributes, so an insertion sort, which also spots duplicates.
bool DomTranscoder::collect_sorted(std::uint32_t obj, std::size_t& base, const Shape*& shape) {
  base = fields_.size();
  shape = nullptr;
  const std::uint32_t end = tape_.close(obj);
  std::uint32_t index = 0;
  for (std::uint32_t i = obj + 1; i < end; i = tape_.after(i + 1))
    fields_.push_back(Field{tape_.string(i), i + 1, index++});
  Field* first = fields_.data() + base;
  Field* last = fields_.data() + fields_.size();
  const auto n = static_cast<std::size_t>(last - first);
  Shape* remembered = shapes_.slot(shapes_.next_place(), n);
  if (remembered != nullptr && remembered->matches(first, n)) {
    reorder_.assign(first, last);
    for (std::size_t i = 0; i < n; ++i) first[i] = reorder_[remembered->order[i]];
    shape = remembered;
    return true;
  }
  bool duplicate = false;
  if (n > 32) {
    // Large maps (up to ~40,000 attributes in a 400 KB item): O(n log n), duplicates checked after.
    std::sort(first, last, [](const Field& x, const Field& y) { return key_compare(x.key, y.key) < 0; });
    for (Field* i = first + 1; i < last && !duplicate; ++i) duplicate = i->key == (i - 1)->key;
    last = first;  // skips the insertion sort below
  }
  for (Field* i = first + (n < 2 ? 0 : 1); i < last; ++i) {  // (first is null when n is 0)
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
    for (std::size_t i = base + 1; i < fields_.size(); ++i) {
      if (fields_[i].key == fields_[i - 1].key) key = quote_key(fields_[i].key);
    }
    pop(base);
    return fail("duplicate attribute name " + key);
  }
  if (remembered != nullptr) {
    remembered->learn(first, n);
    shape = remembered;
  }
  return true;
}

void DomTranscoder::pop(std::size_t base) {
  fields_.erase(fields_.begin() + static_cast<std::ptrdiff_t>(base), fields_.end());
}

// What the classifier needs of the typed value at `v`, once value() found it well formed.
Typed DomTranscoder::typed(std::uint32_t v) const noexcept {
  Typed t;
  t.type = tape_.string(v + 1);
  t.is_string = tape_.type(v + 2) == '"';
  if (t.is_string) t.text = tape_.string(v + 2);
  return t;
}

// The first of EventAttributes::required absent from the item's fields [base, end), sorted by key.
void DomTranscoder::find_missing_required(std::size_t base, std::size_t end) {
  const Field* first = fields_.data() + base;
  const Field* last = fields_.data() + end;
  for (const std::string& name : classifier_.required()) {
    const Field* it =
        std::lower_bound(first, last, std::string_view(name),
                         [](const Field& f, std::string_view k) { return key_compare(f.key, k) < 0; });
    if (it == last || it->key != name) {
      classifier_.set_missing_required(&name);
      return;
    }
  }
}

// Writes the typed value {"T": v} at tape index `at`.
bool DomTranscoder::value(std::uint32_t at, JsonOut& out, int depth) {
  if (tape_.type(at) != '{' || tape_.count(at) != 1) {
    return fail("an attribute value must be an object with exactly one type key (S, N, M, ...)");
  }
  const std::string_view type = tape_.string(at + 1);
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
        if (tape_.type(inner) != '{') return fail("the value of an M must be an object");
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
        if (tape_.type(inner) != 't') return fail("NULL must be true");
        out.append("null");
        return true;
      }
      if (type == "BOOL") {
        if (tape_.type(inner) != 't' && tape_.type(inner) != 'f') return fail("BOOL must be true or false");
        out.append(tape_.type(inner) == 't' ? "true" : "false");
        return true;
      }
      break;
    default:
      break;
  }
  return fail("unknown DynamoDB type " + quote_key(type));
}

bool DomTranscoder::list(std::uint32_t at, JsonOut& out, int depth) {
  if (depth > kMaxAttributeDepth) {
    return fail("nesting deeper than " + std::to_string(kMaxAttributeDepth) + " levels");
  }
  if (tape_.type(at) != '[') return fail("the value of an L must be an array");
  const std::uint32_t end = tape_.close(at);
  out += '[';
  std::size_t index = 0;
  for (std::uint32_t e = at + 1; e < end; e = tape_.after(e)) {
    if (index != 0) out += ',';
    if (!value(e, out, depth)) {
      path_.push_back("[" + std::to_string(index) + "]");
      return false;
    }
    ++index;
  }
  out += ']';
  return true;
}

// SS, NS, BS: arrays of strings, written sorted (see transcode.h).
bool DomTranscoder::string_set(std::string_view type, std::uint32_t at, JsonOut& out) {
  if (tape_.type(at) != '[') return fail("the value of a " + std::string(type) + " must be an array");
  set_.clear();
  const std::uint32_t end = tape_.close(at);
  for (std::uint32_t e = at + 1; e < end; e = tape_.after(e)) {
    std::string_view s;
    if (!string_of(e, type, s)) return false;
    if (type[0] == 'B' && !is_base64(s)) return fail("BS element is not base64");
    set_.add(s);
  }
  std::string_view bad;
  if (!set_.write(type[0], out, bad)) return fail("N value " + quote_key(bad) + " is not a number");
  return true;
}

bool DomTranscoder::not_a_string(std::string_view type) {
  return fail(std::string("the value of a ") + std::string(type) + " must be a JSON string");
}

bool DomTranscoder::number(std::string_view text, JsonOut& out) {
  if (!write_json_number(out, text)) return fail("N value " + quote_key(text) + " is not a number");
  return true;
}

bool DomTranscoder::fail(std::string message) {
  why_ = std::move(message);
  return false;
}

std::string DomTranscoder::error_message() const {
  std::string m = "invalid DynamoDB JSON";
  if (!path_.empty()) {
    m += " at ";
    for (auto it = path_.rbegin(); it != path_.rend(); ++it) {
      if (it != path_.rbegin() && (*it)[0] != '[') m += '.';
      m += *it;
    }
  }
  m += ": ";
  m += why_;
  return m;
}

}  // namespace es::transcode
