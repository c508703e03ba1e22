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
  if (available() < kRecordHeader) {
    if (read_ == run_.bytes && available() == 0) return false;
    ES_TRY(fill(kRecordHeader));
    if (available() < kRecordHeader) return Error::io("spill", "truncated run").with_context("spill");
  }
  std::uint32_t body = 0;
  std::uint32_t id = 0;
  std::memcpy(&body, buffer_.get() + begin_ + 8, sizeof body);
  std::memcpy(&id, buffer_.get() + begin_ + 12, sizeof id);
  const std::size_t record = kRecordHeader + body + id;
  if (available() < record) {
    ES_TRY(fill(record));
    if (available() < record) return Error::io("spill", "truncated run").with_context("spill");
  }
  std::memcpy(&out.time_us, buffer_.get() + begin_, sizeof out.time_us);
  out.body_size = body;
  out.id_size = id;
  out.data = buffer_.get() + begin_ + kRecordHeader;
  begin_ += record;
  return true;
}

EventMerger::EventMerger(std::span<const StoredEvent> memory, std::span<const SpilledRun> runs,
                         std::size_t buffer_bytes)
    : memory_(memory) {
  readers_.reserve(runs.size());
  for (const SpilledRun& run : runs) readers_.emplace_back(run, buffer_bytes);
}

Status EventMerger::advance(std::size_t source) {
  StoredEvent e;
  if (source == 0) {
    if (memory_pos_ == memory_.size()) return ok_status();
    e = memory_[memory_pos_++];
  } else {
    ES_ASSIGN_OR_RETURN(bool more, readers_[source - 1].next(e));
    if (!more) return ok_status();
  }
  heap_.push_back({e, source});
  std::push_heap(heap_.begin(), heap_.end(),
                 [](const Head& a, const Head& b) { return heap_after(a.event, b.event); });
  return ok_status();
}

Result<bool> EventMerger::next(StoredEvent& out) {
  if (!started_) {
    started_ = true;
    for (std::size_t s = 0; s <= readers_.size(); ++s) ES_TRY(advance(s));
  } else if (pending_ != SIZE_MAX) {
    // The previous event stays valid until now: only then may its source move on.
    ES_TRY(advance(pending_));
    pending_ = SIZE_MAX;
  }
  if (heap_.empty()) return false;
  std::pop_heap(heap_.begin(), heap_.end(),
                [](const Head& a, const Head& b) { return heap_after(a.event, b.event); });
  out = heap_.back().event;
  pending_ = heap_.back().source;
  heap_.pop_back();
  return true;
}

}  // namespace es::exporter
