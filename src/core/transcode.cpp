#include "core/transcode.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <simdjson.h>

#include "core/transcode/direct_page_reader.h"
#include "core/transcode/dom_transcoder.h"
#include "core/transcode/page_parts.h"
#include "core/transcode/shape_cache.h"

// The page decoder: which path reads a page, and the back-off of the direct path. The paths and their
// parts are in src/core/transcode/: the direct path (direct_page_reader, json_cursor), the DOM path
// (dom_transcoder, tape, parse_spaces), and what both use (item_classifier, shape_cache, sorted_set,
// page_parts, bytes).

namespace es {
namespace {

// Bodies past this size could overflow the 32-bit arena offsets; a DynamoDB page is at most 1 MB.
constexpr std::size_t kMaxBodyBytes = std::size_t{1} << 30;

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
  transcode::ShapeCache shapes;  // by the map's place in its item: both paths learn and follow them
  transcode::DirectPageReader direct{attributes, shapes};
  transcode::DomTranscoder dom{attributes, shapes};
  std::uint64_t direct_pages = 0;
  int direct_backoff = 0;  // pages skipped after the last page the direct path handed over
  int direct_skips = 0;    // pages still to skip
  bool direct_enabled = true;

  explicit Impl(EventAttributes a) : attributes(std::move(a)) {}
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // What the paths fill of a page (PageDecoder is DecodedPage's friend).
  static transcode::PageParts parts(DecodedPage& page) noexcept {
    return {page.arena_, page.arena_size_,    page.records_,  page.last_evaluated_key_,
            page.count_, page.scanned_count_, page.consumed_, page.rejected_};
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
    } else if (d.direct.read_page(body, Impl::parts(page))) {
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
