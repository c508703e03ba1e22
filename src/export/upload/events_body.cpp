#include "export/upload/events_body.h"

#include <algorithm>
#include <cstring>

#include "export/upload/object_sink.h"

namespace es::exporter {

Result<ObjectPass> hash_object(OutputFormat format, EventSource& source) {
  ObjectPass pass;
  ObjectSink sink(nullptr);
  EventWriter writer(format, sink);
  source.rewind();
  StoredEvent e;
  for (;;) {
    ES_ASSIGN_OR_RETURN(const bool more, source.next(e));
    if (!more) break;
    if (pass.events == 0) pass.min_time_us = e.time_us;
    pass.max_time_us = e.time_us;
    ++pass.events;
    ES_TRY(writer.add(e.body()));
  }
  ES_TRY(writer.finish());
  pass.bytes = sink.size();
  pass.digest = sink.digest();
  return pass;
}

EventsBody::EventsBody(OutputFormat format, EventSource& events, std::uint64_t size)
    : format_(format), events_(events), size_(size) {
  rewind();
}

void EventsBody::rewind() {
  events_.rewind();
  finished_ = false;
  window_.overflow.clear();
  window_.overflow_at = 0;
  writer_.emplace(format_, window_);
}

Result<std::size_t> EventsBody::read(char* out, std::size_t room) {
  Window& w = window_;
  w.out = out;
  w.room = room;
  w.filled = 0;
  // First what did not fit in the previous read.
  const std::size_t left = w.overflow.size() - w.overflow_at;
  if (left > 0) {
    w.filled = std::min(left, room);
    std::memcpy(out, w.overflow.data() + w.overflow_at, w.filled);
    w.overflow_at += w.filled;
    if (w.overflow_at == w.overflow.size()) {
      w.overflow.clear();
      w.overflow_at = 0;
    }
  }
  StoredEvent e;
  while (w.filled < room && !finished_) {
    ES_ASSIGN_OR_RETURN(const bool more, events_.next(e));
    if (more) {
      ES_TRY(writer_->add(e.body()));
    } else {
      finished_ = true;
      ES_TRY(writer_->finish());
    }
  }
  return w.filled;
}

Status EventsBody::Window::append(std::string_view bytes) {
  const std::size_t n = std::min(bytes.size(), room - filled);
  if (n > 0) std::memcpy(out + filled, bytes.data(), n);
  filled += n;
  if (n < bytes.size()) overflow.append(bytes.substr(n));
  return ok_status();
}

}  // namespace es::exporter
