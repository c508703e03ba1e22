#include "export/upload/event_source.h"

#include "core/encode.h"

namespace es::exporter {

Result<bool> SortedEvents::next(StoredEvent& event) {
  if (next_ == events_.size()) return false;
  if (next_ + kPrefetchAhead < events_.size()) prefetch_event(events_[next_ + kPrefetchAhead].body());
  event = events_[next_++];
  return true;
}

Result<bool> MergedEvents::next(StoredEvent& event) {
  if (!merger_) {
    merger_.emplace(memory_, runs_, buffer_bytes_);
  }
  Result<bool> more = merger_->next(event);
  if (!more.ok()) failed_ = true;
  return more;
}

}  // namespace es::exporter
