#pragma once
/// Spilling: when the events buffered for an hour pass the memory budget, a reader thread sorts each
/// client's events and writes them to a temporary file as one sorted run per client; the writer later
/// merges a client's runs with what is still in memory (k-way, in output order), so an hour of any
/// size is exported with bounded memory.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "export/client_events.h"

namespace es::exporter {

/// Where a run's bytes live: a local spill file, or (scale-out) an object in the ops bucket.
class RunSource {
 public:
  virtual ~RunSource() = default;
  /// Reads exactly n bytes at offset.
  [[nodiscard]] virtual Status read_at(std::uint64_t offset, char* out, std::size_t n) const = 0;
  /// True when reading it again is cheap (a local file, in the page cache), not a request.
  [[nodiscard]] virtual bool local() const { return false; }
  /// What errors name it: the spill file's directory, or the run's object.
  [[nodiscard]] virtual std::string name() const = 0;
};

/// An anonymous temporary file (unlinked as soon as it is created, so a crash leaves nothing
/// behind) that runs are appended to and read back from with pread. Appends come from one thread;
/// reads may come from several at once.
class SpillFile final : public RunSource {
 public:
  /// Creates the file in dir (Lambda: /tmp). kIo naming dir on failure.
  [[nodiscard]] static Result<std::shared_ptr<SpillFile>> create(const std::string& dir);
  ~SpillFile() override;
  SpillFile(const SpillFile&) = delete;
  SpillFile& operator=(const SpillFile&) = delete;

  /// Appends bytes; returns the offset they start at.
  [[nodiscard]] Result<std::uint64_t> append(std::string_view bytes);
  /// Reads exactly n bytes at offset.
  [[nodiscard]] Status read_at(std::uint64_t offset, char* out, std::size_t n) const override;
  [[nodiscard]] bool local() const override { return true; }
  [[nodiscard]] std::string name() const override { return "a spill file in " + dir_; }
  [[nodiscard]] std::uint64_t size() const { return size_; }

 private:
  SpillFile(int fd, std::string dir) : fd_(fd), dir_(std::move(dir)) {}
  int fd_;
  std::string dir_;
  std::uint64_t size_ = 0;
};

/// One client's sorted events in a spill file (or another RunSource).
struct SpilledRun {
  std::shared_ptr<const RunSource> file;
  std::uint64_t offset = 0;
  std::uint64_t bytes = 0;
  std::uint64_t events = 0;
  std::uint64_t body_bytes = 0;
};

/// Appends one event in the run record layout: int64 time_us, uint32 body size, uint32 id size,
/// body, id; integers little-endian (scale-out runs travel between machines through S3).
void append_run_record(std::string& out, const StoredEvent& e);

/// Sorts events (event_before) and appends them to file as one run of append_run_record records,
/// gathered in scratch (whose memory the caller keeps for the next run).
[[nodiscard]] Result<SpilledRun> write_run(const std::shared_ptr<SpillFile>& file,
                                           std::vector<StoredEvent>& events, std::string& scratch);

/// Reads a run back in order through a buffer of about buffer_bytes (grown for a larger record).
/// Each record's lengths are checked against the bytes left in the run before the buffer grows: a
/// corrupted header fails with kInvalidData naming the run, never a huge allocation (a staged run's
/// SHA-256 is only known once its last byte is read).
class RunReader {
 public:
  RunReader(SpilledRun run, std::size_t buffer_bytes);
  /// The next event, valid until the next call; false after the last one.
  [[nodiscard]] Result<bool> next(StoredEvent& out);

 private:
  SpilledRun run_;
  // Not a vector: its zero-filling was ~1 % of a spilling hour's CPU (a buffer per run, per pass).
  std::unique_ptr<char[]> buffer_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;  // unread bytes are buffer_[begin_, end_)
  std::size_t end_ = 0;
  std::uint64_t read_ = 0;  // bytes of the run loaded so far
};

/// Merges sorted sources (in-memory vectors and runs) into one sorted stream.
class EventMerger {
 public:
  /// memory: sorted events (they, and what they point to, must outlive the merger); runs: read
  /// through readers of buffer_bytes each.
  EventMerger(std::span<const StoredEvent> memory, std::span<const SpilledRun> runs,
              std::size_t buffer_bytes);
  /// The next event in output order, valid until the next call; false at the end.
  [[nodiscard]] Result<bool> next(StoredEvent& out);

 private:
  struct Head {
    StoredEvent event;
    std::size_t source;  // 0 = memory, 1 + i = run i
  };
  /// The next event of a source (0 = memory, 1 + i = run i); false when it has no more.
  Result<bool> fetch(std::size_t source, StoredEvent& e);
  /// Moves the top of the heap down to its place.
  void sift_down() noexcept;
  std::span<const StoredEvent> memory_;
  std::size_t memory_pos_ = 0;
  std::vector<RunReader> readers_;
  std::vector<Head> heap_;  ///< each source's next event; the top is the one last returned
  bool started_ = false;
};

}  // namespace es::exporter
