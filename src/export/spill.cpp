#include "export/spill.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "core/encode.h"

namespace es::exporter {
namespace {

constexpr std::size_t kRecordHeader = sizeof(std::int64_t) + 2 * sizeof(std::uint32_t);

Error io_error(const std::string& what, int err) {
  return Error::io(what, std::strerror(err)).with_context("spill");
}

// Min-heap order for std::push_heap (which builds a max-heap): "a after b".
bool heap_after(const StoredEvent& a, const StoredEvent& b) {
  return event_before(b, a);
}

}  // namespace

Result<std::shared_ptr<SpillFile>> SpillFile::create(const std::string& dir) {
  // O_TMPFILE: a file with no name at all; fall back to mkstemp + unlink where unsupported.
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::string path = dir + "/eaglesense-spill-XXXXXX";
    fd = ::mkstemp(path.data());
    if (fd < 0) return io_error(fmt::format("{} (EAGLESENSE_SPILL_DIR)", dir), errno);
    ::unlink(path.c_str());
  }
  return std::shared_ptr<SpillFile>(new SpillFile(fd, dir));
}

SpillFile::~SpillFile() {
  ::close(fd_);
}

Result<std::uint64_t> SpillFile::append(std::string_view bytes) {
  const std::uint64_t at = size_;
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(at + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error(fmt::format("writing {} bytes to a spill file in {}", bytes.size(), dir_), errno);
    }
    done += static_cast<std::size_t>(n);
  }
  size_ += bytes.size();
  return at;
}

Status SpillFile::read_at(std::uint64_t offset, char* out, std::size_t n) const {
  std::size_t done = 0;
  while (done < n) {
    const ssize_t got = ::pread(fd_, out + done, n - done, static_cast<off_t>(offset + done));
    if (got < 0) {
      if (errno == EINTR) continue;
      return io_error(fmt::format("reading a spill file in {}", dir_), errno);
    }
    if (got == 0) return Error::io(dir_, "spill file ended early").with_context("spill");
    done += static_cast<std::size_t>(got);
  }
  return ok_status();
}

void append_run_record(std::string& out, const StoredEvent& e) {
  // Every Lambda architecture (x86_64, arm64) and this build's hosts are little-endian: the host
  // order is the format's.
  static_assert(std::endian::native == std::endian::little, "run records are little-endian");
  char header[kRecordHeader];
  std::memcpy(header, &e.time_us, sizeof e.time_us);
  std::memcpy(header + 8, &e.body_size, sizeof e.body_size);
  std::memcpy(header + 12, &e.id_size, sizeof e.id_size);
  out.append(header, kRecordHeader);
  out.append(e.data, e.body_size + e.id_size);
}

Result<SpilledRun> write_run(const std::shared_ptr<SpillFile>& file, std::vector<StoredEvent>& events,
                             std::string& scratch) {
  sort_events(events);
  SpilledRun run;
  run.file = file;
  run.events = events.size();
  run.offset = file->size();
  // Records are gathered into the caller's buffer (kept from run to run: a fresh one faulted in a
  // page per 4 KiB of every run) and written 256 KiB at a time. Gathering them with pwritev
  // instead, two pieces per record, cost the kernel more than the copy it saved.
  constexpr std::size_t kFlush = 256 << 10;
  scratch.clear();
  scratch.reserve(kFlush + (64 << 10));  // a flush's worth and a record, without doubling
  const auto flush = [&]() -> Status {
    ES_TRY(file->append(scratch));
    run.bytes += scratch.size();
    scratch.clear();
    return ok_status();
  };
  // Sorted, the events lie scattered over the client's arena: each one a cache miss unless fetched
  // ahead (as the writers of objects do).
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i + kPrefetchAhead < events.size()) prefetch_event(events[i + kPrefetchAhead].body());
    const StoredEvent& e = events[i];
    append_run_record(scratch, e);
    run.body_bytes += e.body_size;
    if (scratch.size() >= kFlush) ES_TRY(flush());
  }
  if (!scratch.empty()) ES_TRY(flush());
  return run;
}

RunReader::RunReader(SpilledRun run, std::size_t buffer_bytes)
    : run_(std::move(run)),
      buffer_(std::make_unique_for_overwrite<char[]>(std::max<std::size_t>(buffer_bytes, 4096))),
      capacity_(std::max<std::size_t>(buffer_bytes, 4096)) {}

Result<bool> RunReader::next(StoredEvent& out) {
  auto available = [this] { return end_ - begin_; };
  auto fill = [this](std::size_t need) -> Status {
    // Move the unread tail to the front, grow for an oversized record, then top up from the file.
    std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
    if (need > capacity_) {
      auto bigger = std::make_unique_for_overwrite<char[]>(need);
      std::memcpy(bigger.get(), buffer_.get(), end_);
      buffer_ = std::move(bigger);
      capacity_ = need;
    }
    const std::size_t want = std::min<std::uint64_t>(capacity_ - end_, run_.bytes - read_);
    if (want > 0) {
      ES_TRY(run_.file->read_at(run_.offset + read_, buffer_.get() + end_, want));
      end_ += want;
      read_ += want;
    }
    return ok_status();
  };
  const auto corrupt = [this](std::string message) {
    return Error::invalid_data(run_.file->name(), fmt::format("run at offset {} ({} bytes): {}", run_.offset,
                                                              run_.bytes, std::move(message)))
        .with_context("spill");
  };
  // The bytes of the run not yet consumed: loaded or still in the source.
  const std::uint64_t left = run_.bytes - read_ + available();
  if (available() < kRecordHeader) {
    if (left == 0) return false;
    if (left < kRecordHeader) return corrupt(fmt::format("{} bytes left, less than a record header", left));
    ES_TRY(fill(kRecordHeader));
    if (available() < kRecordHeader) return corrupt("truncated record header");
  }
  std::uint32_t body = 0;
  std::uint32_t id = 0;
  std::memcpy(&body, buffer_.get() + begin_ + 8, sizeof body);
  std::memcpy(&id, buffer_.get() + begin_ + 12, sizeof id);
  // 64-bit arithmetic: two uint32 lengths cannot overflow it. Checked before fill() may grow the
  // buffer to the record's size.
  const std::uint64_t record = std::uint64_t{kRecordHeader} + body + id;
  if (record > left) {
    return corrupt(fmt::format("a record of {} + {} bytes, {} bytes left", body, id, left - kRecordHeader));
  }
  if (available() < record) {
    ES_TRY(fill(static_cast<std::size_t>(record)));
    if (available() < record) return corrupt("truncated record");
  }
  std::memcpy(&out.time_us, buffer_.get() + begin_, sizeof out.time_us);
  out.body_size = body;
  out.id_size = id;
  out.data = buffer_.get() + begin_ + kRecordHeader;
  begin_ += static_cast<std::size_t>(record);
  return true;
}

EventMerger::EventMerger(std::span<const StoredEvent> memory, std::span<const SpilledRun> runs,
                         std::size_t buffer_bytes)
    : memory_(memory) {
  readers_.reserve(runs.size());
  for (const SpilledRun& run : runs) readers_.emplace_back(run, buffer_bytes);
}

Result<bool> EventMerger::fetch(std::size_t source, StoredEvent& e) {
  if (source == 0) {
    if (memory_pos_ == memory_.size()) return false;
    e = memory_[memory_pos_++];
  } else {
    ES_ASSIGN_OR_RETURN(bool more, readers_[source - 1].next(e));
    if (!more) return false;
  }
  // Its bytes are written when it comes out of the heap, about as many events later as there are
  // sources: time enough to fetch them (a run's buffer has left the cache since it was filled).
  prefetch_event(e.body());
  return true;
}

void EventMerger::sift_down() noexcept {
  // The heap's top is the earliest event (no parent comes after its children).
  const std::size_t n = heap_.size();
  const Head x = heap_[0];
  std::size_t i = 0;
  for (;;) {
    std::size_t child = 2 * i + 1;
    if (child >= n) break;
    // The earlier child, chosen by arithmetic: as a branch, mispredicted half the time (the sources'
    // times interleave at random), it cost ~6 % of BM_MergeSpilledRuns.
    if (child + 1 < n)
      child += static_cast<std::size_t>(heap_after(heap_[child].event, heap_[child + 1].event));
    if (!heap_after(x.event, heap_[child].event)) break;
    heap_[i] = heap_[child];
    i = child;
  }
  heap_[i] = x;
}

Result<bool> EventMerger::next(StoredEvent& out) {
  if (!started_) {
    started_ = true;
    heap_.reserve(readers_.size() + 1);
    for (std::size_t s = 0; s <= readers_.size(); ++s) {
      StoredEvent e;
      ES_ASSIGN_OR_RETURN(const bool more, fetch(s, e));
      if (more) heap_.push_back({e, s});
    }
    std::make_heap(heap_.begin(), heap_.end(),
                   [](const Head& a, const Head& b) { return heap_after(a.event, b.event); });
  } else if (!heap_.empty()) {
    // The previous event (the top) stayed valid until now: only now may its source move on. Its
    // next event takes its place, one sift instead of a pop and a push.
    StoredEvent e;
    ES_ASSIGN_OR_RETURN(const bool more, fetch(heap_[0].source, e));
    if (more) {
      heap_[0].event = e;
    } else {
      heap_[0] = heap_.back();
      heap_.pop_back();
    }
    if (!heap_.empty()) sift_down();
  }
  if (heap_.empty()) return false;
  out = heap_[0].event;
  return true;
}

}  // namespace es::exporter
