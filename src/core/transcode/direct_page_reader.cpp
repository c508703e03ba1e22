#include "core/transcode/direct_page_reader.h"

#include <algorithm>

#include <simdjson.h>

#include "core/transcode/bytes.h"

namespace es::transcode {
namespace {

constexpr Span kFailed{};

}  // namespace

bool DirectPageReader::read_page(const std::string& body, PageParts page) {
  if (!simdjson::validate_utf8(body.data(), body.size())) return false;
  in_.start(body);
  fields_.clear();
  elements_.clear();
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
  if (!in_.eat('{') || in_.peek() == '}') return false;
  for (;;) {
    std::string_view key;
    if (!in_.string(key) || !in_.eat(':')) return false;
    if (key == "Items") {
      if (!once(has_items) || !in_.eat('[')) return false;
      page.reserve_arena(body.size());
      JsonOut out(page.arena, 0);
      if (in_.peek() == ']') {
        in_.skip();
      } else {
        for (;;) {
          if (!read_item(out, page.records)) return false;
          if (in_.eat(',')) continue;
          if (in_.eat(']')) break;
          return false;
        }
      }
      page.arena_size = out.size();
    } else if (key == "Count") {
      if (!once(has_count) || !in_.integer(page.count)) return false;
    } else if (key == "ScannedCount") {
      if (!once(has_scanned) || !in_.integer(page.scanned_count)) return false;
    } else if (key == "LastEvaluatedKey") {
      if (!once(has_last_key) || in_.peek() != '{') return false;
      const char* begin = in_.position();
      if (!in_.plain(1)) return false;
      page.last_evaluated_key.assign(begin, in_.position());
    } else if (key == "ConsumedCapacity") {
      if (!once(has_consumed) || !read_consumed(page)) return false;
    } else {
      return false;
    }
    if (in_.eat(',')) continue;
    if (in_.eat('}')) break;
    return false;
  }
  return has_items && in_.at_end();
}

// The item at the cursor, into `out`; false unless it is read directly and accepted.
bool DirectPageReader::read_item(JsonOut& out, std::vector<DecodedRecord>& records) {
  shapes_.begin_item();
  classifier_.begin_item();
  JsonOut values(values_, 0);
  const std::size_t start = out.size();
  if (in_.peek() != '{' || !read_map(values, 1, true, &out).ok()) return false;
  DecodedRecord r;
  std::string_view client;
  std::string_view id;
  r.status = classifier_.classify(r.time_us, r.has_time, client, id);
  if (r.status != RecordStatus::kOk) return false;
  r.body_offset = u32(start);
  r.body_size = u32(out.size() - start);
  append_span(out, client, r.client_offset, r.client_size);
  append_span(out, id, r.id_offset, r.id_size);
  records.push_back(r);
  return true;
}

// The map at the cursor (an item, or the object of an M): its values transcoded into `values` as they
// come, then written sorted by name as one JSON object, into `values`, or into `item` for the item
// itself; returns where.
Span DirectPageReader::read_map(JsonOut& values, int depth, bool top, JsonOut* item) {
  if (depth > kDirectDepth || !in_.eat('{')) return kFailed;
  const std::size_t base = fields_.size();
  const std::size_t place = shapes_.next_place();
  // The names the map at this place of the last item had, in the order they came: each is checked
  // where the next name should be, by a comparison, instead of looking for its closing quote.
  const Shape* expect = shapes_.plain(place);
  const std::size_t expected = expect != nullptr ? expect->size() : 0;
  bool as_expected = expect != nullptr;
  if (in_.peek() == '}') {
    in_.skip();
  } else {
    for (std::uint32_t index = 0;; ++index) {
      Field f{};
      Typed t;
      if (index >= expected || !in_.name(expect->key(index), f.key)) {
        as_expected = false;
        if (!in_.string(f.key)) return kFailed;
      }
      if (!in_.eat(':')) return kFailed;
      const Span value = read_value(values, depth, t);
      if (!value.ok()) return kFailed;
      f.begin = value.begin();
      f.size = value.size();
      f.index = index;
      fields_.push_back(f);
      if (top) classifier_.capture(f.key, [&] { return t; });
      if (in_.eat(',')) continue;
      if (in_.eat('}')) break;
      return kFailed;
    }
  }
  Field* first = fields_.data() + base;
  const std::size_t n = fields_.size() - base;
  const std::uint32_t* order = nullptr;
  if (as_expected && n == expected) {
    order = expect->order.data();
  } else if (!order_fields(first, n, place, order)) {
    return kFailed;
  }
  if (top && !classifier_.required().empty()) find_missing_required(first, n);
  std::size_t total = 2 + (n == 0 ? 0 : n - 1);
  for (std::size_t i = 0; i < n; ++i) total += first[i].key.size() + 3 + first[i].size;
  JsonOut& to = item != nullptr ? *item : values;
  const Span span = Span::at(u32(to.size()), u32(total));
  char* d = to.room(total);
  const char* from = values.room(0) - values.size();
  *d++ = '{';
  for (std::size_t i = 0; i < n; ++i) {
    const Field& f = order != nullptr ? first[order[i]] : first[i];
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
  fields_.resize(base);
  return span;
}

// Orders a map's n fields by name: as the shape remembered at `place` says (`order`) when their
// names match it, else by sorting them in place (and remembering that). False for a duplicate.
bool DirectPageReader::order_fields(Field* first, std::size_t n, std::size_t place,
                                    const std::uint32_t*& order) {
  Shape* remembered = shapes_.slot(place, n);
  if (remembered != nullptr && remembered->matches(first, n)) {
    order = remembered->order.data();
    return true;
  }
  const auto before = [](const Field& x, const Field& y) { return key_compare(x.key, y.key) < 0; };
  std::sort(first, first + n, before);
  for (std::size_t i = 1; i < n; ++i) {
    if (first[i].key == first[i - 1].key) return false;
  }
  if (remembered != nullptr) remembered->learn(first, n);
  return true;
}

// The first of EventAttributes::required absent from the item's n fields (in any order).
void DirectPageReader::find_missing_required(const Field* first, std::size_t n) {
  for (const std::string& name : classifier_.required()) {
    const Field* last = first + n;
    if (std::find_if(first, last, [&](const Field& f) { return f.key == name; }) == last) {
      classifier_.set_missing_required(&name);
      return;
    }
  }
}

// The typed value {"T": v} at the cursor, transcoded into `values`: where it went, and in `t` what
// the classifier needs.
Span DirectPageReader::read_value(JsonOut& values, int depth, Typed& t) {
  std::string_view type;
  if (!in_.eat('{') || !in_.type_key(type) || !in_.eat(':')) return kFailed;
  t.type = type;
  t.is_string = false;
  t.text = {};
  const std::uint32_t begin = u32(values.size());
  if (type.size() == 1) {
    switch (type[0]) {
      case 'S':
        if (!in_.text(values, t.text)) return kFailed;
        t.is_string = true;
        break;
      case 'N':
        if (!in_.string(t.text) || !json_text::write_json_number(values, t.text)) return kFailed;
        t.is_string = true;
        break;
      case 'M': {
        if (in_.peek() != '{') return kFailed;
        const Span span = read_map(values, depth + 1, false);
        return span.ok() && in_.eat('}') ? span : kFailed;
      }
      case 'L': {
        const Span span = read_list(values, depth + 1);
        return span.ok() && in_.eat('}') ? span : kFailed;
      }
      case 'B':
        if (!in_.text(values, t.text) || !is_base64(t.text)) return kFailed;
        t.is_string = true;
        break;
      default:
        return kFailed;
    }
  } else if (type.size() == 2 && type[1] == 'S' && (type[0] == 'S' || type[0] == 'N' || type[0] == 'B')) {
    if (!read_set(values, type[0])) return kFailed;
  } else if (type == "BOOL") {
    if (in_.literal("true")) {
      values.append("true", 4);
    } else if (in_.literal("false")) {
      values.append("false", 5);
    } else {
      return kFailed;
    }
  } else if (type == "NULL") {
    if (!in_.literal("true")) return kFailed;
    values.append("null", 4);
  } else {
    return kFailed;
  }
  return in_.eat('}') ? Span::at(begin, u32(values.size()) - begin) : kFailed;
}

// The list at the cursor: its elements transcoded into `values` one after the other, then written
// there again as one JSON array, whose place it returns.
Span DirectPageReader::read_list(JsonOut& values, int depth) {
  if (depth > kDirectDepth || !in_.eat('[')) return kFailed;
  const std::size_t base = elements_.size();
  if (in_.peek() == ']') {
    in_.skip();
  } else {
    for (;;) {
      Typed t;
      const Span element = read_value(values, depth, t);
      if (!element.ok()) return kFailed;
      elements_.push_back(element);
      if (in_.eat(',')) continue;
      if (in_.eat(']')) break;
      return kFailed;
    }
  }
  const std::size_t n = elements_.size() - base;
  std::size_t total = 2 + (n == 0 ? 0 : n - 1);
  for (std::size_t i = base; i < elements_.size(); ++i) total += elements_[i].size();
  const Span span = Span::at(u32(values.size()), u32(total));
  char* d = values.room(total);
  const char* from = d - values.size();  // room() may have moved the buffer: the base after it
  *d++ = '[';
  for (std::size_t i = base; i < elements_.size(); ++i) {
    if (i != base) *d++ = ',';
    copy_bytes(d, from + elements_[i].begin(), elements_[i].size());
    d += elements_[i].size();
  }
  *d = ']';
  values.advance(total);
  elements_.resize(base);
  return span;
}

// The SS, NS or BS at the cursor, written sorted into `values`.
bool DirectPageReader::read_set(JsonOut& values, char kind) {
  if (!in_.eat('[')) return false;
  set_.clear();
  // text() writes each element's JSON text into `values`: the sorted set is written over them.
  const std::size_t begin = values.size();
  if (in_.peek() == ']') {
    in_.skip();
  } else {
    for (;;) {
      std::string_view element;
      if (!in_.text(values, element) || (kind == 'B' && !is_base64(element))) return false;
      set_.add(element);
      if (in_.eat(',')) continue;
      if (in_.eat(']')) break;
      return false;
    }
  }
  values.truncate(begin);
  std::string_view bad;
  return set_.write(kind, values, bad);
}

// ConsumedCapacity: null, or an object of strings and numbers with at most one CapacityUnits.
bool DirectPageReader::read_consumed(PageParts& page) {
  if (in_.literal("null")) return true;
  if (!in_.eat('{')) return false;
  if (in_.peek() == '}') {
    in_.skip();
    return true;
  }
  bool seen = false;
  for (;;) {
    std::string_view key;
    if (!in_.string(key) || !in_.eat(':')) return false;
    if (in_.peek() == '"') {
      std::string_view ignored;
      if (!in_.string(ignored)) return false;
    } else {
      double units = 0;
      if (!in_.number(units)) return false;
      if (key == "CapacityUnits") {
        if (seen) return false;
        seen = true;
        page.consumed = units;
      }
    }
    if (in_.eat(',')) continue;
    return in_.eat('}');
  }
}

}  // namespace es::transcode
