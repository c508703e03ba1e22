// libFuzzer target: the DynamoDB-JSON transcoder. The input is taken as a Scan/Query response page
// (PageDecoder::decode) and as a single item (PageDecoder::transcode_item).
//
// Invariants: no crash or sanitizer report; when decode succeeds, one record per element of "Items"
// (counted independently with simdjson On-Demand), every accepted record's body is one valid JSON
// object with a non-empty client id and a parsed time, and every view lies inside the page's arena;
// the direct path (PageDecoder::set_direct) and simdjson's DOM decode every page the same way;
// a successful transcode_item is one valid JSON object.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "core/transcode.h"
#include "json_validity.h"

namespace {

void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz_transcode: invariant broken: %s\n", what);
    std::abort();
  }
}

bool inside(std::string_view arena, std::string_view part) {
  if (part.empty()) return true;
  return part.data() >= arena.data() && part.data() + part.size() <= arena.data() + arena.size();
}

// Number of elements of the top-level "Items" array, or -1 when it cannot be counted.
std::int64_t count_items(const std::string& body) {
  static simdjson::ondemand::parser parser;
  const simdjson::padded_string padded(body);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS) return -1;
  simdjson::ondemand::array items;
  if (doc["Items"].get_array().get(items) != simdjson::SUCCESS) return -1;
  std::size_t n = 0;
  if (items.count_elements().get(n) != simdjson::SUCCESS) return -1;
  return static_cast<std::int64_t>(n);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static es::PageDecoder decoder([] {
    es::EventAttributes a;
    a.required = {"eventId", "clientId", "time"};
    return a;
  }());
  static es::PageDecoder dom = [] {
    es::EventAttributes a;
    a.required = {"eventId", "clientId", "time"};
    es::PageDecoder d(a);
    d.set_direct(false);
    return d;
  }();
  static es::DecodedPage page;
  static es::DecodedPage dom_page;
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  std::string body(input);
  es::ensure_json_padding(body);
  decoder.set_direct(true);  // every input tried directly (no back-off after one handed over)
  const bool decoded = decoder.decode(body, page).ok();
  require(decoded == dom.decode(body, dom_page).ok(), "the direct path and the DOM accept the same pages");
  if (decoded) {
    require(page.count() == dom_page.count() && page.scanned_count() == dom_page.scanned_count() &&
                page.consumed_capacity_units() == dom_page.consumed_capacity_units() &&
                page.last_evaluated_key() == dom_page.last_evaluated_key() &&
                page.rejected_count() == dom_page.rejected_count() &&
                page.records().size() == dom_page.records().size(),
            "the direct path and the DOM read the same envelope");
    for (std::size_t i = 0; i < page.records().size(); ++i) {
      const es::DecodedRecord& a = page.records()[i];
      const es::DecodedRecord& b = dom_page.records()[i];
      require(a.status == b.status && a.has_time == b.has_time && a.time_us == b.time_us &&
                  page.body(a) == dom_page.body(b) && page.client_id(a) == dom_page.client_id(b) &&
                  page.event_id(a) == dom_page.event_id(b) && page.message(a) == dom_page.message(b),
              "the direct path and the DOM decode every item the same way");
    }
  }
  if (decoded) {
    const std::int64_t items = count_items(body);
    require(items >= 0, "decode accepted a page whose Items On-Demand cannot count");
    require(page.records().size() == static_cast<std::size_t>(items), "one record per item");
    std::size_t rejected = 0;
    for (const es::DecodedRecord& r : page.records()) {
      require(inside(page.arena(), page.body(r)), "body inside the arena");
      require(inside(page.arena(), page.client_id(r)), "client id inside the arena");
      require(inside(page.arena(), page.event_id(r)), "event id inside the arena");
      require(inside(page.arena(), page.message(r)), "message inside the arena");
      if (r.ok()) {
        require(es::fuzz::is_valid_json_object(page.body(r)), "an accepted body is one JSON object");
        require(!page.client_id(r).empty(), "an accepted record has a client id");
        require(r.has_time, "an accepted record has a time");
        require(page.message(r).empty(), "an accepted record has no message");
      } else {
        ++rejected;
        require(!page.message(r).empty(), "a rejection says why");
      }
    }
    require(rejected == page.rejected_count(), "rejected_count matches the records");
  }

  auto item = decoder.transcode_item(input);
  if (item.ok()) require(es::fuzz::is_valid_json_object(*item), "transcode_item output is one JSON object");
  return 0;
}
